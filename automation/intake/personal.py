"""Personal inboxes (``[intake] personal_inbox = true``): a form can only be submitted in the
name of the owner of the folder it was dropped in.

Anyone who can write to a shared inbox/ can otherwise submit in anyone's name.
With this option each person of 人员 gets ``inbox/<姓名>/``; the share's
permissions (see docs/安全说明.md) make it writable only by that person and the
service account, and a form whose applicant is someone else is returned.
"""

from __future__ import annotations

import logging

from automation.fsutil import safe_name
from automation.intake import names
from automation.problems.form import NOT_IN_PERSONAL, NOT_OWNER

log = logging.getLogger("officeflow")


def ensure_folders(rt) -> None:
    """One folder per active person of 人员 (never removes one)."""
    if not rt.settings.intake.personal_inbox:
        return
    for person in rt.policy.people.values():
        if person.active:
            try:
                (rt.settings.inbox / safe_name(person.name)).mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                log.warning("无法创建个人收件箱 %s:%s", person.name, exc)


def owner_of(original_path: str) -> str | None:
    """The personal folder a file was dropped in: the first folder under inbox/."""
    parts = names.from_stored(original_path).split("/")
    return names.readable(parts[0]) if len(parts) > 1 else None


def submitter_problems(rt, row, form) -> list:
    """With personal inboxes on: a problem unless the applicant is the folder's owner."""
    if not rt.settings.intake.personal_inbox:
        return []
    owner = owner_of(row.original_path)
    field = form.spec.applicant_field
    where = form.location_of(field) if field else None
    if owner is None or rt.policy.person(owner) is None:
        return [NOT_IN_PERSONAL(field=field, location=where)]
    applicant = form.applicant
    if applicant is not None and safe_name(applicant) != owner:
        return [NOT_OWNER(field=field, location=where, value=applicant, owner=owner)]
    return []
