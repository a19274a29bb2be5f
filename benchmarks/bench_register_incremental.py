"""审批台账 updated for a batch of 1 / 10 / 100 new or changed cases on 50,000 rows of history.

    python benchmarks/bench_register_incremental.py [--history 50000] [--batches 1 10 100] [--repeat 3]

One process (the watcher's situation): a SQLite store filled with ``--history``
past cases (a fifth still open), then the register rendered in full once (no
cache yet: this is also the full rebuild the increments are compared with), then,
per batch size, ``--repeat`` batches of new cases and ``--repeat`` batches of
changed ones (decided, returned), each marked the way the pipeline marks them
(``mark_dirty(..., cases=…)``, 审批台账 and 看板) and rendered with ``render_due``: wall
and CPU seconds per batch (the median; the whole batch, register and 看板), and the full
rebuild measured again at the end (``mark_dirty`` without rows), in the same run, for
the ratio. The last register written is checked against a full rebuild part for part.
The 看板 (rendered whole: its figures are grouped by the database) is measured alone
once too. ``--calendar chinese`` renders with the real working-day calendar
(policy.workcal) instead of Monday–Friday. The naive script is measured too (one
form's worth of it on a 10,000-row register).
Target (issue 17): a watcher batch with 50,000 rows of history updates the register in ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import zipfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import _common as c

TARGET_SECONDS = 0.5
NAME = "审批台账"
DASHBOARD = "看板"
MARKED = [NAME, DASHBOARD]  # what a batch of cases marks (render.registers_for_tables({"cases", "tasks"}))


def _fill(store, n: int) -> None:
    from automation.record import schema as s

    cases = c.case_rows(n, form_id="expense", title="费用报销单", prefix="BX")
    rng = random.Random(3)
    tasks = []
    for case in cases:
        case["applicant"] = f"员工{rng.randrange(300):03d}"
        case["department"] = ("销售一部", "销售二部", "财务部", "行政部", "采购部")[rng.randrange(5)]
        if case["id"] % 5 == 0:
            case["status"], case["decided_at"] = "in_approval", None
            tasks.append({"case_id": case["id"], "round": 1, "step_index": 0, "role": "部门经理", "mode": "依次",
                          "assignee": "李经理", "status": "open", "opened_at": case["created_at"],
                          "due_on": (case["created_at"] + timedelta(days=3)).date()})
    with store.begin() as conn:
        c.insert_chunks(conn, s.cases, cases)
        c.insert_chunks(conn, s.tasks, tasks)


def _render(store, settings, calendar=None):
    from automation.record.registers.definitions import weekdays_between
    from automation.record.registers.render import render_due

    with c.Meter() as m:
        result = render_due(store, settings, today=c.NOW.date(), workdays_between=calendar or weekdays_between,
                            force=True)
    assert NAME in result.rendered, result.to_dict()
    return m, result


def _new_batch(store, size: int, serial: int) -> None:
    from automation.record import schema as s
    from automation.record.registers.render import mark_dirty

    with store.begin() as conn:
        ids = []
        for n in range(size):
            ids.append(conn.execute(s.cases.insert().values(
                number=f"BX-NEW-{serial:03d}-{n:04d}", form_id="expense", form_title="费用报销单", applicant="新员工",
                department="销售一部", amount=Decimal("1234.50") + n, status="in_approval", round=1, data="{}",
                fingerprint="0" * 64, created_at=c.NOW, updated_at=c.NOW)).inserted_primary_key[0])
        conn.execute(s.tasks.insert(), [{"case_id": i, "round": 1, "step_index": 0, "role": "部门经理", "mode": "依次",
                                         "assignee": "李经理", "status": "open", "opened_at": c.NOW,
                                         "due_on": c.NOW.date() + timedelta(days=3)} for i in ids])
        mark_dirty(conn, MARKED, c.NOW, cases=ids)


def _changed_batch(store, size: int, rng: random.Random, history: int) -> None:
    from automation.record import schema as s
    from automation.record.registers.render import mark_dirty

    ids = rng.sample(range(1, history + 1), size)  # anywhere in the history, not only the last rows
    with store.begin() as conn:
        for case_id in ids:
            conn.execute(s.cases.update().where(s.cases.c.id == case_id).values(
                status=rng.choice(("approved", "returned", "rejected")), decided_at=c.NOW))
            conn.execute(s.tasks.update().where(s.tasks.c.case_id == case_id).values(status="approved"))
        mark_dirty(conn, MARKED, c.NOW, cases=ids)


def _parts(path: Path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist() if n != "docProps/core.xml"}


def _same_as_full(store, settings, folder: Path, calendar=None) -> bool:
    from automation.record import audit
    from automation.record.registers.definitions import REGISTERS, RenderContext
    from automation.record.registers.render import register_path
    from automation.record.registers.writer import write_register

    ctx = RenderContext(today=c.NOW.date(), **({"workdays_between": calendar} if calendar else {}))
    ours = register_path(settings.registers, NAME)
    with store.read() as conn:
        rows = REGISTERS[NAME].rows(conn, ctx)
        anchor = audit.register_anchor_text(conn, ours)
    reference = folder / "reference.xlsx"
    write_register(reference, REGISTERS[NAME], rows, rendered_at=ctx.local(store.now()), anchor=anchor)
    return _parts(ours) == _parts(reference)


def _figures(meters) -> dict:
    return {"wall_seconds": round(statistics.median(m.wall for m in meters), 4),
            "cpu_seconds": round(statistics.median(m.cpu for m in meters), 4),
            "cpu_max_seconds": round(max(m.cpu for m in meters), 4), "runs": len(meters)}


def main(argv: list[str]) -> int:
    import shutil

    from automation.clock import Clock
    from automation.record.registers.definitions import weekdays_between
    from automation.record.registers.render import mark_dirty, render_due
    from automation.record.store import open_store
    from automation.settings import load_settings

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--history", type=int, default=50_000)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 10, 100])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--calendar", choices=["weekdays", "chinese"], default="weekdays")
    c.naive_args(ap)
    args = ap.parse_args(argv)
    folder = c.out_dir("register_incremental")
    root = folder / "ws"
    shutil.rmtree(root, ignore_errors=True)
    settings = load_settings(root)
    store = open_store("sqlite:///" + str(root / ".officeflow" / "state.db"), Clock(fixed=c.NOW))
    print(f"填充数据库 / filling the store with {args.history:,} cases …", flush=True)
    _fill(store, args.history)
    with store.begin() as conn:
        mark_dirty(conn, [NAME], c.NOW)
    calendar = None
    if args.calendar == "chinese":
        from automation.policy.workcal import WorkCalendar

        calendar = WorkCalendar().workdays_between  # one calendar for the process, as the watcher keeps it
    first, _ = _render(store, settings, calendar)
    print(first.line("first"), flush=True)
    results = {"machine": c.machine(), "history": args.history, "calendar": args.calendar, "first_full": first.to_dict(), "batches": {}}
    rng = random.Random(9)
    serial = 0
    for size in sorted(set(args.batches)):
        block = results["batches"][str(size)] = {}
        for kind in ("new", "changed"):
            meters = []
            for _ in range(args.repeat):
                serial += 1
                if kind == "new":
                    _new_batch(store, size, serial)
                else:
                    _changed_batch(store, size, rng, args.history)
                meter, result = _render(store, settings, calendar)
                assert result.incremental.get(NAME) == size, result.incremental  # built on the cache
                assert DASHBOARD in result.rendered, result.to_dict()  # the whole batch: register and 看板
                meters.append(meter)
            block[kind] = _figures(meters)
            print(f"  batch {size:4d} {kind:<7}  wall {block[kind]['wall_seconds']:6.3f} s   "
                  f"CPU {block[kind]['cpu_seconds']:6.3f} s (审批台账 + 看板, median of {args.repeat})", flush=True)
    with store.begin() as conn:
        mark_dirty(conn, [NAME], c.NOW)  # no rows named: a full rebuild, measured in the same run
    full, result = _render(store, settings, calendar)
    assert NAME not in result.incremental
    results["full"] = {**full.to_dict(), "rows": result.rendered[NAME]}
    print(full.line("full"), flush=True)
    # The 看板 alone (every batch above rendered it too).
    with store.begin() as conn:
        mark_dirty(conn, ["看板"], c.NOW)
    with c.Meter() as dash:
        assert "看板" in render_due(store, settings, today=c.NOW.date(), workdays_between=calendar or weekdays_between,
                                    force=True).rendered
    results["dashboard_full"] = dash.to_dict()
    print(dash.line("看板"), flush=True)
    _new_batch(store, 1, serial + 1)
    _render(store, settings, calendar)
    results["equal_to_full_rebuild"] = _same_as_full(store, settings, folder, calendar)
    print(f"  last incremental register equals a full rebuild, part for part: {results['equal_to_full_rebuild']}")
    worst = max(b[k]["cpu_seconds"] for b in results["batches"].values() for k in b)
    results["worst_batch_cpu_seconds"] = worst
    results["full_over_worst_batch"] = round(full.cpu / worst, 1) if worst > 0 else None
    print(f"  full rebuild / worst batch (CPU): {results['full_over_worst_batch']}×", flush=True)
    results["naive_script"] = c.naive_script(folder / "naive", forms=args.naive_forms, rows=args.naive_rows)
    results["naive_forms_per_full"] = round(full.cpu / results["naive_script"]["per_form_cpu_seconds"], 2)
    store.dispose()
    met = worst <= TARGET_SECONDS and results["equal_to_full_rebuild"]
    return c.finish("register_incremental", results, met, f"a batch ≤ {TARGET_SECONDS} s CPU on {args.history:,} rows")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
