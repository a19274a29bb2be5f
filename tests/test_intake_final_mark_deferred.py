"""A file's final mark (``moving`` → archived) is committed with the store's next write, not in a
transaction of its own: three commits per form instead of four, and still, after the pass, every
submission is final with exactly one entry saying so, on an intact audit chain."""

from __future__ import annotations

import os
from collections import Counter
from datetime import date

from sqlalchemy import event, select
from support.forms import customers_and_a_trip
from support.workspace import make_workspace

from automation.pipeline import process_pending
from automation.record import audit
from automation.record import schema as s
from automation.runtime import open_runtime

COMMITS_PER_FORM = 3  # receipt, verdict with case and plan, task file; the final mark rides on the next one


def test_a_pass_commits_three_times_per_form_and_leaves_every_submission_final(tmp_path):
    root = make_workspace(tmp_path)
    today = date.today()
    forms = customers_and_a_trip(tmp_path, today)
    rt = open_runtime(root)
    commits: list[int] = []
    event.listen(rt.store.engine, "commit", lambda conn: commits.append(1))
    counts = []
    try:
        process_pending(rt)
        for batch in (forms[:1], forms[1:]):
            for form in batch:
                os.replace(form, root / "inbox" / f"{form.parent.name}{form.suffix}")
            before = len(commits)
            assert process_pending(rt).taken == {"archived": len(batch)}
            counts.append(len(commits) - before)
        with rt.store.read() as conn:
            statuses = Counter(conn.execute(select(s.submissions.c.status)).scalars())
            finals = Counter(conn.execute(select(s.audit_log.c.subject).where(
                s.audit_log.c.action == "file-archived")).scalars())
            report = audit.verify_chain(conn)
    finally:
        rt.close()
    assert statuses == {"archived": len(forms)}
    assert len(finals) == len(forms) and set(finals.values()) == {1}
    assert report.ok
    per_form = (counts[1] - counts[0]) / (len(forms) - 2)
    assert per_form <= COMMITS_PER_FORM, f"{per_form:.1f} commits per form ({counts})"
