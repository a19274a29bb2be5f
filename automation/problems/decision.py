"""Why a decision file handed back by an approver cannot count. Written to the reason file
beside the file (the message) and to the audit entry (code and message)."""

from __future__ import annotations

from automation.problems import kind

conclusion_unknown = kind("decision-conclusion-unknown", "审批结论无法识别",
                          "审批结论「{value}」无法识别,请从 同意、驳回、退回修改 中选择后保存。")
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
