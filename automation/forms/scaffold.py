"""``officeflow forms new 名称``: a new form spec to start from, commented in Chinese.

The scaffold is a complete simple form (an approval and a register) that loads
and builds as it is; the administrator renames and adds fields, then adds its
rows to 制度.xlsx. It never overwrites an existing spec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from automation.errors import SpecError
from automation.fsutil import atomic_write_text
from automation.forms.spec import load_spec, name_problem

_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

TEMPLATE = """\
# {title} —— 由 officeflow forms new 生成。请按实际需要修改字段,然后:
#   1. 运行 officeflow forms build 生成空白表单 forms/{title}.xlsx;
#   2. 在 policies/制度.xlsx 中为「{title}」添加 审批规则(必需)、校验规则、抄送、编号规则 各行;
#   3. 运行 officeflow policy check 检查。
# 以 # 开头的行是说明,不影响表单。
id: {form_id}                # 表单编号:与文件名一致,填好后请勿再改
title: {title}           # 表单名称:员工、审批人和制度.xlsx 中看到的名字
version: "1.0"           # 版本:改动字段后可升为 "1.1",并把旧版本写入 accepted_versions
accepted_versions: []
kind: xlsx               # 表单类型:xlsx(Excel)
description: {title}。
code: {code}                 # 编号代码:申请编号形如 {code}-202611-0001(制度.xlsx 的 编号规则 中可另行设置)
applicant_field: 申请人   # 哪个字段是申请人(须与人员表中的姓名一致)
department_field: 部门    # 哪个字段是部门(审批时找该部门的部门经理)
summary_fields: [事项, 日期, 备注]   # 摘要字段:审批人在「审批」表中首先看到的字段
fields:                  # 字段:key 是字段名;type 可用 text、integer、number、money、date、choice、person 等
  - key: 申请人
    type: person         # person:须是人员表中的姓名
    required: true       # required: true 表示必填
    help: 填表人的姓名,须与人员名单一致。   # help:鼠标移到单元格上时显示的填写提示
  - key: 部门
    type: text
    required: true
    max_length: 30
    help: 申请人所在部门,例如:销售一部。
  - key: 事项
    type: text
    required: true
    max_length: 200
    width: 2             # width:在表单中占几列宽
    help: 简要说明申请的事项。
  - key: 日期
    type: date
    required: true
    help: 请按 2026-11-23 的格式填写。
  - key: 备注
    type: text
    multiline: true      # multiline:可以换行的多行文字
    width: 2
    max_length: 500
    help: 其他需要说明的情况(选填)。
  - key: 申请日期
    type: date
    required: true
    help: 填表当天的日期。
  - key: 申请编号        # 这一项请保留在最后:退回修改后重新提交时,系统靠它接着原来的申请审批
    type: text
    help: 退回修改后重新提交时由系统保留,请勿修改
register:                # 台账:每张表单(审批中的和审批完的)在 outbox/registers/{register}.xlsx 中占一行
  name: {register}
  columns:               # 每一列:field 取表单字段;value 取 编号、状态、申请人、部门、提交日期、完成日期;
                         # compute 写一个与制度.xlsx 条件相同写法的算式,如 工作日天数(开始日期, 结束日期)
    - {{header: 编号, value: 编号}}
    - {{header: 申请人, field: 申请人}}
    - {{header: 部门, field: 部门}}
    - {{header: 事项, field: 事项}}
    - {{header: 日期, field: 日期}}
    - {{header: 月份, compute: 月份(日期)}}
    - {{header: 状态, value: 状态}}
  highlight: '{{状态}}="已驳回"'   # 高亮:写列名(该列为“是”的行标色),或含 {{列名}} 的 Excel 条件
  totals: []             # 合计行:对哪些数字列求和,如 [金额]
  summary:               # 汇总工作表:按哪些列分组计数,[申请人, 月份] 表示两列组合
    by: [申请人, 部门, 月份, 状态]
"""


@dataclass(frozen=True)
class NewForm:
    path: Path
    form_id: str
    title: str

    def to_dict(self) -> dict:
        return {"path": str(self.path), "id": self.form_id, "title": self.title}


def register_name(title: str) -> str:
    """会议室预订单 → 会议室预订台账; 用车申请 → 用车申请台账."""
    stem = title[:-1] if title.endswith(("单", "表")) and len(title) > 1 else title
    return f"{stem}台账"


def new_form_spec(folder: Path | str, title: str, *, form_id: str | None = None, code: str | None = None) -> NewForm:
    """Write ``<folder>/<form_id>.yaml`` for a new form titled ``title``; refuses to overwrite."""
    title = title.strip()
    why = name_problem(title) if title else "不能为空"
    if why:
        raise SpecError(f"表单名称「{title}」不能使用:{why}。")
    form_id = (form_id or title).strip()
    if form_id != title and not _ID_RE.match(form_id):
        raise SpecError(f"表单编号「{form_id}」只能由英文字母、数字和下划线组成,并以字母开头。")
    path = Path(folder) / f"{form_id}.yaml"
    if path.exists():
        raise SpecError(f"{path.name} 已经存在,未做任何改动。请换一个名称,或直接编辑该文件。", location=str(path))
    text = TEMPLATE.format(title=title, form_id=form_id, code=code or "XB", register=register_name(title))
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, text)
    try:
        load_spec(path)  # the scaffold must load as it is; a broken one is never left behind
    except SpecError:
        path.unlink(missing_ok=True)
        raise
    return NewForm(path=path, form_id=form_id, title=title)
