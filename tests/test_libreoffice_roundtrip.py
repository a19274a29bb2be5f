"""Every form of the pack and every kind of task file, re-saved by the real LibreOffice.

Issue 10 acceptance. Each test fills the built blank form the way a person
would, re-saves it through ``soffice --headless --convert-to`` (a batch per
call, a private profile per session: see support/libreoffice.py), drops it into
a real workspace and runs the real pipeline. What LibreOffice 7.4 does to our
files, as found here:

- Word: every content-control ``w:tag`` is dropped; plain-text controls keep
  their ``w:alias`` but come back split into several controls of the same alias
  (the first holds the value, the others repeat pieces of it); date and
  drop-down controls lose even the alias; a line break typed in a multi-line
  control is moved out, in front of it; ``w:showingPlcHdr`` is dropped, so an
  untouched control holds its prompt as plain text; document variables
  (``w:docVars``) are dropped; hidden bookmarked paragraphs and custom
  properties survive.
- Excel: custom properties, defined names (constants too, but their ``hidden``
  flag is dropped), tables and a hidden sheet (``veryHidden`` becomes
  ``hidden``) survive; the file names its producer "LibreOffice" in app.xml.
- Through ODF (docx → odt → docx) a text control becomes an input field and
  comes back as several ``FILLIN`` fields, each showing the whole value, with
  stray pieces of the text between them; the label cell's first field is read.
  The decision drop-down comes back a control without tag or alias, read beside
  「审批结论」. A task file's 申请信息 summary repeats form labels (投诉编号 …)
  with the case's values; once the tags are gone those rows must not be taken
  for the form's own cells, or the fingerprint changes and the decision is
  refused (the complaint's blank 投诉编号 read as the case's number).
  Workbooks (xlsx → ods → xlsx) keep what a direct re-save keeps.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn
from support.e2e import CUSTOMER, DOCX_FORMS, Office, set_named
from support.forms import build_blank, fill_docx, fill_xlsx, repo_specs
from support.libreoffice import resave
from support.xlsx_values import assert_reads_alike

from automation import samples
from support.new_forms import leave, loan, receipt, seal, status_change
from automation.extract.read import read_form
from automation.identify.identify import identify
from automation.record import schema as s

ALL = sorted(repo_specs())
XLSX = [f for f in ALL if repo_specs()[f].kind == "xlsx"]
DOCX = [f for f in ALL if repo_specs()[f].kind == "docx"]


def sample(form_id: str, today) -> tuple[dict, list[dict] | None]:
    """Plausible values for every form of the pack (the customer is registered in customer_office)."""
    if form_id == "customer_registration":
        return samples.customer_registration(50, today), None
    if form_id == "trip_request":
        return samples.trip_request(today), None
    if form_id == "sales_contract":
        return samples.sales_contract(CUSTOMER, today)
    if form_id == "credit_limit":
        return samples.credit_limit(CUSTOMER, today, limit=Decimal("300000.00")), None
    if form_id == "expense_claim":
        return samples.expense_claim(today)
    if form_id == "complaint":
        return {**samples.complaint(today, customer=CUSTOMER), "投诉内容": "设备运行噪音偏大\n第二行说明"}, None
    if form_id == "return_request":
        return ({"原合同编号": "HT-2026-0001", "客户名称": CUSTOMER, "申请人": "王芳", "申请日期": today},
                [{"品名": "工业控制器", "规格型号": "KX-200", "退货数量": 1, "退货原因": "质量问题"}])
    if form_id == "bad_debt":
        return ({"客户名称": CUSTOMER, "原合同编号": "HT-2026-0001", "核销金额": Decimal("1200.00"), "账龄天数": 400,
                 "原因": "客户破产", "办事处经理": "吴强", "区域经理": "吴强", "内务主管": "王芳", "申请人": "王芳",
                 "申请日期": today}, None)
    new_forms = {"leave_request": lambda: leave(today), "seal_request": lambda: seal(today),
                 "loan_request": lambda: loan(today), "customer_status": lambda: status_change(today),
                 "payment_receipt": lambda: receipt("HT-2026-0001", Decimal("1000.00"), today)}
    if form_id in new_forms:
        return new_forms[form_id](), None
    raise AssertionError(f"no sample for {form_id}")


def filled(form_id: str, folder: Path, today) -> Path:
    values, items = sample(form_id, today)
    path = build_blank(form_id, folder / form_id)
    filler = fill_docx if form_id in DOCX_FORMS else fill_xlsx
    filler(path, {k: v for k, v in values.items() if v is not None}, items)
    return path.rename(path.with_name(f"{form_id}.{path.suffix[1:]}"))


@pytest.fixture(scope="module")
def resaved(tmp_path_factory, soffice):
    """Every form filled, and its LibreOffice re-saves: direct, and through ODF and back (5 soffice calls)."""
    root = tmp_path_factory.mktemp("lo-forms")
    from support.e2e import MONDAY

    originals = {f: filled(f, root / "orig", MONDAY) for f in ALL}
    xlsx = [originals[f] for f in XLSX]
    docx = [originals[f] for f in DOCX]
    direct = resave(xlsx, "xlsx", root / "lo") + resave(docx, "docx", root / "lo")
    ods = resave(xlsx, "ods", root / "odf")
    odt = resave(docx, "odt", root / "odf")
    back = resave(ods, "xlsx", root / "odf-back") + resave(odt, "docx", root / "odf-back")
    by_stem = lambda paths: {p.stem: p for p in paths}  # noqa: E731
    return {"original": originals, "lo": by_stem(direct), "odf": by_stem(back)}


def _one_line(values):
    if isinstance(values, str):
        return values.replace("\n", "")
    if isinstance(values, dict):
        return {k: _one_line(v) for k, v in values.items()}
    if isinstance(values, list):
        return [_one_line(v) for v in values]
    return values


def _outcome(office: Office, path: Path) -> tuple:
    shutil.copy(path, office.root / "inbox" / path.name)
    office.run()
    sub = office.submissions()[-1]
    case = office.rows(s.cases, s.cases.c.id == sub["case_id"])[0] if sub["case_id"] else None
    problems = sorted((p["code"], p.get("field")) for p in _problems(sub))
    return sub["outcome"], sub["reason_code"], problems, case["status"] if case else None


def _problems(sub) -> list[dict]:
    import json

    return json.loads(sub["problems"]) if sub["problems"] else []


@pytest.mark.parametrize("route", ["lo", "odf"])
@pytest.mark.parametrize("form_id", ALL)
def test_form_resaved_by_libreoffice_reads_the_same_values(resaved, form_id, route):
    spec = repo_specs()[form_id]
    original, copy = resaved["original"][form_id], resaved[route][form_id]
    found, version, how = identify(copy, spec.kind, repo_specs())
    assert (found.id, version, how) == (form_id, "1.0", "properties")
    before = read_form(original, spec, version, how)
    after = read_form(copy, spec, version, how)
    assert after.doubt is None
    if spec.kind == "docx":  # LibreOffice moves a line break typed in a control out of it (see above)
        assert _one_line(after.values) == _one_line(before.values)
    else:
        assert after.values == before.values
    assert [p.code for p in after.problems] == [p.code for p in before.problems]


@pytest.mark.parametrize("form_id", XLSX)
def test_lean_reader_reads_what_openpyxl_reads_in_workbooks_libreoffice_saved(resaved, form_id):
    """The fast values reader (forms/xlsx_lean.py) takes LibreOffice's workbooks and reads them as openpyxl does."""
    for route in ("original", "lo", "odf"):
        assert_reads_alike(resaved[route][form_id], repo_specs()[form_id])


