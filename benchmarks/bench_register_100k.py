"""A 100,000-row 合同台账: our renderer against the naive openpyxl approach.

    python benchmarks/bench_register_100k.py [--rows 100000] [--naive-forms 20]

The parent fills a SQLite store once (bulk inserts), then runs each variant in
its own child process, so every variant's peak memory is measured alone. Both
variants read the same rows from the same store and write the same columns.
Each variant reports wall and CPU seconds and peak memory; the naive script
of the other benchmarks (openpyxl load + append + save of a 10,000-row
register, per form) is measured too, to say how many forms' worth of naive
work one full rebuild costs.
Target (issue 17): a 100k-row rebuild in ≤ 5 s and ≤ 200 MB.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import _common as c

HERE = Path(__file__).resolve()
TARGET_SECONDS, TARGET_MB = 5.0, 200.0


def _store(db: Path):
    from automation.clock import Clock
    from automation.record.store import open_store

    return open_store("sqlite:///" + str(db), Clock(fixed=c.NOW))


def prepare(db: Path, rows: int) -> float:
    db.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    with c.Stopwatch() as sw:
        store = _store(db)
        c.fill_contracts(store, rows)
        store.dispose()
    return sw.seconds


# --- the variants (each runs in a child process) -------------------------------------

def ours(db: Path, out: Path) -> dict:
    """The production path: the register's row query, then the XlsxWriter writer."""
    from automation.record.registers.definitions import REGISTERS, RenderContext
    from automation.record.registers.writer import write_register

    register = REGISTERS["合同台账"]
    ctx = RenderContext(today=c.NOW.date())
    store = _store(db)
    base = c.peak_rss_mb()
    with c.Stopwatch() as total:
        with c.Stopwatch() as read, store.read() as conn:
            rows = register.rows(conn, ctx)
        with c.Stopwatch() as write:
            count = write_register(out, register, rows, rendered_at=ctx.local(c.NOW))
    return {"rows": count, "seconds": total.seconds, "read_seconds": read.seconds, "write_seconds": write.seconds,
            "baseline_mb": base}


def naive(db: Path, out: Path) -> dict:
    """What one writes first: query, 大写 per row, openpyxl in normal mode, every cell an object."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.table import Table, TableStyleInfo
    from sqlalchemy import select

    from automation.forms.parsers import upper_amount
    from automation.record import schema as s
    from automation.record.registers.definitions import REGISTERS

    register = REGISTERS["合同台账"]
    store = _store(db)
    base = c.peak_rss_mb()
    formats = {"money": "#,##0.00", "date": "yyyy-mm-dd"}
    with c.Stopwatch() as total:
        with store.read() as conn:
            t = s.contracts.c
            result = conn.execute(select(t.number, t.customer, t.amount, t.signed_on, t.delivery_on, t.ship_due_on,
                                         t.payment, t.approved_on, t.approvers, t.status, t.file_path).order_by(t.id))
            records = result.all()
        wb = Workbook()
        ws = wb.active
        ws.title = register.name
        ws.append(["说明:本表由 OfficeFlow 自动生成"])
        ws.append(register.headers)
        kinds = [col.kind for col in register.columns]
        for row, r in enumerate(records, start=3):
            ws.append([r.number, r.customer, r.amount, upper_amount(r.amount), r.signed_on, r.delivery_on,
                       r.ship_due_on, r.payment, r.approved_on, r.approvers, r.status, r.file_path])
            for col, kind in enumerate(kinds, start=1):
                if kind in formats:
                    ws.cell(row, col).number_format = formats[kind]
        for i, col in enumerate(register.columns, start=1):
            if col.width:  # built-in registers size their columns from the data (no width declared)
                ws.column_dimensions[get_column_letter(i)].width = col.width
        ref = f"A2:{get_column_letter(len(kinds))}{len(records) + 2}"
        table = Table(displayName=register.table_name, ref=ref)
        table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
        ws.add_table(table)
        ws.freeze_panes = "A3"
        wb.save(out)
    return {"rows": len(records), "seconds": total.seconds, "baseline_mb": base}


VARIANTS = {"ours": ours, "naive": naive}


def child(variant: str, db: Path, out: Path) -> None:
    result = VARIANTS[variant](db, out)
    result["peak_mb"] = c.peak_rss_mb()
    result["file_mb"] = out.stat().st_size / 2**20
    c.emit(result)


# --- the parent ----------------------------------------------------------------------

def _line(name: str, r: dict) -> str:
    return (f"  {name:<6} {r['seconds']:6.2f} s   peak {r['peak_mb']:6.1f} MB "
            f"(after imports {r['baseline_mb']:5.1f} MB)   file {r['file_mb']:5.1f} MB")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--child", choices=sorted(VARIANTS))
    ap.add_argument("--db")
    ap.add_argument("--out")
    ap.add_argument("--skip-naive", action="store_true")
    c.naive_args(ap)
    args = ap.parse_args(argv)
    if args.child:
        child(args.child, Path(args.db), Path(args.out))
        return 0
    folder = c.out_dir("register_100k")
    db = folder / "state.db"
    print(f"填充数据库 / filling the store with {args.rows:,} contracts …", flush=True)
    fill = prepare(db, args.rows)
    results = {"machine": c.machine(), "rows": args.rows, "fill_seconds": fill}
    for variant in ("ours", "naive")[: 1 if args.skip_naive else 2]:
        out = folder / f"合同台账.{variant}.xlsx"
        with c.Meter() as m:
            results[variant] = c.run_child(HERE, "--child", variant, "--db", str(db), "--out", str(out))
        results[variant]["process"] = m.to_dict()
        print(_line(variant, results[variant]), flush=True)
        print(m.line(variant), flush=True)
    o = results["ours"]
    o["meets_target"] = o["seconds"] <= TARGET_SECONDS and o["peak_mb"] <= TARGET_MB
    results["naive_script"] = c.naive_script(folder / "naive", forms=args.naive_forms, rows=args.naive_rows)
    results["naive_forms_per_rebuild"] = round(o["process"]["cpu_seconds"] / results["naive_script"]["per_form_cpu_seconds"], 2)
    print(f"  one rebuild costs the CPU of {results['naive_forms_per_rebuild']:.1f} forms of the naive script")
    if "naive" in results:
        n = results["naive"]
        results["speedup"] = n["seconds"] / o["seconds"]
        results["memory_ratio"] = n["peak_mb"] / o["peak_mb"]
        print(f"  naive/ours: {results['speedup']:.1f}× time, {results['memory_ratio']:.1f}× memory")
    return c.finish("register_100k", results, o["meets_target"], f"≤ {TARGET_SECONDS:.0f} s and ≤ {TARGET_MB:.0f} MB")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
