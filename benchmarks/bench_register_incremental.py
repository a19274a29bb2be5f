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
合同台账 and 客户台账 (``--sales``, on by default) are measured the same way on a contract and a
customer per history case: per batch size, new contracts, and changed ones (a document made:
状态 and 文件; a receipt booked: 已回款 of the contract and of its customer), their rows named as
the writers name them (registers.row_marks), each checked against a full rebuild part for part
at the end, and the full rebuild measured in the same run.
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
SALES = ["合同台账", "客户台账"]


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


def _render(store, settings, calendar=None, names=(NAME,)):
    from automation.record.registers.definitions import weekdays_between
    from automation.record.registers.render import render_due

    with c.Meter() as m:
        result = render_due(store, settings, today=c.NOW.date(), workdays_between=calendar or weekdays_between,
                            force=True)
    assert set(names) <= set(result.rendered), result.to_dict()
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


def _fill_sales(store, n: int) -> None:
    """A contract on each history case and as many customers, every fourth contract on credit terms."""
    from automation.record import schema as s

    rng = random.Random(5)
    cases = [{"id": i, "created_at": c.NOW - timedelta(days=rng.randrange(700)), "amount": Decimal(rng.randrange(10**5, 10**8)) / 100,
              "decided_at": c.NOW} for i in range(1, n + 1)]
    contracts = c.contract_rows_for(cases)
    customers = [{"name": name, "norm_name": name, "grade": "B", "owner": f"销售{i % 40:02d}", "department": "销售一部",
                  "credit_limit": Decimal(rng.randrange(0, 500)) * 1000, "terms_days": 30, "status": "正常",
                  "registered_on": c.NOW.date() - timedelta(days=rng.randrange(900))}
                 for i, name in enumerate(sorted({*c.CUSTOMERS, *(f"存量客户{i:05d}有限公司" for i in range(n - len(c.CUSTOMERS)))}))]
    receivables = [{"customer": k["customer"], "contract_number": k["number"], "amount": k["amount"], "kind": "contract",
                    "on": k["signed_on"]} for k in contracts[::4]]
    with store.begin() as conn:
        c.insert_chunks(conn, s.contracts, contracts)
        c.insert_chunks(conn, s.customers, customers)
        c.insert_chunks(conn, s.receivables, receivables)


def _new_contracts(store, size: int, serial: int) -> None:
    from automation.record import schema as s
    from automation.record.registers.render import mark_dirty

    from automation.record.registers import row_marks

    with store.begin() as conn:
        for n in range(size):
            case_id = conn.execute(s.cases.insert().values(
                number=f"HT-NEW-{serial:03d}-{n:04d}", form_id="sales_contract", form_title="销售合同审批表",
                applicant="新员工", department="销售一部", amount=Decimal("8800.00") + n, status="approved", round=1,
                data="{}", fingerprint="0" * 64, created_at=c.NOW, updated_at=c.NOW)).inserted_primary_key[0]
            made = conn.execute(s.contracts.insert().values(
                case_id=case_id, number=f"HT-2026-N{serial:03d}{n:04d}", year=2026, customer=c.CUSTOMERS[n % 40],
                amount=Decimal("8800.00") + n, signed_on=c.NOW.date(), payment="货到付款", approved_on=c.NOW.date(),
                approvers='["李经理"]', status="待生成", created_at=c.NOW))
            row_marks.contracts_changed(conn, made.inserted_primary_key)
        mark_dirty(conn, SALES, c.NOW)


def _changed_contracts(store, size: int, rng: random.Random, history: int) -> None:
    """Half of them made (状态, 文件), half receipted (已回款 of the contract and its customer)."""
    from sqlalchemy import select

    from automation.record import schema as s
    from automation.record.registers import row_marks
    from automation.record.registers.render import mark_dirty

    k = s.contracts.c
    ids = rng.sample(range(1, history + 1), size)
    with store.begin() as conn:
        for i, contract_id in enumerate(ids):
            if i % 2 == 0:
                conn.execute(s.contracts.update().where(k.id == contract_id).values(
                    status="已生成", file_path=f"outbox/contracts/made-{contract_id}.docx"))
                row_marks.contracts_changed(conn, [contract_id])
            else:
                row = conn.execute(select(k.number, k.customer).where(k.id == contract_id)).one()
                conn.execute(s.receivables.insert().values(customer=row.customer, contract_number=row.number,
                                                           amount=Decimal("-100.00"), kind="receipt", on=c.NOW.date()))
                row_marks.receivable_booked(conn, row.customer, row.number)
        mark_dirty(conn, SALES, c.NOW)


