"""`officeflow check` and `officeflow process` give every file the same verdict: they call the same function."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

from sqlalchemy import select
from support import bad_files
from support.forms import build_blank, fill_xlsx
from support.workspace import make_workspace

from automation import samples
from automation.pipeline import process_pending
from automation.record import schema as s
from automation.runtime import open_runtime


def _customer(folder: Path, name: str, seq: int, **changes) -> Path:
    path = fill_xlsx(build_blank("customer_registration", folder / f"blank{seq}"),
                     dict(samples.customer_registration(seq, date.today()), **changes))
    return path.rename(folder / name)


def _with_broken_sheet(form: Path, dest: Path) -> Path:
    """A workbook whose sheet part is cut off mid-element, as a failed copy leaves it."""
    with zipfile.ZipFile(form) as src, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = data[: len(data) // 2]
            out.writestr(info, data)
    return dest


def _corpus(folder: Path) -> list[Path]:
    made = folder / "made"
    made.mkdir(parents=True)
    corpus = folder / "corpus"
    corpus.mkdir()
    files = [
        _customer(made, "有效的客户登记.xlsx", 1),
        _customer(made, "电话写错的客户登记.xlsx", 2, 联系电话="12345", 客户等级="D"),
        _customer(made, "编造了申请编号.xlsx", 3, 申请编号="SQ-2099-9999"),
        _with_broken_sheet(_customer(made, "原件.xlsx", 4), made / "表格部件损坏.xlsx"),
        bad_files.xlsm_with_macro(made),
        bad_files.entity_bomb_xlsx(made),
        bad_files.zero_byte(made),
        bad_files.valid_xlsx(made, "不是表单的工作簿.xlsx"),
        bad_files.text_file(made),
    ]
    return [Path(shutil.copy2(f, corpus / f.name)) for f in files]


def _check(root: Path, files: list[Path]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "automation", "check", *map(str, files), "--workspace", str(root),
                           "--json"], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300)


def _check_verdicts(result: subprocess.CompletedProcess) -> dict[str, tuple]:
    verdicts = {}
    for item in json.loads(result.stdout)["files"]:
        codes = [p["code"] for p in item["problems"]] if item["form"] else []  # a form's problems, as process records
        verdicts[Path(item["path"]).name] = (item["outcome"], item["code"], sorted(codes))
    return verdicts


def _process_verdicts(root: Path, files: list[Path]) -> dict[str, tuple]:
    for path in files:
        shutil.copy2(path, root / "inbox" / path.name)
    rt = open_runtime(root)
    try:
        process_pending(rt)
        with rt.store.read() as conn:
            rows = [dict(r) for r in conn.execute(select(s.submissions)).mappings()]
    finally:
        rt.close()
    return {r["name"]: (r["outcome"], r["reason_code"], sorted(p["code"] for p in json.loads(r["problems"] or "[]")))
            for r in rows}


def test_check_and_process_give_every_file_of_the_corpus_the_same_verdict(tmp_path):
    root = make_workspace(tmp_path / "ws")
    files = _corpus(tmp_path)
    checked = _check(root, files)
    assert checked.returncode == 1, checked.stderr  # some files have errors; never 3 (内部错误)
    by_check = _check_verdicts(checked)
    assert set(by_check) == {f.name for f in files}, "check answers for every file of its list"
    by_process = _process_verdicts(root, files)
    assert by_process == by_check
    outcomes = {v[0] for v in by_check.values()}
    assert outcomes == {"archived", "returned", "quarantined"}
    assert by_check["表格部件损坏.xlsx"][:2] == ("quarantined", "file-damaged")
    assert by_check["编造了申请编号.xlsx"] == ("returned", "form-invalid", ["case-number-unknown"])
    assert by_check["不是表单的工作簿.xlsx"][0] == "returned"
    assert by_check["有效的客户登记.xlsx"][:2] == ("archived", "accepted")


def test_check_on_a_damaged_workbook_answers_politely_and_goes_on_to_the_next_file(tmp_path):
    root = make_workspace(tmp_path / "ws")
    made = tmp_path / "made"
    made.mkdir()
    damaged = _with_broken_sheet(_customer(made, "原件.xlsx", 5), made / "坏了的表单.xlsx")
    good = _customer(made, "好的表单.xlsx", 6)
    result = subprocess.run([sys.executable, "-m", "automation", "check", str(damaged), str(good), str(made / "没有这个.xlsx"),
                             "--workspace", str(root)], capture_output=True, text=True, stdin=subprocess.DEVNULL,
                            timeout=300, env=dict(os.environ, COLUMNS="250"))
    assert result.returncode == 1, result.stderr
    assert "内部错误" not in result.stdout + result.stderr and "Traceback" not in result.stderr
    assert "损坏" in result.stdout and "检查通过" in result.stdout and "找不到文件" in result.stdout
