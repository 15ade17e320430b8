"""Monthly reports can be corrected (issue 8): a second report of a month with other content is
recorded as the month's next version (both kept), an exact retry is still a replay, and the
answer says the version and whether it was on time; the duties read model judges the month by
its first version. On SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from ledger import errors as E
from ledger.application import FundLedger
from ledger.county import CountyFund, county_stream_id
from projections.service import Views
from tests.conftest import COUNTY, COUNTY_ACTOR, PROGRAMME, PROVINCE, cmd, event_count

STREAM = county_stream_id(PROGRAMME, COUNTY)


def report(summary: str, day: str, period: str = "2020-05", **extra: str) -> dict[str, str]:
    return cmd("monthly_report", period=period, summary=summary, business_date=day, **extra)


def reports_in_stream(app: FundLedger) -> list[tuple[str, str, str]]:
    return [(e.entry_id, e.period, e.summary) for e in app.events.get(STREAM)
            if isinstance(e, CountyFund.MonthlyReportSubmitted)]


@pytest.fixture
def funded(app: FundLedger) -> FundLedger:
    """The county with its first appropriation in April 2020: reports due from 2020-04."""
    app.execute(cmd("appropriation", entry_id="A1", batch=1, amount="1000000",
                    document_no="粤A1", business_date="2020-04-01"), PROVINCE)
    return app


def test_a_correction_is_the_next_version_and_both_are_kept(funded: FundLedger) -> None:
    """The same month again with other content, under the month's default id: version 2 under
    `report:2020-05/v2`, superseding version 1; both events stay in the stream."""
    first = funded.execute(report("五月进展", "2020-06-03"), COUNTY_ACTOR)
    assert first.entry_id == "report:2020-05" and first.report is not None
    assert (first.report.version, first.report.supersedes, first.report.due_date,
            first.report.on_time, first.report.timeliness) == (
        1, "", "2020-06-04", True, "on_time")
    second = funded.execute(report("五月进展（更正）", "2020-06-10"), COUNTY_ACTOR)
    assert not second.replayed and second.entry_id == "report:2020-05/v2"
    assert second.report is not None
    assert (second.report.version, second.report.supersedes, second.report.on_time,
            second.report.timeliness_zh) == (2, "report:2020-05", False, "逾期报送")
    assert second.to_dict()["report"]["timeliness"] == "late"
    assert reports_in_stream(funded) == [
        ("report:2020-05", "2020-05", "五月进展"),
        ("report:2020-05/v2", "2020-05", "五月进展（更正）")]
    assert funded.county(PROGRAMME, COUNTY).reports == {
        "2020-05": ["report:2020-05", "report:2020-05/v2"]}


def test_an_exact_retry_of_any_version_is_a_replay(funded: FundLedger) -> None:
    """Resending version 1 or version 2 unchanged records nothing and answers that version."""
    first = funded.execute(report("五月进展", "2020-06-03"), COUNTY_ACTOR)
    second = funded.execute(report("五月进展（更正）", "2020-06-10"), COUNTY_ACTOR)
    before = event_count(funded)
    again_2 = funded.execute(report("五月进展（更正）", "2020-06-10"), COUNTY_ACTOR)
    again_1 = funded.execute(report("五月进展", "2020-06-03"), COUNTY_ACTOR)
    under_v2 = funded.execute(report("五月进展（更正）", "2020-06-10",
                                     entry_id="report:2020-05/v2"), COUNTY_ACTOR)
    assert event_count(funded) == before
    assert again_2.replayed and again_1.replayed and under_v2.replayed
    assert (again_2.version, again_2.entry_id) == (second.version, "report:2020-05/v2")
    assert (again_1.version, again_1.entry_id) == (first.version, "report:2020-05")
    assert under_v2.version == second.version
    assert again_2.report is not None and again_2.report.version == 2


def test_a_correction_under_a_new_id_keeps_that_id(funded: FundLedger) -> None:
    """A client that gives each submission its own id (an Idempotency-Key) keeps it."""
    funded.execute(report("五月进展", "2020-06-03", entry_id="R-05"), COUNTY_ACTOR)
    second = funded.execute(report("更正", "2020-06-04", entry_id="R-05-fix"), COUNTY_ACTOR)
    assert second.entry_id == "R-05-fix" and second.report is not None
    assert (second.report.version, second.report.supersedes, second.report.on_time) == (
        2, "R-05", True)


def test_an_id_of_another_month_or_entry_is_still_a_conflict(funded: FundLedger) -> None:
    """R9 stands: a report under the id of another month's report, or of a money entry."""
    funded.execute(report("五月进展", "2020-06-03", entry_id="R-05"), COUNTY_ACTOR)
    before = event_count(funded)
    for payload in (report("六月进展", "2020-07-03", period="2020-06", entry_id="R-05"),
                    report("五月进展", "2020-06-03", entry_id="A1")):
        with pytest.raises(E.EntryConflict) as refused:
            funded.execute(payload, COUNTY_ACTOR)
        assert refused.value.rule == "R9" and refused.value.details["version"] >= 1
    assert event_count(funded) == before


def test_a_correction_is_checked_like_a_report(funded: FundLedger) -> None:
    """A correction dated before the month ends is refused as any report would be."""
    funded.execute(report("五月进展", "2020-06-03"), COUNTY_ACTOR)
    before = event_count(funded)
    with pytest.raises(E.InvalidField) as refused:
        funded.execute(report("更正", "2020-05-20"), COUNTY_ACTOR)
    assert refused.value.field == "period" and event_count(funded) == before


def test_the_duties_judge_a_month_by_its_first_version(funded: FundLedger) -> None:
    """An on-time report corrected late stays on time; a late one corrected stays late; the
    calendar shows the versions and the latest entry id and date."""
    funded.execute(report("五月进展", "2020-06-03"), COUNTY_ACTOR)
    funded.execute(report("五月进展（更正）", "2020-06-20"), COUNTY_ACTOR)
    funded.execute(report("六月进展", "2020-07-08", period="2020-06"), COUNTY_ACTOR)
    funded.execute(report("六月进展（更正）", "2020-07-09", period="2020-06"), COUNTY_ACTOR)
    views = Views(funded)
    views.catch_up()
    duties = {r.period: r for r in views.county(PROGRAMME, COUNTY).reports}
    may, june = duties["2020-05"], duties["2020-06"]
    assert (may.status, may.submitted_on, may.versions, may.corrected_on, may.entry_id) == (
        "on_time", "2020-06-03", 2, "2020-06-20", "report:2020-05/v2")
    assert (june.status, june.submitted_on, june.versions, june.corrected_on) == (
        "late", "2020-07-08", 2, "2020-07-09")
    assert duties["2020-04"].versions == 0 and duties["2020-04"].entry_id == ""
