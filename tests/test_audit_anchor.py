"""A trail that cannot be shortened: the audit chain's head is anchored outside the store
(checkpoint file, 审批台账), and ``officeflow audit verify`` cross-checks the business tables.
Rows are deleted with plain SQL on the real SQLite store, as an intruder would."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import openpyxl
import pytest
from support.e2e import CUSTOMER, MONDAY, Office, _morning

from automation import samples
from automation.clock import Clock
from automation.record import audit

_BUILT: dict[str, Path] = {}


@pytest.fixture
def contract_office(tmp_path, customer_workspace, tmp_path_factory):
    """A workspace with an approved, numbered and rendered sales contract (built once)."""
    if "contract" not in _BUILT:
        base = tmp_path_factory.mktemp("audit-contract") / "ws"
        shutil.copytree(customer_workspace, base)
        made = Office(root=base, clock=Clock(fixed=_morning(MONDAY)))
        try:
            values, items = samples.sales_contract(CUSTOMER, made.today)
            made.submit("sales_contract", values, items)
            made.run()
            case = made.case(form_id="sales_contract")
            assert made.approve_all(case["number"])["status"] == "approved"
            made.run()
        finally:
            made.close()
        _BUILT["contract"] = base
    root = tmp_path / "ws"
    shutil.copytree(_BUILT["contract"], root)
    office = Office(root=root, clock=Clock(fixed=_morning(MONDAY)))
    yield office
    office.close()


def _db(office: Office) -> sqlite3.Connection:
    office.close()
    return sqlite3.connect(office.root / ".officeflow" / "state.db")


def _count(office: Office) -> int:
    with _db(office) as db:
        return db.execute("SELECT count(*) FROM audit_log").fetchone()[0]


def _delete(office: Office, where: str, params=()) -> int:
    db = _db(office)
    with db:
        n = db.execute(f"DELETE FROM audit_log WHERE {where}", params).rowcount
    db.close()
    return n


def _rechain(office: Office) -> None:
    """Renumber and rehash what is left, so the chain itself verifies (the hash is public)."""
    db = _db(office)
    rows = db.execute("SELECT id, at, actor, action, subject, detail, file, file_hash FROM audit_log ORDER BY id").fetchall()
    prev = audit.GENESIS
    with db:
        db.execute("DELETE FROM audit_log")
        for new_id, (_, at, actor, action, subject, detail, file, file_hash) in enumerate(rows, start=1):
            digest = audit._digest(prev, new_id, at, actor, action, subject, detail, file, file_hash)
            db.execute("INSERT INTO audit_log (id, at, actor, action, subject, detail, file, file_hash, prev_hash, hash)"
                       " VALUES (?,?,?,?,?,?,?,?,?,?)", (new_id, at, actor, action, subject, detail, file, file_hash, prev, digest))
            prev = digest
    db.close()


def _forge_checkpoint(office: Office) -> None:
    """Rewrite the checkpoint file to the shortened chain's head, as an intruder with share access could."""
    db = _db(office)
    entries, digest = db.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    db.close()
    path = office.root / ".officeflow" / audit.CHECKPOINT_FILE
    path.write_text(json.dumps({"entries": entries, "hash": digest}), encoding="utf-8")


def _verify(office: Office, env: dict | None = None):
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "automation", "audit", "verify", "--workspace", str(office.root)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})},
                          stdin=subprocess.DEVNULL)


def _contract_number(office: Office) -> tuple[str, str]:
    with _db(office) as db:
        return db.execute("SELECT c.number, k.number FROM contracts c JOIN cases k ON k.id = c.case_id").fetchone()


def test_intact_trail_verifies_against_checkpoint_register_and_tables(contract_office):
    done = _verify(contract_office)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "检查点" in done.stdout and "审批台账" in done.stdout


def test_approval_register_note_carries_the_chain_head(contract_office):
    ws = openpyxl.load_workbook(contract_office.outbox / "registers" / "审批台账.xlsx").worksheets[0]
    assert "审计链:共" in ws["A1"].value and "末条哈希" in ws["A1"].value
    checkpoint = json.loads((contract_office.root / ".officeflow" / audit.CHECKPOINT_FILE).read_text(encoding="utf-8"))
    assert checkpoint["entries"] == _count(contract_office)


def test_deleting_the_last_audit_row_is_reported(contract_office):
    total = _count(contract_office)
    _delete(contract_office, "id = ?", (total,))
    done = _verify(contract_office)
    assert done.returncode == 1
    assert f"第 {total}–{total} 条已被删除" in done.stderr


def test_deleting_the_last_three_audit_rows_is_reported_with_what_is_missing(contract_office):
    total = _count(contract_office)
    _delete(contract_office, "id > ?", (total - 3,))
    done = _verify(contract_office)
    assert done.returncode == 1
    assert f"第 {total - 2}–{total} 条已被删除" in done.stderr
    assert "在审计链中" in done.stderr, "the business tables name what lost its entries"


def test_deleting_every_audit_row_is_reported(contract_office):
    total = _count(contract_office)
    _delete(contract_office, "1 = 1")
    done = _verify(contract_office)
    assert done.returncode == 1
    assert f"第 1–{total} 条已被删除" in done.stderr
    assert "没有立案记录" in done.stderr and "没有收件记录" in done.stderr


