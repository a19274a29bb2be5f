"""Creating a workspace: folders, settings, the default policy pack, forms and templates.

Never overwrites: an administrator's edited file is worth more than our default.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from automation.forms.build_docx import build_docx
from automation.forms.build_xlsx import build_xlsx
from automation.forms.spec import load_specs
from automation.policy.workbook_build import build_policy_workbook
from automation.settings import SETTINGS_FILE

RESOURCES = Path(__file__).parent / "resources"
OUTBOX_FOLDERS = ("approvals", "cc", "returned", "contracts", "registers", "archive", "quarantine")


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
