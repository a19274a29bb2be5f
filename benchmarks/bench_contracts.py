"""Approved contracts per second: number + Word file + contract row, then the PDFs of the batch.

    python benchmarks/bench_contracts.py [--contracts 100] [--pdf 10] [--naive-forms 20]

Each contract is what an approval does: allocate its number (the contract row of
合同台账), render the shipped 销售合同.docx template for it and record the
outcome — CPU and wall per contract, the first (cold: the template compiled)
apart from the rest. Then the PDFs: ``--pdf`` contracts in ONE LibreOffice run
(as a pass does), against one LibreOffice run per contract (as before) on the
same files. The naive script (openpyxl load + append + save of a 10,000-row
register, per form) is measured in the same run for the ratio.
Targets (issue 17): ≤ 18 ms CPU per contract without PDF; the PDFs of a pass in one LibreOffice session.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import date
from pathlib import Path

import _common as c

TARGET_MS = 18.0


sys.path.insert(0, str(c.REPO / "tests"))  # the tests' contract fixtures: the shipped template, one customer


def _setup(folder: Path, n: int):
    from support.contracts import add_case, add_customer, make_store, workspace

    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    settings, store = workspace(folder), make_store(folder)
    with store.begin() as conn:
        add_customer(conn)
        ids = [add_case(conn, f"SQ-2026-{i + 1:05d}") for i in range(n)]
    return settings, store, ids


def contracts(folder: Path, n: int) -> tuple[dict, list[Path]]:
    from support.contracts import COMPANY
    from support.forms import repo_specs

    from automation.act.contracts import render_for_case
    from automation.policy.numbering import DEFAULT_FORMAT, allocate_contract_number

    settings, store, ids = _setup(folder, n)
    spec, template = repo_specs()["sales_contract"], settings.contracts / "销售合同.docx"
    made: list[Path] = []

    def one(case_id: int) -> None:
        with store.begin() as conn:
            allocate_contract_number(conn, case_id, DEFAULT_FORMAT, date(2026, 11, 23))
        made.append(render_for_case(store, settings, case_id, template_path=template, company=COMPANY, spec=spec,
                                    pdf=False))

    with c.Meter() as cold:
        one(ids[0])
    with c.Meter() as warm:
        for case_id in ids[1:]:
            one(case_id)
    store.dispose()
    rest = max(1, n - 1)
    result = {"contracts": n, "first": cold.to_dict(), "rest": warm.to_dict(),
              "cpu_ms_per_contract": round(1000 * warm.cpu / rest, 2), "wall_ms_per_contract": round(1000 * warm.wall / rest, 2),
              "per_second_cpu": round(rest / warm.cpu, 1) if warm.cpu else None}
    print(f"  first contract (template compiled): CPU {1000 * cold.cpu:.1f} ms; then {result['cpu_ms_per_contract']:.1f} ms "
          f"CPU, {result['wall_ms_per_contract']:.1f} ms wall per contract → {result['per_second_cpu']} per CPU second", flush=True)
    return result, [p for p in made if p]


def pdfs(docs: list[Path], folder: Path) -> dict:
    from automation.act import pdf

    if not pdf.available():
        print("  LibreOffice not installed: no PDF figures", flush=True)
        return {"available": False}
    one_by_one = folder / "one-by-one"
    one_by_one.mkdir(parents=True, exist_ok=True)
    copies = [Path(shutil.copy(d, one_by_one / d.name)) for d in docs]
    with c.Meter() as batch:
        pdf.to_pdfs(docs)
    with c.Meter() as single:
        for d in copies:
            pdf.to_pdf(d)
    result = {"available": True, "files": len(docs), "one_run": batch.to_dict(), "one_run_per_file": single.to_dict(),
              "batch_speedup_wall": round(single.wall / batch.wall, 2) if batch.wall else None}
    print(f"  PDFs of {len(docs)} contracts: one LibreOffice run {batch.wall:.1f} s wall (CPU {batch.cpu:.1f} s); "
          f"one run per contract {single.wall:.1f} s wall (CPU {single.cpu:.1f} s)", flush=True)
    return result


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contracts", type=int, default=100)
    ap.add_argument("--pdf", type=int, default=10, help="contracts converted to PDF (0: none)")
    c.naive_args(ap)
    args = ap.parse_args(argv)
    folder = c.out_dir("contracts")
    results = {"machine": c.machine()}
    results["render"], docs = contracts(folder / "ws", args.contracts)
    if args.pdf:
        results["pdf"] = pdfs(docs[: args.pdf], folder)
    naive = results["naive_script"] = c.naive_script(folder / "naive", forms=args.naive_forms, rows=args.naive_rows)
    rest = results["render"]["rest"]
    results["ratio"] = c.ratio(naive, max(1, args.contracts - 1), rest["cpu_seconds"], rest["wall_seconds"])
    met = results["render"]["cpu_ms_per_contract"] <= TARGET_MS
    return c.finish("contracts", results, met, f"≤ {TARGET_MS:g} ms CPU per contract without PDF")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
