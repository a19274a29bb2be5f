"""System faults. Bad *data* is never an exception: it is a Problem in a report.

Every exception carries a stable ``code`` (kebab-case, what tests and JSON use),
a Chinese ``message`` saying what is wrong and how to fix it, and a location
where one is known (file, sheet, cell, rule row). Even these end up as a
quarantine or return reason for the file in hand; the watcher never dies on one.
"""

from __future__ import annotations


class OfficeFlowError(Exception):
    """Root of every error OfficeFlow raises on purpose."""

    code = "officeflow-error"

    def __init__(self, message: str, *, code: str | None = None, location=None):
        """``location``: the text people read, or a ``problems.Location`` (kept as ``place``,
        so a problem made from this error has the same structured place)."""
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.place = None if isinstance(location, str) else location
        self.location = location if self.place is None else self.place.text

    def __str__(self) -> str:
        return f"{self.message}(位置:{self.location})" if self.location else self.message

    def to_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "location": self.location}


class SettingsError(OfficeFlowError):
    code = "settings-invalid"


class WorkspaceError(OfficeFlowError):
    code = "workspace-invalid"


class UnsafeFileError(OfficeFlowError):
    """A file that must not reach a parser; it goes to quarantine."""

    code = "unsafe-file"


class UnrecognisedFormError(OfficeFlowError):
    """A readable file that is no form we know (or a version we no longer accept)."""

    code = "form-unrecognised"


class SpecError(OfficeFlowError):
    """A mistake in a form specification (forms/*.yaml)."""

    code = "spec-invalid"


class PolicyError(OfficeFlowError):
    """A mistake in policies/制度.xlsx."""

    code = "policy-invalid"


class ExpressionError(PolicyError):
    code = "expression-invalid"


class StoreError(OfficeFlowError):
    code = "store-error"


class TransitionError(StoreError):
    """A state change that would go backwards or decide twice."""

    code = "transition-refused"


class TemplateError(OfficeFlowError):
    code = "template-error"


class RegisterLockedError(OfficeFlowError):
    """The register file could not be replaced (open in Excel, read-only)."""

    code = "register-locked"
