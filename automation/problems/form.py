"""Problems with a form as a whole: the numbers that tie it to a case or a complaint."""

from __future__ import annotations

from automation.problems import kind

case_unknown = kind("case-number-unknown", "申请编号不存在",
                    "「申请编号」填写的 {value} 不存在。新申请请将此格留空;重新提交退回的申请时请保留系统填写的编号。")
case_other_form = kind("case-number-other-form", "申请编号属于其他表单",
                       "「申请编号」{value} 属于「{title}」,不能用于本表单。新申请请将此格留空。")
case_not_returned = kind("case-not-returned", "申请不能重新提交",
                         "申请 {value} 当前状态为「{status}」,只有被「退回修改」的申请才能重新提交。新申请请将「申请编号」留空。")


complaint_unknown = kind("complaint-number-unknown", "投诉编号不存在",
                         "「投诉编号」{value} 在投诉台账中不存在。首次提交投诉时请将此格留空,系统会自动编号;"
                         "后续跟进请填写系统给出的编号。")

# A 校验规则 row of the policy whose condition holds for this form (the message is the row's own).
RULE_BROKEN = kind("policy-rule-broken", "不符合制度", "{message}")

# Personal inboxes: a form can only be submitted in the name of the folder's owner.
NOT_OWNER = kind(
    "submitter-not-owner", "只能以本人名义提交",
    "您只能以本人名义提交:此文件放在「{owner}」的个人收件箱中,而「{field}」({location}) 填写的是「{value}」。"
    "请由「{value}」本人从自己的收件箱 inbox/{value}/ 提交。")
NOT_IN_PERSONAL = kind(
    "submitter-no-personal-inbox", "请从个人收件箱提交",
    "本系统已启用个人收件箱,您只能以本人名义提交:请把表单放入您本人的文件夹 inbox/<您的姓名>/ 中,"
    "而不是 inbox/ 的其他位置。")
