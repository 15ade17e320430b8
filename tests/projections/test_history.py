"""History (`projections.history`) on SQLite and PostgreSQL: by actor across counties, by
business-date range, by project (reversals included), and cursor pages that neither skip nor
repeat an event while others append."""

from __future__ import annotations

import datetime as dt
import json
import threading
from typing import Any

import pytest
from click.testing import CliRunner

from api.cli.app import cli
from ledger.actors import Actor
from ledger.application import FundLedger
from ledger.errors import InvalidField, UnknownCounty
from projections.history import (
    HISTORY_PAGE_MAX_EVENTS,
    HistoryEvent,
    HistoryQuery,
    encode_cursor,
)
from projections.service import Views
from tests.conftest import ALLOCATION_FEN, COUNTY, COUNTY_ACTOR, PROGRAMME, PROVINCE, event_count

OTHER = "441422"  # 大埔县, the same city
OTHER_ACTOR = Actor("county-officer-9", "county", OTHER)
SECOND_OFFICER = Actor("county-officer-2", "county", COUNTY)


def _cmd(county: str, kind: str, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "programme": PROGRAMME, "county_code": county, **fields}


def _fund(app: FundLedger, county: str, officer: Actor) -> None:
    """Money in, one project, two disbursements (May and July), a reversal of the first."""
    app.execute(_cmd(county, "appropriation", entry_id="A1", batch=1, amount="1000000",
                     document_no="粤商务建〔2020〕1号", business_date="2020-04-01"), PROVINCE)
    app.execute(_cmd(county, "project", project_code="P1", name="培训", category="training",
                     budget="500000", responsible_person="张三", implementing_unit="县商务局",
                     start_date="2020-04-10", end_date="2021-12-31",
                     business_date="2020-04-10"), officer)
    for entry, day in (("D1", "2020-05-01"), ("D2", "2020-07-01")):
        app.execute(_cmd(county, "disbursement", entry_id=entry, project_code="P1",
                         amount="12345.67", payee="某公司", voucher_no=f"V-{entry}",
                         business_date=day), officer)
    app.execute(_cmd(county, "reversal", entry_id="R1", target_entry_id="D1", amount="100.01",
                     reason="金额录入错误", business_date="2020-08-01"), officer)


@pytest.fixture
def two_counties(app: FundLedger) -> FundLedger:
    app.admit_county(PROGRAMME, OTHER, "大埔县", ALLOCATION_FEN, "粤商务建字〔2020〕2号",
                     PROVINCE, dt.date(2020, 3, 3))
    _fund(app, COUNTY, COUNTY_ACTOR)
    _fund(app, OTHER, OTHER_ACTOR)
    return app


def _all(views: Views, query: HistoryQuery, limit: int = HISTORY_PAGE_MAX_EVENTS,
         ) -> list[HistoryEvent]:
    page = views.history(query, limit=limit)
    events = list(page.events)
    while page.next_cursor is not None:
        page = views.history(query, page.next_cursor, limit)
        events += page.events
    return events


def test_history_by_actor_spans_the_counties_and_only_that_person(
        two_counties: FundLedger) -> None:
    """The province officer appropriated in both counties (and opened the programme): all of it,
    in log order, and nothing done by a county officer."""
    views = Views(two_counties)
    mine = _all(views, HistoryQuery(PROGRAMME, actor=PROVINCE.id))
    assert {e.actor_id for e in mine} == {PROVINCE.id}
    assert {e.county_code for e in mine if e.type == "AppropriationReceived"} == {COUNTY, OTHER}
    assert [e.position for e in mine] == sorted(e.position for e in mine)
    officer = _all(views, HistoryQuery(PROGRAMME, actor=OTHER_ACTOR.id))
    assert [e.entry_id for e in officer] == ["project:P1", "D1", "D2", "R1"]
    assert {e.county_code for e in officer} == {OTHER}
    assert _all(views, HistoryQuery(PROGRAMME, COUNTY, actor=OTHER_ACTOR.id)) == []


def test_history_by_business_date_range_is_inclusive(two_counties: FundLedger) -> None:
    """since/until bound the business date at both ends, with and without an actor."""
    views = Views(two_counties)
    q = HistoryQuery(PROGRAMME, COUNTY, since=dt.date(2020, 5, 1), until=dt.date(2020, 7, 1))
    assert [e.entry_id for e in _all(views, q)] == ["D1", "D2"]
    late = HistoryQuery(PROGRAMME, actor=COUNTY_ACTOR.id, since=dt.date(2020, 7, 2))
    assert [(e.county_code, e.entry_id) for e in _all(views, late)] == [(COUNTY, "R1")]


def test_reversal_shows_target_reason_and_signed_amount(two_counties: FundLedger) -> None:
    """A reversal is found by its target's project and entry; its amount is negative."""
    views = Views(two_counties)
    by_project = _all(views, HistoryQuery(PROGRAMME, COUNTY, project="P1"))
    assert [e.entry_id for e in by_project] == ["project:P1", "D1", "D2", "R1"]
    reversal = by_project[-1]
    assert (reversal.target_entry_id, reversal.reason) == ("D1", "金额录入错误")
    assert (reversal.amount_fen, reversal.signed_amount_fen) == (10001, -10001)
    assert [e.entry_id for e in _all(views, HistoryQuery(PROGRAMME, COUNTY, entry="D1"))] == \
        ["D1", "R1"]