def test_deleting_one_contracts_rows_and_rechaining_is_reported_even_with_a_forged_checkpoint(contract_office):
    contract, case = _contract_number(contract_office)
    assert _delete(contract_office, "subject IN (?, ?)", (contract, case)) > 3
    _rechain(contract_office)
    _forge_checkpoint(contract_office)
    done = _verify(contract_office)
    assert done.returncode == 1
    assert contract in done.stderr and case in done.stderr
    assert "没有生成记录" in done.stderr and "没有立案记录" in done.stderr


def test_truncated_chain_with_forged_checkpoint_fails_the_hmac(contract_office, monkeypatch):
    key = {"OFFICEFLOW_AUDIT_KEY": "只有信息部门知道的密钥"}
    monkeypatch.setenv("OFFICEFLOW_AUDIT_KEY", key["OFFICEFLOW_AUDIT_KEY"])
    contract_office.run()  # signs the checkpoint
    signed = json.loads((contract_office.root / ".officeflow" / audit.CHECKPOINT_FILE).read_text(encoding="utf-8"))
    assert signed.get("hmac")
    total = _count(contract_office)
    _delete(contract_office, "id > ?", (total - 2,))
    _forge_checkpoint(contract_office)
    done = _verify(contract_office, env=key)
    assert done.returncode == 1
    assert "检查点没有签名" in done.stderr


def test_checkpoint_never_moves_back_onto_a_shortened_chain(contract_office):
    total = _count(contract_office)
    path = contract_office.root / ".officeflow" / audit.CHECKPOINT_FILE
    _delete(contract_office, "id > ?", (total - 1,))
    contract_office.run()  # a pass after the deletion
    kept = json.loads(path.read_text(encoding="utf-8"))
    assert kept["entries"] >= total, "the checkpoint still remembers the longer chain"
    assert _verify(contract_office).returncode == 1


def _rendered_at(office: Office, name: str = "审批台账"):
    with _db(office) as db:
        return db.execute("SELECT rendered_at FROM register_state WHERE name = ?", (name,)).fetchone()[0]


def test_register_anchor_follows_the_chain_on_a_pass_that_changes_no_register_row(contract_office):
    register = contract_office.outbox / "registers" / "审批台账.xlsx"
    rendered = _rendered_at(contract_office)
    rows_before = [r for r in openpyxl.load_workbook(register).worksheets[0].iter_rows(min_row=2, values_only=True)]
    (contract_office.root / "inbox" / "乱码.xlsx").write_bytes(b"not a workbook")  # quarantined: no case, no row
    contract_office.run()
    total = _count(contract_office)
    assert _rendered_at(contract_office) == rendered, "the register was not rendered again"
    assert audit.register_anchor(register) == audit.stored_anchor(register)
    book = openpyxl.load_workbook(register)  # the patched workbook opens, with the same rows
    assert [r for r in book.worksheets[0].iter_rows(min_row=2, values_only=True)] == rows_before
    assert audit.stored_anchor(register)[0] == total, "its 说明 line names the new head all the same"
    # An intruder cuts the pass's entries and deletes the checkpoint: the 说明 line still knows.
    _delete(contract_office, "id > ?", (total - 2,))
    (contract_office.root / ".officeflow" / audit.CHECKPOINT_FILE).unlink()
    done = _verify(contract_office)
    assert done.returncode == 1, done.stdout
    assert "审批台账的说明行" in done.stderr and f"第 {total - 1}–{total} 条已被删除" in done.stderr


def test_deleting_the_checkpoint_with_the_tail_is_not_blessed_by_the_next_pass(contract_office):
    register = contract_office.outbox / "registers" / "审批台账.xlsx"
    total = _count(contract_office)
    _delete(contract_office, "id = ?", (total,))
    (contract_office.root / ".officeflow" / audit.CHECKPOINT_FILE).unlink()
    contract_office.run()  # a pass after the cut: it must neither write a checkpoint at the cut nor move the 说明 line
    assert not (contract_office.root / ".officeflow" / audit.CHECKPOINT_FILE).exists()
    assert audit.stored_anchor(register)[0] == total
    audit_db = _db(contract_office)
    audit_db.execute("UPDATE register_state SET dirty = 1 WHERE name = '审批台账'")
    audit_db.commit()
    audit_db.close()
    contract_office.run()  # even a full render of the register keeps the anchor the chain no longer reaches
    assert audit.stored_anchor(register)[0] == total
    done = _verify(contract_office)
    assert done.returncode == 1
    assert f"第 {total}–{total} 条已被删除" in done.stderr


def test_emptying_the_business_tables_is_reported_with_what_is_gone(contract_office):
    db = _db(contract_office)
    db.execute("PRAGMA foreign_keys = OFF")
    with db:
        for table in ("contracts", "tasks", "cases", "submissions"):
            assert db.execute(f"DELETE FROM {table}").rowcount > 0, table
    db.close()
    done = _verify(contract_office)
    assert done.returncode == 1, done.stdout
    for named in ("申请", "合同", "审批任务", "收到的文件"):
        assert f"审计链记录过的{named}" in done.stderr and "已不存在" in done.stderr, named
