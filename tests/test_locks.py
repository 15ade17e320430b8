"""The advisory-lock keys: one per purpose, none shared (a shared key made a projection batch
and a page of sealing wait for each other)."""

from __future__ import annotations

from audit import db as log_db
from ledger import pgstore
from ledger.locks import ADVISORY_LOCKS
from projections import db as views_db


def test_each_purpose_has_its_own_key() -> None:
    keys = list(ADVISORY_LOCKS.values())
    assert len(set(keys)) == len(keys) == 4


def test_every_store_module_takes_the_declared_key() -> None:
    used = {log_db.LOG_LOCK_KEY, log_db.SEALER_LOCK_KEY, views_db.VIEWS_LOCK_KEY,
            pgstore.INSTALL_LOCK_KEY}
    assert used == set(ADVISORY_LOCKS.values())


def test_the_events_table_names_are_the_libraries():
    """ledger.sql names the events tables as eventsourcing does (PostgreSQL: after the app)."""
    from ledger.application import FundLedger
    from ledger.sql import PG_EVENTS_TABLE

    assert f"{FundLedger.name.lower()}_events" == PG_EVENTS_TABLE
