"""Shared fixtures: every store-facing test runs on SQLite and on PostgreSQL.

PostgreSQL tests create their own database and drop it. Where the server is unreachable they
are skipped on a developer's machine and fail in CI (`CI=true`): CI must run them.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from ledger.actors import Actor
from ledger.application import FundLedger
from ledger.rules import packaged_rules
from ledger.stores import store_env

PG_ADMIN_URL = os.environ.get("FUNDLEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PROGRAMME = "gd-2020-ecrural"
TODAY = dt.date(2022, 6, 30)
PROVINCE = Actor("prov-officer-1", "province", "440000")
COUNTY = "441423"  # 丰顺县, 梅州市
COUNTY_ACTOR = Actor("county-officer-1", "county", COUNTY)
CITY_ACTOR = Actor("city-officer-1", "city", "441400")
AUDITOR = Actor("auditor-1", "auditor", "441400")
ALLOCATION_FEN = 10_000_000_00  # 10 million yuan


def _pg_reachable() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def pg_available() -> bool:
    ok = _pg_reachable()
    if not ok and os.environ.get("CI") == "true":
        pytest.fail("PostgreSQL at 127.0.0.1:5432 is unreachable, and CI must run its tests")
    return ok


def create_pg_database() -> str:
    name = f"fl_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_pg_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: Any, tmp_path: Any, pg_available: bool) -> Iterator[str]:
    """A fresh, empty store: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.db'}"
        return
    if not pg_available:
        pytest.skip("PostgreSQL unreachable (developer machine; CI fails instead)")
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture
def make_app(store_url: str) -> Iterator[Any]:
    """A factory of FundLedger instances on the test's store (all closed at the end)."""
    apps: list[FundLedger] = []

    def make(clock: Any = lambda: TODAY) -> FundLedger:
        app = FundLedger(store_env(store_url), clock=clock)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


@pytest.fixture
def app(make_app: Any) -> FundLedger:
    """A ledger with GD-2020 opened and county 441423 admitted with 10 million yuan."""
    ledger: FundLedger = make_app()
    ledger.open_programme(packaged_rules(PROGRAMME), 100_000_000_00, PROVINCE, dt.date(2020, 3, 1))
    ledger.admit_county(PROGRAMME, COUNTY, "丰顺县", ALLOCATION_FEN, "粤商务建字〔2020〕1号",
                        PROVINCE, dt.date(2020, 3, 2))
    return ledger


def event_count(app: FundLedger) -> int:
    """How many events the store holds (counted in the database, not derived)."""
    recorder: Any = app.recorder
    table = getattr(recorder, "events_table_name", "stored_events")
    with recorder.datastore.transaction(commit=False) as curs:
        curs.execute(f"SELECT COUNT(*) FROM {table}")
        row = curs.fetchone()
    return int(row[0] if isinstance(row, tuple) else next(iter(dict(row).values())))


def cmd(kind: str, **fields: Any) -> dict[str, Any]:
    """A county command payload for the test county."""
    return {"kind": kind, "programme": PROGRAMME, "county_code": COUNTY, **fields}
