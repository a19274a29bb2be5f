"""Problems whose cause is the policy (制度.xlsx), not the form: the administrator's to fix."""

from __future__ import annotations

from automation.problems import kind

policy_fault = kind("policy-fault", "制度规则无法计算",
                    "制度中的规则({where})无法计算,问题在制度而不在表单:{message}提交后表单会等待制度修正,修正后自动处理。")
