"""The roll-up across counties: one line per county, then execution totals per city and for the
whole selection (the province, or one city). Totals are sums of the counties' fen; the rate of a
total is its own disbursed ÷ available, never an average of rates.

A county whose stored events the views had to leave out (`source.inconsistencies`) gets no line
and is in no total: it is listed under `inconsistent`, with where and why, and the rest reads on."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from ledger.errors import UnknownCounty
from ledger.rules import ProgrammeRules
from projections import duties as D
from projections import model as M
from projections import money as Y
from projections import source
from projections.db import Cursor
from projections.report import first_appropriation, programme_rules


@dataclass(frozen=True)
class CountyLine:
    county_code: str
    county_name: str
    city_code: str
    money: Y.CountyMoney
    plan_issues: list[str]
    actual_issues: list[str]
    execution: list[Y.Execution]
    reports_on_time: int
    reports_late: int
    reports_missing: int
    acceptance_status: str
    acceptance_status_zh: str


@dataclass(frozen=True)
class ExecutionTotal:
    year: int
    counties: int
    fully_executed_counties: int
    row: Y.Execution


@dataclass(frozen=True)
class Rollup:
    scope: str  # a city code, or the province code for the whole programme
    counties: int
    allocation_fen: int
    appropriated_fen: int
    disbursed_fen: int
    recovered_fen: int
    cash_fen: int
    execution: list[ExecutionTotal]


@dataclass(frozen=True)
class Summary:
    programme: str
    as_of: dict[str, Any]
    judged_on: str
    position: int
    year: int | None
    counties: list[CountyLine]
    cities: list[Rollup]
    total: Rollup
    inconsistent: list[source.Inconsistency]  # left out of the lines and totals above

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _line(rules: ProgrammeRules, info: source.CountyInfo, flows: list[source.Flow],
          marks: list[source.Milestone], on: dt.date, year: int | None) -> CountyLine:
    led = Y.Ledger(flows)
    last_year = year if year is not None else 9999
    checks = Y.compliance(info, rules, led, marks, last_year)
    closed = [int(m.ref) for m in marks if m.kind == M.CLOSE]
    execution = [e for e in Y.execution(rules, led, on, closed) if year is None or e.year == year]
    done = D.dated_by(marks, on)  # the duties done by the day they are judged at
    reports = [r for r in D.monthly_reports(rules, first_appropriation(led), done, on)
               if r.required]
    acceptance = D.acceptance(rules, done, on)
    return CountyLine(
        info.county_code, info.county_name, info.city_code,
        Y.county_money(info, rules, led, last_year),
        [c.category for c in checks if c.basis == "plan" and c.status in (M.BELOW_MIN,
                                                                         M.ABOVE_MAX)],
        [c.category for c in checks if c.basis == "actual" and c.status in (M.BELOW_MIN,
                                                                           M.ABOVE_MAX)],
        execution, sum(r.status == D.ON_TIME for r in reports),
        sum(r.status == D.LATE for r in reports), sum(r.status == D.MISSING for r in reports),
        acceptance.status, acceptance.status_zh)


def _total(rules: ProgrammeRules, scope: str, lines: list[CountyLine]) -> Rollup:
    by_year: dict[int, list[Y.Execution]] = {}
    for line in lines:
        for e in line.execution:
            by_year.setdefault(e.year, []).append(e)
    top = max(rules.execution_labels, key=lambda label: label.min_rate_bp).min_rate_bp
    totals = []
    for year, rows in sorted(by_year.items()):
        carry_in = sum(r.carry_in_fen for r in rows)
        row = Y.execution_row(
            rules, year, carry_in, sum(r.appropriated_fen for r in rows),
            sum(r.disbursed_fen for r in rows), sum(r.recovered_fen for r in rows),
            sum(r.carry_out_fen for r in rows), all(r.final for r in rows))
        full = sum(r.rate_bp is not None and r.rate_bp >= top for r in rows)
        totals.append(ExecutionTotal(year, len(rows), full, row))
    return Rollup(
        scope, len(lines), sum(x.money.allocation_fen for x in lines),
        sum(x.money.appropriated_fen for x in lines), sum(x.money.disbursed_fen for x in lines),
        sum(x.money.recovered_fen for x in lines), sum(x.money.cash_fen for x in lines), totals)


def summary(cur: Cursor, programme: str, today: dt.date, as_of: M.AsOf = M.CURRENT,
            city: str | None = None, year: int | None = None) -> Summary:
    """Every county of the programme (or of one city), with city and overall totals."""
    rules = programme_rules(cur, programme, as_of)
    infos = source.counties(cur, programme, as_of, city=city)
    if city is not None and not infos:
        raise UnknownCounty(f"市 {city} 没有纳入项目 {programme} 的县（截至所查日期/位置）",
                            f"no county of city {city} was admitted to {programme} at the "
                            "date/position read", "city", city_code=city)
    codes = {i.county_code for i in infos}
    flags = [f for f in source.inconsistencies(cur, programme, as_of)
             if f.county_code in codes or not f.county_code]
    flagged = {f.county_code for f in flags}
    infos = [i for i in infos if i.county_code not in flagged]
    all_flows = source.flows(cur, programme, as_of)
    all_marks = source.milestones(cur, programme, as_of)
    on = D.judged_on(as_of.day, year, today)  # as for one county (report.county_status)
    lines = [_line(rules, i, all_flows.get(i.county_code, []),
                   all_marks.get(i.county_code, []), on, year) for i in infos]
    cities = [] if city else sorted({x.city_code for x in lines})  # one city: total is it
    return Summary(
        programme, as_of.to_dict(), on.isoformat(),
        as_of.position if as_of.position is not None else source.views_position(cur), year,
        lines, [_total(rules, c, [x for x in lines if x.city_code == c]) for c in cities],
        _total(rules, city or rules.province_code, lines), flags)