@pytest.mark.parametrize("form_id", ALL)
def test_form_resaved_by_libreoffice_gets_the_same_outcome(resaved, customer_workspace, tmp_path, form_id):
    outcomes = []
    for n, route in enumerate(("original", "lo", "odf")):
        root = tmp_path / f"ws{n}"
        shutil.copytree(customer_workspace, root)
        office = Office(root=root, clock=_clock())
        try:
            outcomes.append(_outcome(office, resaved[route][form_id]))
        finally:
            office.close()
    assert outcomes[0] == outcomes[1] == outcomes[2]
    if form_id in ("customer_registration", "trip_request", "sales_contract", "expense_claim", "complaint"):
        assert outcomes[0][0] == "archived" and outcomes[0][3] == "in_approval", outcomes[0]


def _clock():
    from support.e2e import MONDAY, _morning

    from automation.clock import Clock

    return Clock(fixed=_morning(MONDAY))


def test_blank_forms_resaved_by_libreoffice_read_as_blank_not_as_their_prompts(tmp_path, soffice):
    blanks = [build_blank(f, tmp_path / "blank") for f in DOCX]
    for copy, form_id in zip(resave(blanks, "docx", tmp_path / "lo"), DOCX):
        form = read_form(copy, repo_specs()[form_id], "1.0", "properties")
        assert all(v in (None, []) for v in form.values.values()), form.values


