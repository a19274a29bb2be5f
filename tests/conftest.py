"""Shared fixtures: real workspaces with the default pack (see tests/support/)."""

pytest_plugins = ["support.e2e"]

import pytest
from support.libreoffice import cleanup_profile, require_soffice


@pytest.fixture(scope="session")
def soffice():
    """The real LibreOffice: skipped with the reason when absent, a failure under CI=true."""
    yield require_soffice()
    cleanup_profile()


# --- PostgreSQL: one throw-away cluster per session, a fresh database per test -----------

from support import postgres as _pg  # noqa: E402


@pytest.fixture(scope="session")
def pg_cluster():
    """The session's PostgreSQL cluster (skipped locally with the reason if none can start; CI fails)."""
    try:
        cluster = _pg.start_cluster()
    except RuntimeError as exc:
        _pg.skip_or_fail(str(exc))
    yield cluster
    cluster.stop()


@pytest.fixture
def pg_url(pg_cluster):
    """A URL to an empty database of its own on the session's cluster."""
    name = pg_cluster.create_database()
    yield pg_cluster.url(name)
    pg_cluster.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """The same test on both backends: a SQLite file, and an empty PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
    else:
        yield request.getfixturevalue("pg_url")


_PG_TEMPLATES: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _every_store_on_postgresql(request, monkeypatch):
    """``OFFICEFLOW_TEST_ALL_ON_PG=1 pytest …``: every workspace of the run on its own PostgreSQL
    database (through ``OFFICEFLOW_STORE_URL``), to find code that works only on SQLite.
    Tests that open ``state.db`` themselves do not apply then."""
    import os

    if os.environ.get("OFFICEFLOW_TEST_ALL_ON_PG") != "1" or "store_url" in request.fixturenames:
        yield
        return
    if "customer_office" in request.fixturenames:  # a copy of the session workspace: a copy of its store
        cluster = request.getfixturevalue("pg_cluster")
        template = _PG_TEMPLATES.get("customer")
        if template is None:
            from automation.record.migrate import copy_store
            from automation.record.store import open_store

            template = _PG_TEMPLATES["customer"] = cluster.create_database()
            built = request.getfixturevalue("customer_workspace") / ".officeflow" / "state.db"
            source, target = open_store(f"sqlite:///{built}"), open_store(cluster.url(template))
            copy_store(source, target)
            source.dispose()
            target.dispose()
        name = f"t_{os.urandom(6).hex()}"
        janitor = cluster.janitor(name, template=template)
        janitor.init()
        monkeypatch.setenv("OFFICEFLOW_STORE_URL", cluster.url(name))
        yield
        janitor.drop()
        return
    monkeypatch.setenv("OFFICEFLOW_STORE_URL", request.getfixturevalue("pg_url"))
    yield
