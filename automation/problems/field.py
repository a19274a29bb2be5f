"""Problems with one value of a form: a field that is missing, cannot be read, or breaks what its spec says.

Every message names the field and where it sits (``{location}``: a sheet!cell, a content
control, a table row), so the applicant can find it.
"""

from __future__ import annotations

from automation.problems import WARNING, kind

_FIX = "请核对后重新填写。"

REQUIRED_MISSING = kind("required-missing", "必填项未填写", "「{field}」({location}) 为必填项,请填写后重新提交。")
MONEY_INVALID = kind("money-invalid", "金额无效", "「{field}」({location}) 填写的「{value}」不是有效金额,请填写数字金额(最多两位小数),例如 1234.50。")
DATE_INVALID = kind("date-invalid", "日期无效", "「{field}」({location}) 填写的「{value}」不是有效日期,请按 2026-11-23 的格式填写。")
INTEGER_INVALID = kind("integer-invalid", "整数无效", "「{field}」({location}) 填写的「{value}」不是整数,请填写整数,例如 12。")
NUMBER_INVALID = kind("number-invalid", "数值无效", "「{field}」({location}) 填写的「{value}」不是有效数值,请填写数字,例如 12.5。")
PERCENT_INVALID = kind("percent-invalid", "百分比无效", "「{field}」({location}) 填写的「{value}」不是有效百分比,请填写如 5% 或 0.05。")
CHOICE_INVALID = kind("choice-invalid", "选项无效", "「{field}」({location}) 填写的「{value}」不在可选范围内,请从以下选项中选择:{choices}。")
PHONE_INVALID = kind("phone-invalid", "电话号码无效", "「{field}」({location}) 填写的「{value}」不是有效的电话号码,请填写 11 位手机号或带区号的座机号(如 010-12345678)。")
CREDIT_CODE_INVALID = kind("credit-code-invalid", "统一社会信用代码无效", "「{field}」({location}) {reason},请核对营业执照后重新填写。")
ID_NUMBER_INVALID = kind("id-number-invalid", "身份证号无效", "「{field}」({location}) {reason},请核对身份证后重新填写。")
AMOUNT_UPPER_INVALID = kind("amount-upper-invalid", "大写金额无效", "「{field}」({location}) 填写的「{value}」不是有效的中文大写金额,请按「壹拾贰万零叁佰肆拾伍元陆角柒分」的格式填写。")
AMOUNT_UPPER_MISMATCH = kind("amount-upper-mismatch", "大写与小写不一致", "「{field}」({location}) 为「{value}」,与「{other}」的 {figure} 不一致(大写与小写不一致),应为「{expected}」," + _FIX)
TEXT_TOO_LONG = kind("text-too-long", "内容过长", "「{field}」({location}) 最多 {max_length} 个字,现为 {length} 个字,请精简后重新填写。")
PATTERN_MISMATCH = kind("pattern-mismatch", "格式不符", "「{field}」({location}) 填写的「{value}」格式不符合要求{hint}," + _FIX)
VALUE_BELOW_MIN = kind("value-below-min", "数值过小", "「{field}」({location}) 为 {value},不能小于 {limit}," + _FIX)
VALUE_ABOVE_MAX = kind("value-above-max", "数值过大", "「{field}」({location}) 为 {value},不能大于 {limit}," + _FIX)
MONEY_TOO_PRECISE = kind("money-too-precise", "金额最多两位小数", "「{field}」({location}) 填写的「{value}」超过两位小数:金额最多两位小数(精确到分),请核对后重新填写。")
NUMBER_OUT_OF_RANGE = kind("number-out-of-range", "数值超出范围", "「{field}」({location}) 填写的「{value}」超出可处理的范围(绝对值须小于 1 万亿)," + _FIX)
TABLE_REQUIRED_EMPTY = kind("table-required-empty", "明细未填写", "「{field}」({location}) 至少需要填写一行,请补充后重新提交。")

NAME_MIXED_SCRIPTS = kind(
    "name-mixed-scripts", "名称混用多种文字",
    "「{field}」({location}) 的「{value}」混用了{scripts}:{letters},外形与常见字母相同,可能是仿冒的名称。"
    "请审批人核对营业执照上的名称后再决定。", level=WARNING)

# Person fields are references to the roster (人员).
person_unknown = kind("person-unknown", "人员不在名单中", "「{field}」{value}不在人员名单中{hint}")
person_inactive = kind("person-inactive", "人员已不在职",
                       "「{field}」{value}在人员名单中已标为不在职,请填写在职人员的姓名。")
department_mismatch = kind("department-mismatch", "部门与人员名单不一致",
                           "「{field}」填写的「{value}」与人员名单中{person}的部门「{expected}」不一致,请改为「{expected}」。")