# --- task files ------------------------------------------------------------------------

ROUTED = ["customer_registration", "expense_claim", "sales_contract", "trip_request", "complaint"]


@pytest.fixture(scope="module")
def submitted_workspace(tmp_path_factory, customer_workspace) -> Path:
    """The customer's workspace with one routed form of each kind submitted (built once per module)."""
    root = tmp_path_factory.mktemp("lo-submitted") / "ws"
    shutil.copytree(customer_workspace, root)
    office = Office(root=root, clock=_clock())
    try:
        for form_id in ROUTED:
            values, items = sample(form_id, office.today)
            office.submit(form_id, values, items)
        office.run()
    finally:
        office.close()
    return root


@pytest.fixture
def submitted(tmp_path, submitted_workspace):
    """A copy of ``submitted_workspace`` of this test's own."""
    root = tmp_path / "ws"
    shutil.copytree(submitted_workspace, root)
    office = Office(root=root, clock=_clock())
    yield office
    office.close()


def _task_files(office: Office) -> dict[str, Path]:
    """Form id → the first task file of its case (``office`` is a copy of ``submitted_workspace``)."""
    files = {}
    for form_id in ROUTED:
        case = office.case(form_id=form_id)
        assert case["status"] == "in_approval", (form_id, office.submissions()[-1])
        [task] = office.rows(s.tasks, s.tasks.c.case_id == case["id"], s.tasks.c.status == "open")
        files[form_id] = office.root / task["file_path"]
    return files


def _decide(path: Path, decision: str, comment: str) -> None:
    if path.suffix == ".xlsx":
        set_named(path, {"审批结论": decision, "审批意见": comment})
        return
    from automation.forms.fill import _set_control

    doc = Document(str(path))
    for sdt in doc.element.body.iter(qn("w:sdt")):
        tag = sdt.find(f"{qn('w:sdtPr')}/{qn('w:tag')}")
        if tag is not None and tag.get(qn("w:val")) in ("审批结论", "审批意见"):
            _set_control(sdt, decision if tag.get(qn("w:val")) == "审批结论" else comment)
    doc.save(str(path))


def _resave_in_place(paths: list[Path], tmp: Path) -> None:
    """Re-save task files through LibreOffice and put them back where they were (an approver's save)."""
    by_kind: dict[str, list[Path]] = {}
    for p in paths:
        by_kind.setdefault(p.suffix[1:], []).append(p)
    for kind, group in by_kind.items():
        staged = []
        for n, p in enumerate(group):
            stage = tmp / f"in-{kind}" / f"t{n}{p.suffix}"
            stage.parent.mkdir(parents=True, exist_ok=True)
            staged.append(Path(shutil.copy(p, stage)))
        for p, out in zip(group, resave(staged, kind, tmp / f"out-{kind}")):
            shutil.copyfile(out, p)


