"""Snapshots: with the snapshot key, a long county stream loads from its newest snapshot, to
exactly the state that replaying every event gives (attacks: tests/test_snapshot_attacks.py)."""

from __future__ import annotations

import os
from typing import Any

from eventsourcing.application import project_aggregate

from ledger.application import SNAPSHOT_INTERVAL_EVENTS, FundLedger
from ledger.county import county_stream_id
from ledger.snapshots import SNAPSHOT_KEY_SETTING
from ledger.stores import store_env
from tests.conftest import COUNTY, COUNTY_ACTOR, PROGRAMME, PROVINCE, TODAY, cmd

STATE_FIELDS = ("allocation_fen", "appropriated_fen", "disbursed_fen", "expended_fen",
                "recovered_fen", "projects", "budget_by_category", "entries", "head_hash")


def test_snapshot_load_equals_full_replay(app: FundLedger, store_url: str) -> None:
    """After 1,200 disbursements there are snapshots; a fresh process's load equals a replay."""
    env = {**store_env(store_url), SNAPSHOT_KEY_SETTING: os.urandom(32).hex()}
    app = FundLedger(env, clock=lambda: TODAY)  # with the key; the fixture admitted the county
    app.execute(cmd("appropriation", entry_id="A1", batch=1, amount="5000000",
                    document_no="X", business_date="2020-04-01"), PROVINCE)
    app.execute(cmd("project", project_code="P1", name="n", category="training",
                    budget="900000", responsible_person="r", implementing_unit="u",
                    start_date="2020-04-01", end_date="2021-04-01",
                    business_date="2020-04-02"), COUNTY_ACTOR)
    items = [(cmd("disbursement", entry_id=f"D{i}", project_code="P1", amount_fen=100 + i,
                  payee="p", voucher_no=f"v{i}", business_date="2020-04-03"), COUNTY_ACTOR)
             for i in range(2 * SNAPSHOT_INTERVAL_EVENTS + 200)]
    app.import_entries(items[:700])
    app.import_entries(items[700:])
    stream = county_stream_id(PROGRAMME, COUNTY)
    snapshots = list(app.snapshots.get(stream)) if app.snapshots else []
    assert [s.originator_version for s in snapshots] == [703, 1203]

    fresh = FundLedger(env, clock=lambda: TODAY)
    loaded = fresh.county(PROGRAMME, COUNTY)
    assert fresh.snapshots is not None and fresh.snapshots.used == 1  # type: ignore[attr-defined]
    replayed: Any = project_aggregate(None, fresh.events.get(stream))
    assert loaded.version == replayed.version == 1203
    for name in STATE_FIELDS:
        assert getattr(loaded, name) == getattr(replayed, name), name
    assert loaded.disbursed_fen == sum(100 + i for i in range(len(items)))
    app.close()
    fresh.close()
