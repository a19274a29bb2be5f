"""A task file dragged into a decision folder unopened is not parsed again: its SHA-256 is the one recorded
when OfficeFlow wrote it (the 'task-file-written' entry), so its inputs are known to be blank and its form
data to be what the task's fingerprint was made from (decide.scan.untouched_decision_file / Issued).

The fast path is proven equal to the reference (read_decision_file + read_props + fingerprints) on real task
files of Excel and Word forms issued by the real writer; any change of the bytes means the ordinary read.
"""

from __future__ import annotations

import os
import shutil

import openpyxl
import pytest
from support.e2e import Office, set_named

from automation import samples
from automation.decide import scan
from automation.decide.integrity import fingerprints
from automation.decide.officefile import TASK_PROP, read_props
from automation.forms import raw as raw_module
from automation.forms import docx_reader, xlsx_reader
from automation.fsutil import sha256_file
from automation.record import codec
from automation.record import schema as s

FORMS = (("customer_registration", lambda today: samples.customer_registration(11, today)),
         ("expense_claim", samples.expense_claim),
         ("trip_request", samples.trip_request),
         ("complaint", samples.complaint))


def _reads(monkeypatch) -> list:
    """Every opening of a decision file for its inputs (the real reader still does the work)."""
    calls = []
    real = scan.read_decision_file

    def counted(candidate):
        calls.append(candidate.path.name)
        return real(candidate)

    monkeypatch.setattr(scan, "read_decision_file", counted)
    return calls


def _open_task_files(office: Office) -> list:
    approvals = office.outbox / "approvals"
    return sorted(p for person in approvals.iterdir() if person.is_dir()
                  for p in person.iterdir() if p.is_file() and p.suffix in (".xlsx", ".docx"))


@pytest.fixture(scope="module")
def issued(tmp_path_factory):
    office = Office.create(tmp_path_factory.mktemp("untouched"))
    for spec_id, values in FORMS:
        made = values(office.today)
        office.submit(spec_id, *(made if isinstance(made, tuple) else (made,)))
    office.run()
    files = _open_task_files(office)
    assert {p.suffix for p in files} == {".xlsx", ".docx"} and len(files) == len(FORMS)
    yield office, files
    office.close()


def test_untouched_task_file_reads_as_the_fast_path_assumes(issued):
    """Reference read of every task file as written == what the fast path takes for granted."""
    office, files = issued
    rt = office.rt
    for path in files:
        candidate = scan.Candidate(path, path.parent.name, "同意")
        file_hash, known = scan._as_issued(rt.store, path)
        assert file_hash == sha256_file(path)[0]
        assert known is not None, f"{path.name}: its hash was not recorded when written"
        raw_module._READ.clear()
        xlsx_reader._HANDED_ON.clear()
        docx_reader._HANDED_ON.clear()
        assert scan.read_decision_file(candidate) == scan.untouched_decision_file(candidate), path.name
        assert read_props(path)[TASK_PROP] == str(known.task_id)
        task = office.rows(s.tasks, s.tasks.c.id == known.task_id)[0]
        assert task["fingerprint"] == known.fingerprint
        case = office.rows(s.cases, s.cases.c.id == task["case_id"])[0]
        assert task["fingerprint"] in fingerprints(path, rt.specs[case["form_id"]]), path.name


def test_a_changed_byte_is_not_taken_for_the_written_file(issued, tmp_path):
    office, files = issued
    for path in files:
        copy = tmp_path / path.name
        data = bytearray(path.read_bytes())
        data[-1] ^= 1  # the zip's comment length byte: still the same values, other bytes
        copy.write_bytes(bytes(data))
        assert scan._as_issued(office.rt.store, copy)[1] is None


def test_decision_by_move_of_an_untouched_file_opens_no_file(tmp_path, monkeypatch):
    office = Office.create(tmp_path)
    try:
        office.submit("trip_request", samples.trip_request(office.today))
        office.submit("customer_registration", samples.customer_registration(3, office.today))
        office.run()
        reads = _reads(monkeypatch)
        moved = [office.approve(p.parent.name, p.name.split(" ")[0]) for p in _open_task_files(office)]
        office.run()
        assert reads == []
        assert [t["status"] for t in office.rows(s.tasks)].count("approved") == len(moved)
        decided = office.audit("task-decided")
        assert len(decided) == len(moved)
        assert {r["file_hash"] for r in decided} == {r["file_hash"] for r in office.audit("task-file-written")}
        assert not office.audit(scan.REFUSED)
        office.run()  # nothing is decided twice
        assert len(office.audit("task-decided")) == len(moved)
        # A run killed after the decision committed, before the file left 同意/: the same bytes lie there again.
        done = sorted((moved[0].parent.parent / "已办").glob(f"{moved[0].stem}*"))
        assert len(done) == 1
        shutil.move(str(done[0]), moved[0])
        office.run()
        assert len(office.audit("task-decided")) == len(moved) and not office.audit(scan.REFUSED)
        assert not moved[0].exists() and len(list((moved[0].parent.parent / "已办").glob(f"{moved[0].stem}*"))) == 1
    finally:
        office.close()


def _moved_after(office: Office, monkeypatch, seed: int, change) -> str:
    """A customer registration's task file changed by ``change(path)``, then dragged into 同意/ and
    processed; asserts it was opened the ordinary way (once) and returns its case number."""
    office.submit("customer_registration", samples.customer_registration(seed, office.today))
    office.run()
    path = _open_task_files(office)[0]
    change(path)
    person, number = path.parent.name, path.name.split(" ")[0]
    reads = _reads(monkeypatch)
    office.approve(person, number)
    office.run()
    assert len(reads) == 1
    return number


def _saved_again(path) -> None:
    wb = openpyxl.load_workbook(path)
    wb.save(path)


def test_changed_form_data_in_a_moved_file_is_read_and_refused(tmp_path, monkeypatch):
    office = Office.create(tmp_path)
    try:
        number = _moved_after(office, monkeypatch, 4, lambda path: set_named(path, {"客户名称": "另一家有限公司"}))
        refused = office.audit(scan.REFUSED)
        assert [r["subject"] for r in refused] == [number]
        assert codec.loads(refused[0]["detail"])["code"] == "decision-data-changed"
        assert not office.audit("task-decided")
    finally:
        office.close()


def test_file_saved_again_unchanged_is_read_and_counts(tmp_path, monkeypatch):
    """The fallback: other bytes, same form data (saved by a program) — read the ordinary way, and it counts."""
    office = Office.create(tmp_path)
    try:
        _moved_after(office, monkeypatch, 5, _saved_again)
        assert len(office.audit("task-decided")) == 1 and not office.audit(scan.REFUSED)
    finally:
        office.close()


def test_untouched_file_saved_in_place_holds_nothing_to_do(tmp_path, monkeypatch):
    """A task file touched (new stamp) but byte-identical holds no 审批结论: not opened, nothing decided."""
    office = Office.create(tmp_path)
    try:
        office.submit("trip_request", samples.trip_request(office.today))
        office.run()
        path = _open_task_files(office)[0]
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
        reads = _reads(monkeypatch)
        office.run()
        assert reads == []
        assert not office.audit("task-decided") and not office.audit(scan.REFUSED)
        assert path.exists()
    finally:
        office.close()
