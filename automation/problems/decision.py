"""Why a decision file handed back by an approver cannot count. Written to the reason file
beside the file (the message) and to the audit entry (code and message)."""

from __future__ import annotations

from automation.problems import NOTICE, kind

conclusion_unknown = kind("decision-conclusion-unknown", "审批结论无法识别",
                          "审批结论「{value}」无法识别,请从 同意、驳回、退回修改、转交、加签 中选择后保存。")
folder_disagrees = kind("decision-folder-disagrees", "文件夹与审批结论不一致",
                        "文件放在「{folder}」文件夹中,但审批结论填写的是「{value}」,两者不一致。"
                        "请修改审批结论或改放到对应的文件夹。")
task_unknown = kind("decision-task-unknown", "找不到对应的审批任务",
                    "无法确定该文件对应的审批任务,请使用系统生成的审批文件办理,不要另存为其他文件。")
wrong_folder = kind("decision-wrong-folder", "不是该任务审批人的文件夹",
                    "该审批任务的审批人是「{assignee}」,文件放在「{owner}」的文件夹中不能作为审批结论;"
                    "审批只能由任务对应的审批人在自己的文件夹中办理。")
not_on_chain = kind("decision-not-open", "不是待办的审批任务",
                    "该审批任务当前状态为「{status}」,不是待办任务,本次操作未计入。")
unreadable = kind("decision-file-unreadable", "审批文件无法读取",
                  "文件无法读取({detail}),请关闭文件后重新保存,或联系管理员。")
data_changed = kind("decision-data-changed", "表单内容被修改",
                    "表单内容在审批过程中被修改,与发出审批时的内容不一致,本次审批结论不能计入。"
                    "审批人只能填写审批结论和审批意见;如需修改表单内容,请选择「退回修改」由申请人修改后重新提交。")
damaged = kind("decision-file-damaged", "审批文件已损坏",
               "文件无法读取或已损坏,本次审批结论未计入。请从「已办」之外的待办文件重新办理;"
               "如文件确已损坏,请联系管理员重新生成审批文件。")
not_allowed = kind("decision-not-allowed", "审批结论不能计入", "{message}")

# What an approver's action needs (转交, 加签, 退回到, a reason): the file comes back to the approver.
reason_missing = kind("decision-reason-missing", "须写明原因",
                      "「{decision}」须写明原因,本次未执行。请打开此文件,在「审批」页的「审批意见」中写明原因后保存"
                      "(拖入文件夹办理的,保存后再拖入「{decision}」文件夹)。")
transfer_forbidden = kind("decision-transfer-forbidden", "本表单不允许转交",
                          "按制度,「{form}」不允许转交,请您本人办理(同意、驳回或退回修改)。")
name_missing = kind("decision-name-missing", "未选择人员",
                    "审批结论为「{decision}」,请在「{cell}」中从下拉列表选择人员后保存。")
name_unknown = kind("decision-name-unknown", "人员不在名单中",
                    "「{cell}」填写的「{value}」不在人员名单中或已离职,本次未执行。{hint}改正后保存即可。")
sign_mode_missing = kind("decision-sign-mode-missing", "未选择加签方式",
                         "审批结论为「加签」,请在「加签方式」中选择 前加签 或 后加签 后保存。")
back_to_unknown = kind("decision-back-to-unknown", "退回到无法识别",
                       "「退回到」填写的「{value}」无法识别,请从下拉列表中选择申请人或之前的某一步。")

# The reason on the copy an applicant gets back after 驳回 or 退回修改: a notice, not a fault of the form.
returned_for_changes = kind("approval-returned", "审批退回修改",
                            "{who}退回修改,原因:{comment}请按审批意见修改后保留「申请编号」重新提交。", level=NOTICE)
rejected = kind("approval-rejected", "审批驳回", "{who}驳回了此申请,原因:{comment}此申请已结束。", level=NOTICE)

# Two different conclusions on one open task found in the same pass: neither counts (decide/conflicts.py).
conflicting = kind("decision-conflicting", "同一任务有两个不同的审批结论",
                   "您对申请 {number} 的同一项审批待办给出了不同的审批结论:{found}。"
                   "两者不一致,均未计入,该待办仍未办理。请只给出一个审批结论。")
already_decided = kind("decision-already-decided", "该任务已办理",
                       "申请 {number} 的这一项审批待办已于 {at} 由「{by}」办理,结论为「{decision}」;"
                       "此文件是该待办的旧副本,本次操作未计入,无需再办理。")
