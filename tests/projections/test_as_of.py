"""As of a business date or a log position, on SQLite and PostgreSQL: the views of the whole
ledger equal the views of a ledger holding only the events up to that date or position (its
events copied, in log order, into a fresh store and projected from zero)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent

from ledger.application import FundLedger
from ledger.stores import store_env
from projections.model import CURRENT, AsOf
from projections.service import Views
from tests.conftest import TODAY, create_pg_database, drop_pg_database
from tests.projections.demo_county import LAGGING, build_demo_county
from tests.projections.oracle import read_log

PROGRAMME = "gd-2020-ecrural"
SKIP = {"as_of", "position"}  # where the views stand in their own log; the content is the rest


@pytest.fixture
def other_store(store_url: str, tmp_path: Any) -> Iterator[str]:
    """A second, empty store of the same kind."""
    if store_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'copy.db'}"
        return
    url = create_pg_database()
    try:
        yield url
    finally:
        drop_pg_database(url)


def copy_log(source: FundLedger, target: FundLedger, keep: Callable[[int, Any], bool]) -> int:
    """Insert the source's events that `keep` accepts, in log order; how many were kept."""
    kept = [StoredEvent(n.originator_id, n.originator_version, n.topic, n.state)
            for n in source.recorder.select_notifications(0, 10**9)
            if keep(n.id, source.mapper.to_domain_event(n))]
    for i in range(0, len(kept), 500):
        target.recorder.insert_events(kept[i:i + 500])
    return len(kept)


def content(views: Views, as_of: AsOf = CURRENT) -> dict[str, Any]:
    status = views.county(PROGRAMME, LAGGING, as_of=as_of).to_dict()
    return {k: v for k, v in status.items() if k not in SKIP}


@pytest.mark.parametrize("day", ["2020-12-31", "2021-03-15"])
def test_as_of_a_date_equals_a_ledger_of_the_events_to_that_date(
        make_app: Any, other_store: str, day: str) -> None:
    """Every view as of D = the views of a ledger built only from events dated ≤ D."""
    app = make_app()
    build_demo_county(app)
    on = dt.date.fromisoformat(day)
    copy = FundLedger(store_env(other_store), clock=lambda: on)
    try:
        kept = copy_log(app, copy, lambda _, e: e.business_date <= day)
        assert 100 < kept < len(read_log(app))
        whole, part = Views(app), Views(copy)
        whole.catch_up()
        part.catch_up()
        assert content(whole, AsOf(day=on)) == content(part)
        assert content(whole, AsOf(day=on))["money"]["appropriated_fen"] == 400_000_000
    finally:
        copy.close()


def test_as_of_a_position_equals_a_ledger_of_the_events_to_that_position(
        make_app: Any, other_store: str) -> None:
    """Every view as of position N = the views of a ledger holding events 1..N."""
    app = make_app()
    build_demo_county(app)
    events = read_log(app)
    cut = events[len(events) * 2 // 3][0]
    copy = FundLedger(store_env(other_store), clock=lambda: TODAY)
    try:
        assert copy_log(app, copy, lambda position, _: position <= cut) > 1000
        whole, part = Views(app), Views(copy)
        whole.catch_up()
        part.catch_up()
        assert content(whole, AsOf(position=cut)) == content(part)
        assert content(whole, AsOf(position=cut)) != content(whole)
    finally:
        copy.close()
