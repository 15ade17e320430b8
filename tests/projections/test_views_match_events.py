"""For random county histories, on SQLite and PostgreSQL: every view equals a direct
recomputation from the event list — now, as of a business date, as of a log position, and both —
and a rebuild from zero gives identical content."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ledger.application import FundLedger
from ledger.county import county_stream_id
from projections import schema
from projections.model import AsOf
from projections.service import Views
from tests.conftest import PROGRAMME, TODAY
from tests.projections.histories import ACTIONS, ALLOCATIONS, DAYS, START, History, next_county
from tests.projections.oracle import normalize, read_log, truth

# EXAMPLES=300 NOSHRINK=1 for a long soak without shrinking (a failure prints its example).
EXAMPLES = int(os.environ.get("EXAMPLES", "25"))
SETTINGS: dict[str, Any] = {"phases": [Phase.generate]} if os.environ.get("NOSHRINK") else {}


def dump(views: Views) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every view table, in a canonical order, and each projection's position."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with views.db.read() as cur:
        for projection in schema.PROJECTIONS:
            for table in projection.tables:
                rows = cur.execute(f"SELECT * FROM {table}").fetchall()
                out[table] = sorted(tuple(r) for r in rows)
        out["positions"] = sorted((k, v[0]) for k, v in schema.tracking(cur).items())
    return out


def test_views_equal_a_recomputation_from_the_events(app: FundLedger) -> None:
    """Random histories: current, as-of-date, as-of-position views all match the oracle."""
    views = Views(app)
    rules = app.rules(PROGRAMME)
    seen = {"accepted": 0, "reversals": 0}

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], **SETTINGS)
    @given(actions=ACTIONS, allocation=ALLOCATIONS, day=st.integers(0, DAYS),
           cut=st.integers(0, 100))
    def check(actions: list[tuple[str, int, int, int]], allocation: int, day: int,
              cut: int) -> None:
        county = next_county()
        history = History(app, county, allocation)
        history.setup()
        seen["accepted"] += history.run(actions)
        views.wait(history.last_position)
        events = read_log(app)
        seen["reversals"] += sum(type(e).__name__ == "EntryReversed" for _, e in events)
        stream = county_stream_id(PROGRAMME, county)
        mine = [p for p, e in events if e.originator_id == stream]
        on = START + dt.timedelta(days=day)
        position = mine[len(mine) * cut // 100 if cut < 100 else -1]
        for as_of in (AsOf(), AsOf(day=on), AsOf(position=position), AsOf(on, position)):
            got = normalize(views.county(PROGRAMME, county, as_of=as_of))
            want = truth(events, rules, PROGRAMME, county, TODAY, as_of.day, as_of.position)
            assert got == want, as_of

    check()
    assert seen["accepted"] >= EXAMPLES * 3 and seen["reversals"] > 0, seen  # money moved
    before = dump(views)
    assert sum(len(v) for k, v in before.items() if k.endswith("facts")) > 100
    views.rebuild()
    assert dump(views) == before


def test_current_views_agree_with_the_aggregates(app: FundLedger) -> None:
    """The oracle itself is tied to the domain: county totals equal the aggregate's state."""
    views = Views(app)
    county = next_county()
    history = History(app, county, 300_000_00)
    history.setup()
    history.run([("disbursement", i, 40, 200 + i) for i in range(12)]
                + [("expenditure", i, 30, 300 + i) for i in range(8)]
                + [("reversal", i, 50, 400 + i) for i in range(6)]
                + [("recovery", 0, 20, 450), ("adjustment", 1, 60, 460)])
    views.wait(history.last_position)
    s = views.county(PROGRAMME, county)
    fund = app.county(PROGRAMME, county)
    assert s.money.appropriated_fen == fund.appropriated_fen > 0
    assert s.money.disbursed_fen == fund.disbursed_fen > 0
    assert s.money.expended_fen == fund.expended_fen > 0
    assert s.money.recovered_fen == fund.recovered_fen
    assert s.money.cash_fen == fund.cash_fen
    plan = {c.category: c.amount_fen for c in s.compliance if c.basis == "plan"}
    assert plan == {k: v for k, v in fund.budget_by_category.items()}
    for p in s.projects:
        state = fund.projects[p.project_code]
        assert (p.budget_fen, p.disbursed_fen, p.expended_fen) == (
            state["budget_fen"], state["disbursed_fen"], state["expended_fen"])
