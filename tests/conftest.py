"""Shared fixtures: real workspaces with the default pack (see tests/support/)."""

pytest_plugins = ["support.e2e"]

import pytest
from support.libreoffice import cleanup_profile, require_soffice


@pytest.fixture(scope="session")
def soffice():
    """The real LibreOffice: skipped with the reason when absent, a failure under CI=true."""
    yield require_soffice()
    cleanup_profile()
