"""Workers for different offices on one PostgreSQL: each takes in only its office's folder inside
inbox/ ([offices."名称"] in officeflow.toml), sharing people, policies, numbering and registers."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from support.workers import corpus, use_store
from support.workspace import files_under, make_workspace

from automation.cli.main import main
from automation.errors import SettingsError
from automation.pipeline import process_pending
from automation.record import schema as s
from automation.runtime import open_runtime
from automation.settings import load_settings

OFFICES = '\n[offices."上海"]\ninbox = "上海"\n\n[offices."北京"]\ninbox = "北京"\n'


def _with_offices(root, text: str = OFFICES) -> None:
    path = root / "officeflow.toml"
    path.write_text(path.read_text(encoding="utf-8") + text, encoding="utf-8")


def test_each_offices_worker_takes_in_its_own_folder_and_the_numbering_is_shared(tmp_path, pg_url):
    root = make_workspace(tmp_path)
    use_store(root, pg_url)
    _with_offices(root)
    staging = tmp_path / "staging"
    staging.mkdir()
    forms = list(corpus(staging, 4, 0).values())
    for office, data in (("上海", forms[:2]), ("北京", forms[2:])):
        (root / "inbox" / office).mkdir(parents=True)
        for i, content in enumerate(data):
            (root / "inbox" / office / f"客户登记{i}.xlsx").write_bytes(content)
    (root / "inbox" / "总部.xlsx").write_bytes(forms[0])  # in no office's folder: for a worker of the whole inbox

    with open_runtime(root, office="上海") as shanghai:
        assert shanghai.settings.office_inbox == (root / "inbox" / "上海").resolve()
        process_pending(shanghai)
    left = sorted(p.relative_to(root / "inbox").as_posix() for p in files_under(root / "inbox"))
    assert left == sorted(["总部.xlsx", "北京/客户登记0.xlsx", "北京/客户登记1.xlsx"]), "only 上海's files were taken in"
    with open_runtime(root, office="北京") as beijing:
        process_pending(beijing)
        with beijing.store.read() as conn:
            cases = sorted(conn.execute(select(s.cases.c.number)).scalars())
            origins = sorted(conn.execute(select(s.submissions.c.original_path)).scalars())
    assert [p.name for p in files_under(root / "inbox")] == ["总部.xlsx"]
    assert origins == sorted(["北京/客户登记0.xlsx", "北京/客户登记1.xlsx", "上海/客户登记0.xlsx", "上海/客户登记1.xlsx"])
    assert [int(n[-4:]) for n in cases] == [1, 2, 3, 4], "one numbering for both offices, without gaps"
    with open_runtime(root) as everyone:  # a worker without an office takes in the rest
        process_pending(everyone)
    assert files_under(root / "inbox") == []


def test_an_office_that_is_not_set_or_a_folder_outside_the_inbox_is_refused_in_chinese(tmp_path, capsys):
    root = make_workspace(tmp_path)
    _with_offices(root)
    with pytest.raises(SettingsError, match="没有办公室「广州」.*上海、北京"):
        load_settings(root, "广州")
    assert main(["watch", "--office", "广州", "--workspace", str(root)]) != 0
    assert "没有办公室「广州」" in capsys.readouterr().err
    outside = make_workspace(tmp_path / "b")
    _with_offices(outside, '\n[offices."上海"]\ninbox = "../outbox"\n')
    with pytest.raises(SettingsError, match="须是收件箱"):
        load_settings(outside)
