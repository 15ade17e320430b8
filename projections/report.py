"""One county's status — money, balances, compliance, execution, batch-2 indicators, duties and
the project register — read in one snapshot of the views, current or as of a date/position."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from ledger.errors import StoreInconsistent, UnknownCounty, UnknownProgramme
from ledger.rules import ProgrammeRules
from projections import duties as D
from projections import model as M
from projections import money as Y
from projections import source
from projections.db import Cursor
from projections.register import ProjectRow, project_rows


@dataclass(frozen=True)
class Indicators:
    """What the province weighs for the batch-2 decision (第二批资金下达依据)."""

    batch1_year: int
    batch1_rate_bp: int | None
    batch1_status_zh: str
    batch1_final: bool  # the batch-1 year has ended or is closed: its rate is no longer provisional
    plan_compliant: bool
    plan_issues: list[str]
    actual_compliant: bool
    actual_issues: list[str]
    reports_due: int
    reports_on_time: int
    reports_late: int
    reports_missing: int
    acceptance_status: str
    acceptance_status_zh: str
    batch2_decided_on: str | None
    batch2_document_no: str
    batch2_appropriated_fen: int


@dataclass(frozen=True)
class CountyStatus:
    programme: str
    county_code: str
    county_name: str
    city_code: str
    as_of: dict[str, Any]
    judged_on: str
    position: int
    year: int | None
    money: Y.CountyMoney
    balances: list[Y.Balance]
    compliance: list[Y.ShareCheck]
    execution: list[Y.Execution]
    indicators: Indicators
    reports: list[D.ReportDuty]
    typical_cases: list[D.CaseDuty]
    acceptance: D.AcceptanceDuty
    projects: list[ProjectRow]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def programme_rules(cur: Cursor, programme: str, as_of: M.AsOf) -> ProgrammeRules:
    rules = source.rules(cur, programme, as_of)
    if rules is None:
        raise UnknownProgramme(f"项目 {programme} 尚未开设（截至所查日期/位置）",
                               f"programme {programme} was not open at the date/position read",
                               "programme")
    return rules


def county_info(cur: Cursor, programme: str, county: str, as_of: M.AsOf) -> source.CountyInfo:
    """The county's record; STORE_INCONSISTENT if the views had to leave out one of its
    events (its figures would not be what its events say)."""
    info = source.county(cur, programme, county, as_of)
    if info is None:
        raise UnknownCounty(f"县 {county} 未纳入项目 {programme}（截至所查日期/位置）",
                            f"county {county} was not admitted to {programme} at the "
                            "date/position read", "county_code")
    flags = source.inconsistencies(cur, programme, as_of, county)
    if flags:
        raise county_inconsistent(flags)
    return info


def county_inconsistent(flags: list[source.Inconsistency]) -> StoreInconsistent:
    first = flags[0]
    more_zh = f"（另有 {len(flags) - 1} 处）" if len(flags) > 1 else ""
    more_en = f" ({len(flags) - 1} more)" if len(flags) > 1 else ""
    return StoreInconsistent(
        f"县 {first.county_code}（项目 {first.programme}）的存储事件不一致，无法读取：流 "
        f"{first.stream_id} 版本 {first.version}（日志位置 {first.position}）：{first.problem_zh}"
        f"{more_zh}",
        f"county {first.county_code} ({first.programme}) cannot be read: its stored events are "
        f"inconsistent at stream {first.stream_id} version {first.version} (log position "
        f"{first.position}): {first.problem_en}{more_en}", "county_code",
        programme=first.programme, county_code=first.county_code, stream_id=first.stream_id,
        version=first.version, position=first.position, count=len(flags))


def first_appropriation(led: Y.Ledger) -> dt.date | None:
    day = led.first_day(M.APPROPRIATED)
    return M.day_date(day) if day is not None else None


def indicators(rules: ProgrammeRules, compliance: list[Y.ShareCheck],
               execution: list[Y.Execution], reports: list[D.ReportDuty],
               acceptance: D.AcceptanceDuty, milestones: list[source.Milestone],
               money: Y.CountyMoney) -> Indicators:
    first = rules.tranches[0]
    batch1 = next((e for e in execution if e.year == first.year), None)
    decided = next((t for t in rules.tranches if t.requires_decision), None)
    decision = next((m for m in milestones if m.kind == M.BATCH_DECISION and decided is not None
                     and m.ref == str(decided.batch)), None)
    issues = {basis: [c.category for c in compliance if c.basis == basis
                      and c.status in (M.BELOW_MIN, M.ABOVE_MAX)] for basis in ("plan", "actual")}
    required = [r for r in reports if r.required and r.status != D.NOT_DUE]
    return Indicators(
        first.year, batch1.rate_bp if batch1 else None,
        batch1.status_zh if batch1 else Y.NO_FUNDS_ZH, batch1.final if batch1 else False,
        not issues["plan"], issues["plan"], not issues["actual"], issues["actual"],
        len(required), sum(r.status == D.ON_TIME for r in required),
        sum(r.status == D.LATE for r in required), sum(r.status == D.MISSING for r in required),
        acceptance.status, acceptance.status_zh,
        M.day_date(decision.day).isoformat() if decision else None,
        decision.document if decision else "",
        money.appropriated_by_batch_fen.get(str(decided.batch), 0) if decided else 0)


def county_status(cur: Cursor, programme: str, county: str, today: dt.date,
                  as_of: M.AsOf = M.CURRENT, year: int | None = None) -> CountyStatus:
    """Everything the views say about one county, from one snapshot. Duties are judged at
    `duties.judged_on`: the as-of date, else the end of `year`, else today."""
    rules = programme_rules(cur, programme, as_of)
    info, on = county_info(cur, programme, county, as_of), D.judged_on(as_of.day, year, today)
    led = Y.Ledger(source.flows(cur, programme, as_of, county).get(county, []))
    marks = source.milestones(cur, programme, as_of, county).get(county, [])
    done = D.dated_by(marks, on)  # the duties done by the day they are judged at
    records = source.projects(cur, programme, county, as_of)
    last_year = year if year is not None else 9999
    closed = [int(m.ref) for m in marks if m.kind == M.CLOSE]
    years = [y for y in rules.years if dt.date(y, 1, 1) <= on]
    money = Y.county_money(info, rules, led, last_year)
    compliance = Y.compliance(info, rules, led, marks, last_year)
    execution = Y.execution(rules, led, on, closed)
    start = first_appropriation(led)
    reports = D.monthly_reports(rules, start, done, on)
    acceptance = D.acceptance(rules, done, on)
    return CountyStatus(
        programme, county, info.county_name, info.city_code, as_of.to_dict(), on.isoformat(),
        as_of.position if as_of.position is not None else source.views_position(cur), year,
        money, Y.balances(rules, led, [year] if year is not None else [*years, None]),
        compliance, [e for e in execution if year is None or e.year == year],
        indicators(rules, compliance, execution, reports, acceptance, done, money),
        reports, D.typical_cases(rules, start, done, on), acceptance,
        project_rows(rules, records))


def balances_only(cur: Cursor, programme: str, county: str,
                  as_of: M.AsOf = M.CURRENT) -> tuple[Y.CountyMoney, list[Y.Balance]]:
    """The balance read: the county's money and its balances per category, to date."""
    rules = programme_rules(cur, programme, as_of)
    info = county_info(cur, programme, county, as_of)
    led = Y.Ledger(source.flows(cur, programme, as_of, county).get(county, []))
    return Y.county_money(info, rules, led), Y.balances(rules, led, [None])
