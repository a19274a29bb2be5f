"""A form's register questions share one read connection (StoreLookups.held), and each answer
is still what another worker has committed by the time it is asked: nothing is held over but
the per-form memo."""

from datetime import date, datetime, timezone
from decimal import Decimal

from sqlalchemy import event

from automation.clock import Clock
from automation.record import schema as s
from automation.record.lookups import StoreLookups, normalise_name
from automation.record.store import open_store

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)


def _customer(conn, name, code, status):
    conn.execute(s.customers.insert().values(name=name, norm_name=normalise_name(name), credit_code=code,
                                             status=status, owner="王芳", registered_on=date(2026, 6, 1)))


def _checkouts(store):
    seen = []
    event.listen(store.engine, "checkout", lambda *a: seen.append(1))
    return seen


def test_questions_within_held_share_one_connection(tmp_path):
    url = "sqlite:///" + str(tmp_path / "state.db")
    st = open_store(url, Clock(fixed=NOW))
    with st.begin() as conn:
        _customer(conn, "上海甲乙有限公司", "91310000MA1FL8XQ37", "正常")
    seen = _checkouts(st)
    lookups = StoreLookups(st)
    with lookups.held():
        assert lookups.customer_status("上海甲乙有限公司") == "正常"
        assert lookups.customer_status_by_code("91310000ma1fl8xq37") == "正常"
        assert lookups.customer_open_receivables("上海甲乙有限公司") == Decimal("0.00")
    assert len(seen) == 1
    # outside the block a question opens its own connection, as before
    assert StoreLookups(st).customer_status_by_code("91310000MA1FL8XQ37") == "正常"
    assert len(seen) == 2
    st.dispose()


def test_held_connection_sees_another_workers_commit(tmp_path):
    url = "sqlite:///" + str(tmp_path / "state.db")
    mine, other = open_store(url, Clock(fixed=NOW)), open_store(url, Clock(fixed=NOW))
    lookups = StoreLookups(mine)
    with lookups.held():
        assert lookups.customer_status_by_code("91310000MA1FL8XQ37") is None
        with other.begin() as conn:  # another worker registers the customer between two questions
            _customer(conn, "上海甲乙有限公司", "91310000MA1FL8XQ37", "黑名单")
        assert lookups.customer_status_by_code("91310000MA1FL8XQ37") == "黑名单"
        assert lookups.customer_registered("上海甲乙有限公司")
        with other.begin() as conn:
            conn.execute(s.customers.update().values(status="正常"))
        assert lookups.customer_status_by_code("91310000MA1FL8XQ37") == "正常"
    mine.dispose()
    other.dispose()