def _sales(store, settings, args, calendar) -> dict:
    from automation.record.registers import incremental
    from automation.record.registers.render import mark_dirty

    print(f"合同台账 / 客户台账: {args.history:,} contracts and customers …", flush=True)
    _fill_sales(store, args.history)
    with store.begin() as conn:
        mark_dirty(conn, SALES, c.NOW, rows={name: None for name in SALES})
    first, _ = _render(store, settings, calendar, SALES)
    out = {"first_full": first.to_dict(), "batches": {}}
    rng = random.Random(13)

    def render():
        meter, result = _render(store, settings, calendar, SALES)
        assert set(SALES) <= set(result.incremental), result.incremental  # built on the caches
        return meter
    out["batches"] = _batches(args, "合同台账 + 客户台账", lambda size, serial: _new_contracts(store, size, serial),
                              lambda size: _changed_contracts(store, size, rng, args.history), render)
    out["equal_to_full_rebuild"] = all(_same_as_full(store, settings, c.out_dir("register_incremental"), calendar, name)
                                       for name in SALES)
    print(f"  合同台账 and 客户台账 equal a full rebuild, part for part: {out['equal_to_full_rebuild']}")
    for name in SALES:  # a full rebuild: no cache to build on
        incremental.discard(incremental.cache_path(settings.state, name))
    with store.begin() as conn:
        mark_dirty(conn, SALES, c.NOW, rows={name: None for name in SALES})
    full, result = _render(store, settings, calendar, SALES)
    assert not set(SALES) & set(result.incremental)
    out["full"] = {**full.to_dict(), "rows": {name: result.rendered[name] for name in SALES}}
    print(full.line("full"), flush=True)
    out["worst_batch_cpu_seconds"] = max(b[k]["cpu_seconds"] for b in out["batches"].values() for k in b)
    return out


def _batches(args, label: str, new, changed, render, sized: bool = False) -> dict:
    """Per batch size, ``--repeat`` batches made by ``new(size, serial)`` and as many by ``changed(size)``,
    each rendered by ``render()`` (``render(size)`` when ``sized``), which returns its meter."""
    batches, serial = {}, 0
    for size in sorted(set(args.batches)):
        block = batches[str(size)] = {}
        for kind in ("new", "changed"):
            meters = []
            for _ in range(args.repeat):
                serial += 1
                if kind == "new":
                    new(size, serial)
                else:
                    changed(size)
                meters.append(render(size) if sized else render())
            block[kind] = _figures(meters)
            print(f"  batch {size:4d} {kind:<7}  wall {block[kind]['wall_seconds']:6.3f} s   "
                  f"CPU {block[kind]['cpu_seconds']:6.3f} s ({label}, median of {args.repeat})", flush=True)
    return batches


def _parts(path: Path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist() if n != "docProps/core.xml"}


def _same_as_full(store, settings, folder: Path, calendar=None, name: str = NAME) -> bool:
    from automation.record import audit
    from automation.record.registers.definitions import REGISTERS, RenderContext
    from automation.record.registers.render import register_path
    from automation.record.registers.writer import write_register

    ctx = RenderContext(today=c.NOW.date(), **({"workdays_between": calendar} if calendar else {}))
    ours = register_path(settings.registers, name)
    with store.read() as conn:
        rows = REGISTERS[name].rows(conn, ctx)
        anchor = audit.register_anchor_text(conn, ours) if name == NAME else ""
    reference = folder / f"reference-{name}.xlsx"
    write_register(reference, REGISTERS[name], rows, rendered_at=ctx.local(store.now()), anchor=anchor)
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
    ap.add_argument("--sales", action=argparse.BooleanOptionalAction, default=True,
                    help="measure 合同台账 and 客户台账 too (default: yes)")
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

    def render(size: int):
        meter, result = _render(store, settings, calendar)
        assert result.incremental.get(NAME) == size, result.incremental  # built on the cache
        assert DASHBOARD in result.rendered, result.to_dict()  # the whole batch: register and 看板
        return meter
    results["batches"] = _batches(args, "审批台账 + 看板", lambda size, serial: _new_batch(store, size, serial),
                                  lambda size: _changed_batch(store, size, rng, args.history), render, sized=True)
    serial = 10_000  # past every batch's serial
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
    if args.sales:
        results["sales"] = _sales(store, settings, args, calendar)
        results["worst_batch_cpu_seconds"] = max(worst, results["sales"]["worst_batch_cpu_seconds"])
    results["naive_script"] = c.naive_script(folder / "naive", forms=args.naive_forms, rows=args.naive_rows)
    results["naive_forms_per_full"] = round(full.cpu / results["naive_script"]["per_form_cpu_seconds"], 2)
    store.dispose()
    met = results["worst_batch_cpu_seconds"] <= TARGET_SECONDS and results["equal_to_full_rebuild"] and (
        results["sales"]["equal_to_full_rebuild"] if args.sales else True)
    return c.finish("register_incremental", results, met, f"a batch ≤ {TARGET_SECONDS} s CPU on {args.history:,} rows")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
