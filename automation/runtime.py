"""Everything a run needs, opened once: settings, store, clock, form specs, the policy in force.

``with open_runtime(workspace) as rt:`` — the store is closed when the block ends, error or not.
The pipeline and the stage entry points take ``rt``; the libraries below this module take the
pieces they use (store, settings, policy, now) by name and never see a Runtime.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from automation.clock import Clock
from automation.errors import OfficeFlowError, WorkspaceError
from automation.settings import SETTINGS_FILE, Settings, load_settings

if TYPE_CHECKING:  # the store, the policy and the specs are imported when a runtime is opened, not to find a workspace
    from automation.forms.spec import FormSpec  # annotations only
    from automation.policy.holder import PolicyHolder  # annotations only
    from automation.record.store import Store  # annotations only

log = logging.getLogger("officeflow")


@dataclass
class Runtime:
    settings: Settings
    store: Store
    clock: Clock
    specs: dict[str, FormSpec]
    policies: PolicyHolder
    held_generation: int = -1  # the policy generation under which held forms were last assessed
    # task files this worker opened and found nothing to decide in, by path: the stamp it saw (decide/scan.py)
    decision_stamps: dict[Path, str] = field(default_factory=dict)

    @property
    def policy(self):
        return self.policies.current

    @property
    def calendar(self):
        return self.policies.calendar

    def lookups(self):
        from automation.record.lookups import StoreLookups  # when a runtime is opened: finding a workspace stays light

        return StoreLookups(self.store, self.clock)

    def rel(self, path: Path) -> str:
        """A path as stored: relative to the workspace root, with forward slashes."""
        try:
            return Path(path).resolve().relative_to(self.settings.root).as_posix()
        except ValueError:
            return Path(path).as_posix()

    def abs(self, rel: str) -> Path:
        return self.settings.root / rel

    def close(self) -> None:
        self.store.dispose()

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def find_root(start: Path | str | None) -> Path:
    """The workspace: ``start`` itself, or the nearest parent holding officeflow.toml."""
    here = Path(start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / SETTINGS_FILE).exists():
            return candidate
    raise WorkspaceError(
        f"在 {here} 及其上级文件夹中找不到 {SETTINGS_FILE}。请在工作区文件夹中运行,"
        "或用 --workspace 指定,或先运行 officeflow init 创建工作区。"
    )


def open_runtime(workspace: Path | str | None = None, *, clock: Clock | None = None, office: str | None = None) -> Runtime:
    from automation.forms.spec import load_specs  # when a runtime is opened: finding a workspace stays light
    from automation.fsutil import guard_folders  # when a runtime is opened: finding a workspace stays light
    from automation.policy.holder import PolicyHolder  # when a runtime is opened: finding a workspace stays light
    from automation.record.store import open_store  # when a runtime is opened: finding a workspace stays light

    settings = load_settings(find_root(workspace), office)
    clock = clock or Clock(settings.time.timezone)
    for folder in (settings.inbox, settings.outbox, settings.state):
        folder.mkdir(parents=True, exist_ok=True)
    # Nothing is written below these through a link that appears later (see fsutil.refuse_links).
    guard_folders(settings.outbox, settings.state, settings.contracts, settings.policies)
    store = open_store(settings.store_url, clock, lease_seconds=settings.database.lease_seconds)
    try:
        specs = load_specs(settings.forms)
        if not specs:
            raise WorkspaceError(f"{settings.forms} 中没有表单规格(*.yaml)。请运行 officeflow init 补齐默认文件。")
        policies = PolicyHolder(settings, specs, store, clock)
        policies.load_initial()
    except OfficeFlowError:
        store.dispose()
        raise
    return Runtime(settings=settings, store=store, clock=clock, specs=specs, policies=policies)
