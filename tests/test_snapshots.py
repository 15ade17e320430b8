"""Snapshots: a long county stream loads from its newest snapshot, to exactly the state that
replaying every event gives."""

from __future__ import annotations

from typing import Any

from eventsourcing.application import project_aggregate

from ledger.application import SNAPSHOT_INTERVAL_EVENTS, FundLedger
from ledger.county import county_stream_id
from tests.conftest import COUNTY, COUNTY_ACTOR, PROGRAMME, PROVINCE, cmd

STATE_FIELDS = ("allocation_fen", "appropriated_fen", "disbursed_fen", "expended_fen",
                "recovered_fen", "projects", "budget_by_category", "entries", "head_hash")


def test_snapshot_load_equals_full_replay(app: FundLedger, make_app: Any) -> None:
    """After 1,200 disbursements there are snapshots; a fresh process's load equals a replay."""
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

    fresh = make_app()
    loaded = fresh.county(PROGRAMME, COUNTY)
    replayed: Any = project_aggregate(None, fresh.events.get(stream))
    assert loaded.version == replayed.version == 1203
    for name in STATE_FIELDS:
        assert getattr(loaded, name) == getattr(replayed, name), name
    assert loaded.disbursed_fen == sum(100 + i for i in range(len(items)))
