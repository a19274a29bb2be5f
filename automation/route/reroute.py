"""Cases waiting because their chain resolved to nobody are re-routed once the policy allows.

The administrator fixes 制度.xlsx (adds a holder for the role); the next pass
composes the route again from the stored data and opens the tasks. Nothing is
ever approved silently: a case stays 待配置 until a real person holds each step.
"""

from __future__ import annotations

from automation.decide.engine import blocked_case_ids, load_case, unblock_case
from automation.record import codec


def reroute_blocked(rt) -> int:
    from automation.route.chain import compose_route

    with rt.store.read() as conn:
        ids = blocked_case_ids(conn)
    opened = 0
    for case_id in ids:
        with rt.store.begin() as conn:
            case = load_case(conn, case_id)
            spec = rt.specs.get(case["form_id"])
            if spec is None:
                continue
            route = compose_route(rt.policy, spec, codec.loads(case["data"]), applicant=case["applicant"],
                                  department=case["department"], today=rt.clock.today(), lookups=rt.lookups())
            if route.unresolved or not route.steps:
                continue
            opened += len(unblock_case(conn, case_id, route, rt.clock.now(), rt.calendar))
    return opened
