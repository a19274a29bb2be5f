"""Creating a workspace: folders, settings, the default policy pack, forms and templates.

Never overwrites: an administrator's edited file is worth more than our default.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from automation.forms.build_docx import build_docx
from automation.forms.build_xlsx import build_xlsx
from automation.forms.spec import load_specs
from automation.policy.workbook_build import build_policy_workbook
from sqlalchemy import select

from automation.fsutil import unique_path
from automation.record import schema as s
from automation.settings import SETTINGS_FILE

RESOURCES = Path(__file__).parent / "resources"
OUTBOX_FOLDERS = ("approvals", "cc", "requests", "returned", "contracts", "registers", "archive", "quarantine")


@dataclass
class InitResult:
    root: Path
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"root": str(self.root), "created": self.created, "kept": self.kept}


def init_workspace(root: Path | str) -> InitResult:
    root = Path(root).resolve()
    result = InitResult(root)
    for folder in ("inbox", "forms", "contracts", "policies", *(f"outbox/{f}" for f in OUTBOX_FOLDERS)):
        (root / folder).mkdir(parents=True, exist_ok=True)
    _copy(RESOURCES / SETTINGS_FILE, root / SETTINGS_FILE, result)
    for spec in sorted((RESOURCES / "forms").glob("*.yaml")):
        _copy(spec, root / "forms" / spec.name, result)
    for template in sorted((RESOURCES / "contracts").glob("*.docx")):
        _copy(template, root / "contracts" / template.name, result)
    _generate(root / "policies" / "制度.xlsx", result, _build_policy)
    _build_blank_forms(root, result)
    return result


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def _copy(src: Path, dest: Path, result: InitResult) -> None:
    if dest.exists():
        result.kept.append(_rel(result.root, dest))
        return
    shutil.copyfile(src, dest)
    result.created.append(_rel(result.root, dest))


def _generate(dest: Path, result: InitResult, build) -> None:
    if dest.exists():
        result.kept.append(_rel(result.root, dest))
        return
    build(dest)
    result.created.append(_rel(result.root, dest))


def _build_policy(dest: Path) -> None:
    build_policy_workbook(dest)


def _build_blank_forms(root: Path, result: InitResult) -> None:
    builders = {"xlsx": build_xlsx, "docx": build_docx}
    for spec in load_specs(root / "forms").values():
        _generate(root / "forms" / spec.file_name, result, lambda dest, spec=spec: builders[spec.kind](spec, dest))


# --- moving an older workspace to the current layout -------------------------------------

UNRECOGNISED = "未识别"


def migrate_layout(settings, store) -> list[str]:
    """``outbox/returned/<姓名>/`` became ``outbox/requests/<姓名>/``: move what a workspace from
    before holds, file by file (never overwriting), and point the store's paths at the new place.

    Safe to repeat and to interrupt: a file already moved is not there any more, and the
    store's paths are rewritten by prefix on every start until none is left.
    """
    moved: list[str] = []
    old_root = settings.returned
    if old_root.is_dir():
        for person in sorted(p for p in old_root.iterdir() if p.is_dir() and p.name != UNRECOGNISED):
            for path in sorted(p for p in person.rglob("*") if p.is_file()):
                dest = unique_path(settings.requests / person.name / path.parent.relative_to(person), path.name)
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, dest)
                moved.append(dest.relative_to(settings.root).as_posix())
            _remove_empty(person)
    _repoint_store(settings, store)
    return moved


def _remove_empty(folder: Path) -> None:
    for sub in sorted((p for p in folder.rglob("*") if p.is_dir()), key=lambda p: len(p.parts), reverse=True):
        if not any(sub.iterdir()):
            sub.rmdir()
    if not any(folder.iterdir()):
        folder.rmdir()


def _repoint_store(settings, store) -> None:
    old = settings.returned.relative_to(settings.root).as_posix() + "/"
    new = settings.requests.relative_to(settings.root).as_posix() + "/"
    keep = old + UNRECOGNISED + "/"
    with store.begin() as conn:
        for table, column in ((s.submissions, s.submissions.c.extra_path), (s.submissions, s.submissions.c.dest_path),
                              (s.outputs, s.outputs.c.path)):
            rows = conn.execute(select(column).where(column.like(old + "%"), ~column.like(keep + "%")).distinct())
            for (path,) in list(rows):
                conn.execute(table.update().where(column == path).values({column.name: new + path[len(old):]}))