def test_task_files_decided_and_resaved_by_libreoffice_count(submitted, tmp_path, soffice):
    office = submitted
    files = _task_files(office)
    for form_id, path in files.items():
        _decide(path, "同意", f"同意 {form_id}")
    _resave_in_place(list(files.values()), tmp_path)
    summary = office.run()
    assert summary.decisions == len(ROUTED)
    for form_id in ROUTED:
        case = office.case(form_id=form_id)
        decided = office.rows(s.tasks, s.tasks.c.case_id == case["id"], s.tasks.c.decision == "同意")
        assert decided and decided[0]["comment"] == f"同意 {form_id}", form_id
    assert not office.audit("decision-refused")


def test_task_files_moved_to_a_folder_after_a_libreoffice_save_count(submitted, tmp_path, soffice):
    office = submitted
    files = _task_files(office)
    _resave_in_place(list(files.values()), tmp_path)
    for path in files.values():
        (path.parent / "同意").mkdir(exist_ok=True)
        shutil.move(str(path), path.parent / "同意" / path.name)
    assert office.run().decisions == len(ROUTED)
    assert not office.audit("decision-refused")


def _change_value(path: Path, form_id: str) -> None:
    spec = repo_specs()[form_id]
    field = next(f for f in spec.fields if f.type == "text" and f.key not in ("申请编号",))
    if path.suffix == ".xlsx":
        set_named(path, {field.key: "被改过的内容"})
        return
    from automation.forms.fill import _set_control

    doc = Document(str(path))
    for sdt in doc.element.body.iter(qn("w:sdt")):
        tag = sdt.find(f"{qn('w:sdtPr')}/{qn('w:tag')}")
        if tag is not None and tag.get(qn("w:val")) == field.key:
            _set_control(sdt, "被改过的内容")
            break
    doc.save(str(path))


def test_a_value_changed_before_the_libreoffice_save_is_refused_with_a_fresh_copy(submitted, tmp_path, soffice):
    office = submitted
    files = _task_files(office)
    for form_id, path in files.items():
        _change_value(path, form_id)
        _decide(path, "同意", "")
    _resave_in_place(list(files.values()), tmp_path)
    assert office.run().decisions == 0
    refused = office.audit("decision-refused")
    assert len(refused) == len(ROUTED)
    for form_id, path in files.items():
        folder, number = path.parent, path.name.split(" ")[0]
        reasons = sorted(folder.glob(f"{number} *(未计入)*.原因.txt"))
        assert len(reasons) == 1 and "被修改" in reasons[0].read_text(encoding="utf-8"), form_id
        assert path.exists(), f"no fresh task file for {form_id}"  # the clean copy, under the task's own name
        assert "已在同一文件夹中重新发出" in reasons[0].read_text(encoding="utf-8")
    # the fresh copy counts
    for path in files.values():
        (path.parent / "同意").mkdir(exist_ok=True)
        shutil.move(str(path), path.parent / "同意" / path.name)
    assert office.run().decisions == len(ROUTED)


def test_odf_round_trip_of_task_files_keeps_the_decision(submitted, tmp_path, soffice):
    office = submitted
    files = _task_files(office)
    for form_id, path in files.items():
        _decide(path, "驳回" if form_id == "complaint" else "同意", "不同意,理由见附件")
    xlsx = [p for p in files.values() if p.suffix == ".xlsx"]
    docx = [p for p in files.values() if p.suffix == ".docx"]
    staged = {}
    for n, p in enumerate(xlsx + docx):
        stage = tmp_path / "in" / f"t{n}{p.suffix}"
        stage.parent.mkdir(parents=True, exist_ok=True)
        staged[p] = Path(shutil.copy(p, stage))
    ods = resave([staged[p] for p in xlsx], "ods", tmp_path / "odf")
    odt = resave([staged[p] for p in docx], "odt", tmp_path / "odf")
    back = resave(ods, "xlsx", tmp_path / "back") + resave(odt, "docx", tmp_path / "back")
    for p, out in zip(xlsx + docx, back):
        shutil.copyfile(out, p)
    assert office.run().decisions == len(ROUTED)
    assert office.case(form_id="complaint")["status"] == "rejected"
    assert not office.audit("decision-refused")