def test_pages_neither_skip_nor_repeat_while_events_are_appended(
        two_counties: FundLedger) -> None:
    """Between every two pages another event of the query is recorded: the pages together are
    every event of the query, each once, in log order."""
    views = Views(two_counties)
    query = HistoryQuery(PROGRAMME, actor=COUNTY_ACTOR.id)
    seen: list[int] = []
    page = views.history(query, limit=2)
    added = 0
    for n in range(20):
        seen += [e.position for e in page.events]
        if page.next_cursor is None:
            break
        added += 1
        two_counties.execute(_cmd(COUNTY, "disbursement", entry_id=f"X{n}", project_code="P1",
                                  amount="1", payee="p", voucher_no=f"V-X{n}",
                                  business_date="2020-09-01"), COUNTY_ACTOR)
        page = views.history(query, page.next_cursor, 2)
    assert page.next_cursor is None and added > 0
    assert seen == [e.position for e in _all(views, query)]
    assert len(seen) == len(set(seen)) == 4 + added  # the project, D1, D2, R1 and each added


def test_pages_under_a_concurrent_writer_are_a_prefix_of_the_log(
        two_counties: FundLedger) -> None:
    """A writer thread appends while pages of one event are read: what the pages gave is
    exactly the query's events up to the last one given (none skipped, none twice)."""
    views = Views(two_counties)
    query = HistoryQuery(PROGRAMME, COUNTY, actor=SECOND_OFFICER.id)

    def write() -> None:
        for n in range(15):
            two_counties.execute(_cmd(COUNTY, "disbursement", entry_id=f"W{n}", amount="1",
                                      project_code="P1", payee="p", voucher_no=f"V-W{n}",
                                      business_date="2020-09-01"), SECOND_OFFICER)

    writer = threading.Thread(target=write)
    writer.start()
    seen: list[int] = []
    cursor = None
    while writer.is_alive() or cursor is not None:
        page = views.history(query, cursor, 1)
        seen += [e.position for e in page.events]
        cursor = page.next_cursor or (encode_cursor(query, seen[-1]) if seen else None)
        if not writer.is_alive() and page.next_cursor is None:
            break
    writer.join()
    everything = [e.position for e in _all(views, query)]
    assert len(everything) == 15
    assert seen == everything[:len(seen)] and len(seen) == len(set(seen))


def test_bad_cursor_limit_or_county_is_refused(two_counties: FundLedger) -> None:
    """A cursor of another query, a garbled cursor, a page too large, an unknown county."""
    views = Views(two_counties)
    other = encode_cursor(HistoryQuery(PROGRAMME, OTHER), 1)
    for cursor in (other, "garbled!", "aDE6eDp5"):
        with pytest.raises(InvalidField) as e:
            views.history(HistoryQuery(PROGRAMME, COUNTY), cursor)
        assert e.value.field == "cursor"
    with pytest.raises(InvalidField) as e:
        views.history(HistoryQuery(PROGRAMME), limit=HISTORY_PAGE_MAX_EVENTS + 1)
    assert e.value.details["max_events"] == HISTORY_PAGE_MAX_EVENTS
    with pytest.raises(UnknownCounty):
        views.history(HistoryQuery(PROGRAMME, "449999"))


def test_cli_history_options(two_counties: FundLedger, store_url: str) -> None:
    """`history --actor --since --until --limit --cursor`: JSON pages with exact amounts; the
    table in Chinese and English, grouped yuan, a reversal's target, reason and negative
    amount; malformed options exit 2 (usage) or 1 (a bad cursor) and change nothing."""
    runner = CliRunner()

    def run(*args: str) -> Any:
        return runner.invoke(cli, ["--db", store_url, *args], catch_exceptions=False)

    first = run("--json", "history", "--actor", COUNTY_ACTOR.id, "--limit", "3")
    doc = json.loads(first.output)
    assert [e["entry_id"] for e in doc["events"]] == ["project:P1", "D1", "D2"]
    assert doc["events"][1]["amount_fen"] == 1234567 and doc["next_cursor"]
    rest = json.loads(run("--json", "history", "--actor", COUNTY_ACTOR.id, "--limit", "3",
                          "--cursor", doc["next_cursor"]).output)
    assert [e["signed_amount_fen"] for e in rest["events"]] == [-10001]
    assert rest["next_cursor"] is None
    table = run("history", "--county", COUNTY, "--since", "2020-07-01", "--until", "2020-08-01")
    assert table.exit_code == 0
    assert "12,345.67" in table.output and "-100.01" in table.output
    assert "红字冲销" in table.output and "reverses D1" in table.output
    assert "金额录入错误" in table.output and "拨付" in table.output
    before = event_count(two_counties)
    for args, code in ((["--since", "2020-13-01"], 2), (["--limit", "0"], 2),
                       (["--limit", str(HISTORY_PAGE_MAX_EVENTS + 1)], 2),
                       (["--cursor", "nonsense"], 1)):
        r = run("history", "--county", COUNTY, *args)
        assert r.exit_code == code, r.output
        assert "Traceback" not in r.output and "/" in r.output
    assert event_count(two_counties) == before
