"""Fixtures of the audit-log tests: a small ledger on each store, the log's key, a sealed and
signed log, and an attacker's raw connection to the database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.db import LogDB
from audit.keyfile import create_key_file, log_vkey
from audit.sealer import seal
from audit.signing import sign_latest
from ledger.actors import Actor
from ledger.application import FundLedger
from ledger.stores import is_postgres
from tests.conftest import COUNTY, COUNTY_ACTOR, PROVINCE, cmd

ORIGIN = "ledger.test/fundledger"
SECOND = "441426"  # 平远县: a second county, so that scoped bundles leave something out


@dataclass(frozen=True)
class LogKey:
    path: Path
    name: str
    key: Ed25519PrivateKey
    vkey: str


def entries(county: str = COUNTY, n: int = 8, prefix: str = "") -> list[tuple[dict[str, Any],
                                                                               Actor]]:
    """A county's appropriation, project, n disbursements with expenditures, one reversal."""
    actor = COUNTY_ACTOR if county == COUNTY else Actor(f"county-{county}", "county", county)
    c = {**cmd("appropriation"), "county_code": county}

    def item(kind: str, **fields: Any) -> dict[str, Any]:
        return {**c, "kind": kind, **fields}

    items = [(item("appropriation", entry_id=f"{prefix}A1", batch=1, amount="4000000",
                   document_no="X1", business_date="2020-04-01"), PROVINCE),
             (item("project", project_code="P1", name="县级电商公共服务中心",
                   category="public_services", budget="3000000", responsible_person="张三",
                   implementing_unit="县商务局", start_date="2020-04-01", end_date="2021-06-30",
                   business_date="2020-04-02"), actor),
             (item("project", project_code="T1", name="电商培训", category="training",
                   budget="1000000", responsible_person="李四", implementing_unit="县商务局",
                   start_date="2020-04-01", end_date="2021-06-30", business_date="2020-04-02"),
              actor)]
    for i in range(1, n + 1):
        project = "P1" if i % 3 else "T1"
        items.append((item("disbursement", entry_id=f"{prefix}D{i}", project_code=project,
                           amount=f"{1000 * i}.25", payee="某公司", voucher_no=f"V{i}",
                           business_date="2020-05-03"), actor))
        items.append((item("expenditure", entry_id=f"{prefix}E{i}", project_code=project,
                           amount=f"{500 * i}", purpose="建设", invoice_no=f"F{i}",
                           business_date="2021-02-04"), actor))
    items.append((item("reversal", entry_id=f"{prefix}R1", target_entry_id=f"{prefix}D2",
                       amount="100.00", reason="录入错误", business_date="2020-06-01"), actor))
    return items


@pytest.fixture
def ledger(app: FundLedger, store_url: str) -> FundLedger:
    """The test county with 2 + 3 + 2*8 + 1 events in its stream, and a programme stream."""
    app.import_entries(entries())
    return app


@pytest.fixture
def log_key(tmp_path: Path) -> LogKey:
    path = tmp_path / "log.key"
    key = create_key_file(path, ORIGIN)
    return LogKey(path, ORIGIN, key, log_vkey(ORIGIN, key))


@pytest.fixture
def db(store_url: str) -> Iterator[LogDB]:
    with LogDB(store_url) as log_db:
        yield log_db


@pytest.fixture
def sealed(ledger: FundLedger, db: LogDB, log_key: LogKey) -> LogDB:
    """The small ledger, sealed, with a checkpoint signed by the log key."""
    seal(db)
    sign_latest(db, log_key.name, log_key.key)
    return db


@contextmanager
def attacker(url: str) -> Iterator[tuple[Any, str, str]]:
    """A raw connection with write access, triggers off: (connection, events table, mark)."""
    if is_postgres(url):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET session_replication_role = replica")  # as a superuser would
            yield conn, "fundledger_events", "%s"
    else:
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'"
                                        ).fetchall():
                conn.execute(f"DROP TRIGGER {name}")  # whoever holds the file can
            yield conn, "stored_events", "?"
            conn.commit()
        finally:
            conn.close()


def execute(url: str, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    """Run one statement as the attacker (`?` placeholders); return the rows."""
    with attacker(url) as (conn, _, mark):
        cur = conn.execute(sql.replace("?", mark), params)
        return list(cur.fetchall()) if cur.description else []


def events_table(url: str) -> str:
    return "fundledger_events" if is_postgres(url) else "stored_events"


def nid(url: str) -> str:
    return "notification_id" if is_postgres(url) else "rowid"
