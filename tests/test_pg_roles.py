"""PostgreSQL with a least-privilege application role (docs/operations.md): it records and
reads; it cannot UPDATE, DELETE, TRUNCATE or switch off the append-only trigger."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import psycopg
import pytest

from ledger.actors import Actor
from ledger.application import FundLedger
from ledger.rules import packaged_rules
from ledger.stores import store_env
from tests.conftest import PROGRAMME, TODAY, create_pg_database, drop_pg_database

pytestmark = pytest.mark.postgres
PROVINCE = Actor("p", "province", "440000")
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
GRANTS = """
GRANT CONNECT ON DATABASE "{db}" TO {role};
GRANT USAGE ON SCHEMA public TO {role};
GRANT SELECT, INSERT ON fundledger_events, fundledger_snapshots TO {role};
GRANT UPDATE ON fundledger_events TO {role};
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role};
"""


@pytest.fixture
def app_role_url(pg_available: bool) -> Iterator[tuple[str, str]]:
    """(owner URL, application-role URL) of a fresh database set up as the docs say."""
    if not pg_available:
        pytest.skip("PostgreSQL unreachable (developer machine; CI fails instead)")
    owner = create_pg_database()
    db = owner.rsplit("/", 1)[1]
    role = f"fl_app_{uuid.uuid4().hex[:8]}"
    FundLedger(store_env(owner)).close()  # the owner creates the tables and triggers
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(GRANTS.format(db=db, role=role))
    host = owner.split("@", 1)[1]
    try:
        yield owner, f"postgresql://{role}@{host}?create_tables=no"
    finally:
        drop_pg_database(owner)
        with psycopg.connect(owner.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
            conn.execute(f"DROP ROLE IF EXISTS {role}")


def test_application_role_records_but_cannot_rewrite(app_role_url: tuple[str, str]) -> None:
    """The app role opens a programme; UPDATE, DELETE, TRUNCATE, DISABLE TRIGGER all fail."""
    _, url = app_role_url
    app = FundLedger(store_env(url), clock=lambda: TODAY)
    app.open_programme(packaged_rules(PROGRAMME), 10**10, PROVINCE, dt.date(2020, 3, 1))
    app.admit_county(PROGRAMME, "441423", "丰顺县", 10**9, "d", PROVINCE, dt.date(2020, 3, 2))
    app.close()
    attempts = {
        "UPDATE fundledger_events SET state = state": psycopg.errors.InsufficientPrivilege,
        "DELETE FROM fundledger_events": psycopg.errors.InsufficientPrivilege,
        "TRUNCATE fundledger_events": psycopg.errors.InsufficientPrivilege,
        "ALTER TABLE fundledger_events DISABLE TRIGGER ALL": psycopg.errors.InsufficientPrivilege,
    }
    with psycopg.connect(url.split("?")[0], autocommit=True) as conn:
        for sql, error in attempts.items():
            with pytest.raises(error):
                conn.execute(sql)
        count = conn.execute("SELECT COUNT(*) FROM fundledger_events").fetchone()
    assert count == (3,)


def test_application_role_reads_tokens_but_cannot_issue_them(
        app_role_url: tuple[str, str]) -> None:
    """With `SELECT` on the tokens table only (docs/security.md), the server's role finds a
    token the owner issued, and can neither issue, revoke nor rewrite one."""
    from api.tokens import TOKENS_TABLE, TokenStore

    owner, url = app_role_url
    token, record = TokenStore(owner).issue("county", "c1", "441423", None, NOW)
    role = url.split("://", 1)[1].split("@", 1)[0]
    with psycopg.connect(owner, autocommit=True) as conn:
        conn.execute(f"GRANT SELECT ON {TOKENS_TABLE} TO {role}")
    server = TokenStore(url)
    assert server.authenticate(token, NOW.date()) == record
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        server.issue("province", "p2", "440000", None, NOW)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        server.revoke(record.token_id, NOW)
    assert server.authenticate(token, NOW.date()) == record
