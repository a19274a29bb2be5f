"""[intake] personal_inbox = true: inbox/<姓名>/ per person; a form in someone else's name is returned."""

from __future__ import annotations

import os
from datetime import date

from sqlalchemy import select
from support.forms import build_blank, fill_xlsx
from support.workspace import make_workspace

from automation import samples
from automation.pipeline import process_pending
from automation.record import schema as s
from automation.runtime import open_runtime


def _personal_workspace(tmp_path):
    root = make_workspace(tmp_path)
    toml = root / "officeflow.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + "\n[intake]\npersonal_inbox = true\n", encoding="utf-8")
    return root


def _form(folder, seq, salesperson="王芳"):
    return fill_xlsx(build_blank("customer_registration", folder / f"blank{seq}"),
                     samples.customer_registration(seq, date.today(), salesperson=salesperson))


def _run(root):
    rt = open_runtime(root)
    try:
        process_pending(rt)
        with rt.store.read() as conn:
            return [dict(r) for r in conn.execute(select(s.submissions).order_by(s.submissions.c.id)).mappings()]
    finally:
        rt.close()


def test_personal_inbox_folders_are_made_for_each_person(tmp_path):
    root = _personal_workspace(tmp_path)
    _run(root)
    assert {"王芳", "吴强", "赵建国"} <= {p.name for p in (root / "inbox").iterdir() if p.is_dir()}


def test_form_in_own_personal_inbox_is_accepted(tmp_path):
    root = _personal_workspace(tmp_path)
    _run(root)
    os.replace(_form(tmp_path, 1), root / "inbox" / "王芳" / "客户登记.xlsx")
    [sub] = _run(root)
    assert (sub["status"], sub["reason_code"]) == ("archived", "accepted")


def test_form_in_someone_elses_name_is_returned_from_a_personal_inbox(tmp_path):
    root = _personal_workspace(tmp_path)
    _run(root)
    os.replace(_form(tmp_path, 2, salesperson="王芳"), root / "inbox" / "陈静" / "客户登记.xlsx")
    [sub] = _run(root)
    assert (sub["status"], sub["reason_code"]) == ("returned", "form-invalid")
    assert "您只能以本人名义提交" in sub["reason"] and "陈静" in sub["reason"]


def test_form_outside_any_personal_inbox_is_returned(tmp_path):
    root = _personal_workspace(tmp_path)
    os.replace(_form(tmp_path, 3), root / "inbox" / "客户登记.xlsx")
    [sub] = _run(root)
    assert sub["status"] == "returned" and "您只能以本人名义提交" in sub["reason"]


def test_personal_inbox_is_off_by_default(tmp_path):
    root = make_workspace(tmp_path)
    (root / "inbox" / "陈静").mkdir()
    os.replace(_form(tmp_path, 4, salesperson="王芳"), root / "inbox" / "陈静" / "客户登记.xlsx")
    [sub] = _run(root)
    assert sub["status"] == "archived"
