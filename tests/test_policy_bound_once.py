"""A form's validation and routing share one binding of the policy functions (Policy.functions
gives the same one again for the same look-ups and day), and one work calendar serves the policy;
another form's look-ups or another day never get an earlier form's binding."""

from datetime import date

from support.policy import make_specs, policy_copy

from automation.policy.lookups import NoLookups
from automation.policy.workbook import load_policy

DAY = date(2026, 11, 2)


class Registered(NoLookups):
    def customer_registered(self, name):
        return True


def test_same_lookups_and_day_share_one_binding(tmp_path):
    policy = load_policy(policy_copy(tmp_path), make_specs())
    mine = Registered()
    bound = policy.functions(DAY, mine)
    assert policy.functions(DAY, mine) is bound
    assert policy.functions(DAY, None) is policy.functions(DAY, None)


def test_other_lookups_or_day_bind_again_and_answer_from_their_own(tmp_path):
    policy = load_policy(policy_copy(tmp_path), make_specs())
    first, second = Registered(), NoLookups()
    registered = "客户已登记"
    assert policy.functions(DAY, first)[registered]("上海甲乙") is True
    assert policy.functions(DAY, second)[registered]("上海甲乙") is False  # not the first form's answers
    assert policy.functions(DAY, first)[registered]("上海甲乙") is True
    today = "今天"
    assert policy.functions(date(2026, 11, 3), first)[today]() == date(2026, 11, 3)
    assert policy.functions(DAY, first)[today]() == DAY


def test_one_calendar_for_the_policy(tmp_path):
    policy = load_policy(policy_copy(tmp_path), make_specs())
    assert policy.calendar is policy.calendar
    assert policy.functions(DAY, None)["工作日数"].args[0].calendar is policy.calendar
