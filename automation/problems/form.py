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
