"""From decoded events to the rows of the read models.

Each event becomes at most one money fact (`MoneyRows`) and at most one milestone
(`MilestoneRows`). What an event does not carry itself — which county a stream is, which category
a project is in, which project, category and batch a reversal's target had — comes from
`Lookups`: facts of the log that never change once recorded, so they may be cached across
batches, transactions and rebuilds.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ledger.county import CountyFund
from ledger.errors import StoreInconsistent
from ledger.programme import Programme
from ledger.sql import Row
from projections import model as M
from projections.db import Cursor
from projections.schema import COUNTIES, FACTS, PROGRAMMES, PROJECTS

Key = tuple[str, str, str]  # programme, county code, entry id or project code
# Per-project sums, in the order of PROJECT_MEASURES, then the last entry's position, id,
# measure and day.
PROJECT_MEASURES = (M.BUDGET, M.DISBURSED, M.DISBURSED_REV, M.EXPENDED, M.EXPENDED_REV)


class UnknownStream(StoreInconsistent):
    """A county event whose stream was never opened in the log: the log is not whole."""


def inconsistent(what_zh: str, what_en: str, field: str) -> StoreInconsistent:
    return StoreInconsistent(f"{what_zh}：存储可能已被改动，请运行 fundledger verify",
                             f"{what_en}: the store may have been changed; run "
                             "`fundledger verify`", field)


@dataclass
class Lookups:
    """Immutable facts of the log that translation needs beyond one event."""

    streams: dict[str, tuple[str, str]] = field(default_factory=dict)
    categories: dict[Key, str] = field(default_factory=dict)

    def load_streams(self, cur: Cursor, table: str) -> None:
        for stream_id, programme, county in cur.execute(
            f"SELECT stream_id, programme, county_code FROM {table}"
        ).fetchall():
            self.streams[str(stream_id)] = (str(programme), str(county))

    def county_of(self, cur: Cursor, event: Any) -> tuple[str, str]:
        found = self.streams.get(str(event.originator_id))
        if found is None:  # opened by another process's batch, or never (a broken log)
            self.load_streams(cur, COUNTIES)
            found = self.streams.get(str(event.originator_id))
        if found is None:
            raise UnknownStream(
                f"流 {event.originator_id} 的事件之前没有开设该县的事件：存储可能已被改动，请运行 "
                "fundledger verify",
                f"an event of stream {event.originator_id}, which no earlier event opened: the "
                "store may have been changed; run `fundledger verify`", "stream_id")
        return found

    def category(self, cur: Cursor, key: Key) -> str:
        found = self.categories.get(key)
        if found is None:
            row = cur.execute(
                f"SELECT category FROM {PROJECTS} WHERE programme = ? AND county_code = ? "
                "AND project_code = ?", key,
            ).fetchone()
            if row is None:
                raise inconsistent(f"事件引用了未登记的项目 {key}", f"an event names project "
                                   f"{key}, which no earlier event registered", "project_code")
            found = self.categories[key] = str(row[0])
        return found

    def observe(self, cur: Cursor, event: Any) -> None:
        """Learn from the events that define streams and projects, whoever projects them."""
        if isinstance(event, CountyFund.FundOpened):
            self.streams[str(event.originator_id)] = (event.programme, event.county_code)
        elif isinstance(event, CountyFund.ProjectRegistered):
            programme, county = self.county_of(cur, event)
            self.categories[(programme, county, event.project_code)] = event.category


@dataclass
class MoneyRows:
    """What one batch adds to the `money` projection."""

    programmes: list[Row] = field(default_factory=list)
    counties: list[Row] = field(default_factory=list)
    facts: list[Row] = field(default_factory=list)
    # (programme, county, year, category, batch, measure) -> [amount, earliest day]
    flows: dict[tuple[str, str, int, str, int, str], list[int]] = field(default_factory=dict)
    new_projects: list[Row] = field(default_factory=list)
    project_deltas: dict[Key, list[Any]] = field(default_factory=dict)
    # category, batch and project of this batch's facts, by entry: reversal targets
    targets: dict[Key, tuple[str, int, str]] = field(default_factory=dict)

    def add_fact(self, position: int, programme: str, county: str, day: int, measure: str,
                 category: str, batch: int, project: str, entry_id: str, amount_fen: int) -> None:
        self.facts.append((position, programme, county, day, measure, category, batch, project,
                           entry_id, amount_fen))
        self.targets[(programme, county, entry_id)] = (category, batch, project)
        flow = self.flows.setdefault((programme, county, day // 10000, category, batch, measure),
                                     [0, day])
        flow[0] += amount_fen
        flow[1] = min(flow[1], day)
        if project:
            delta = self.project_deltas.setdefault(
                (programme, county, project), [0] * len(PROJECT_MEASURES) + [0, "", "", 0])
            delta[PROJECT_MEASURES.index(measure)] += amount_fen
            delta[len(PROJECT_MEASURES):] = [position, entry_id, measure, day]


@dataclass
class MilestoneRows:
    """What one batch adds to the `milestones` projection."""

    rows: list[Row] = field(default_factory=list)


class Translator:
    """Turns one event at a log position into rows; one instance per catch-up batch.

    An event the views cannot apply (it contradicts the events before it) raises
    StoreInconsistent before any of its rows is added; the runner then `flag`s it. `careful`
    also checks, before each event, what the tables' unique keys would otherwise refuse at
    write time: the runner redoes a batch carefully when its write hit one.
    """

    def __init__(self, cur: Cursor, lookups: Lookups, careful: bool = False) -> None:
        self.cur, self.lookups, self.careful = cur, lookups, careful
        self.money, self.milestones = MoneyRows(), MilestoneRows()
        self.flags: list[Row] = []

    def flag(self, originator_id: Any, version: int, position: int,
             error: StoreInconsistent) -> None:
        """Leave the event at `position` out, and flag its county (if the log names one)."""
        programme, county = self.lookups.streams.get(str(originator_id), ("", ""))
        self.flags.append((position, programme, county, str(originator_id), version,
                           error.zh, error.en))

    # ---- careful: unique keys ------------------------------------------------------------

    def check_unique(self, event: Any) -> None:
        """StoreInconsistent if the event would repeat a programme, county, project or money
        entry that the views (or this batch) already hold."""
        kind = type(event)
        if kind not in _MONEY:
            return
        if kind is Programme.Opened:
            self._unique(PROGRAMMES, "programme = ?", (event.programme,),
                         event.programme in {r[0] for r in self.money.programmes},
                         f"项目 {event.programme} 被再次开设",
                         f"programme {event.programme} is opened a second time", "programme")
            return
        programme, county = (event.programme, event.county_code) \
            if kind is CountyFund.FundOpened else self.lookups.county_of(self.cur, event)
        if kind is CountyFund.FundOpened:
            self._unique(COUNTIES, "programme = ? AND county_code = ?", (programme, county),
                         (programme, county) in {(r[0], r[1]) for r in self.money.counties},
                         f"县 {county} 被再次纳入项目 {programme}",
                         f"county {county} is admitted to {programme} a second time",
                         "county_code")
            return
        if kind is CountyFund.ProjectRegistered:
            key = (programme, county, event.project_code)
            self._unique(PROJECTS, "programme = ? AND county_code = ? AND project_code = ?",
                         key, key in {r[:3] for r in self.money.new_projects},
                         f"县 {county} 的项目 {event.project_code} 被再次登记",
                         f"county {county}'s project {event.project_code} is registered a "
                         "second time", "project_code")
        key = (programme, county, event.entry_id)
        self._unique(FACTS, "programme = ? AND county_code = ? AND entry_id = ?", key,
                     key in self.money.targets,
                     f"县 {county} 的条目编号 {event.entry_id} 重复",
                     f"county {county}'s entry id {event.entry_id} is used a second time",
                     "entry_id")

    def _unique(self, table: str, where: str, key: tuple[Any, ...], in_batch: bool,
                zh: str, en: str, field: str) -> None:
        if in_batch or self.cur.execute(f"SELECT 1 FROM {table} WHERE {where}",
                                        key).fetchone() is not None:
            raise inconsistent(zh, en, field)

    # ---- money --------------------------------------------------------------------------

    def money_event(self, event: Any, position: int) -> None:
        handler = _MONEY.get(type(event))
        if handler is not None:
            handler(self, event, position)

    def _fact(self, event: Any, position: int, measure: str, amount_fen: int,
              category: str = "", batch: int = 0, project: str = "") -> None:
        programme, county = self.lookups.county_of(self.cur, event)
        self.money.add_fact(position, programme, county, M.day_int(event.business_date),
                            measure, category, batch, project, event.entry_id, amount_fen)

    def _project_fact(self, event: Any, position: int, measure: str, amount_fen: int) -> None:
        programme, county = self.lookups.county_of(self.cur, event)
        category = self.lookups.category(self.cur, (programme, county, event.project_code))
        self._fact(event, position, measure, amount_fen, category, 0, event.project_code)

    def _programme_opened(self, event: Any, position: int) -> None:
        rules = json.dumps(event.rules, ensure_ascii=False, sort_keys=True)
        self.money.programmes.append((event.programme, event.total_fen, rules, position,
                                      M.day_int(event.business_date)))

    def _fund_opened(self, event: Any, position: int) -> None:
        self.money.counties.append((
            event.programme, event.county_code, str(event.originator_id), event.county_name,
            event.city_code, event.allocation_fen, position, M.day_int(event.business_date)))

    def _appropriation(self, event: Any, position: int) -> None:
        self._fact(event, position, M.APPROPRIATED, event.amount_fen, batch=event.batch)

    def _project(self, event: Any, position: int) -> None:
        programme, county = self.lookups.county_of(self.cur, event)
        day = M.day_int(event.business_date)
        self.money.new_projects.append((
            programme, county, event.project_code, event.name, event.category,
            event.responsible_person, event.implementing_unit, event.start_date, event.end_date,
            event.entry_id, position, day, 0, 0, 0, 0, 0, position, event.entry_id, M.BUDGET,
            day))
        self._project_fact(event, position, M.BUDGET, event.budget_fen)

    def _adjustment(self, event: Any, position: int) -> None:
        self._project_fact(event, position, M.BUDGET,
                           event.new_budget_fen - event.old_budget_fen)

    def _disbursement(self, event: Any, position: int) -> None:
        self._project_fact(event, position, M.DISBURSED, event.amount_fen)

    def _expenditure(self, event: Any, position: int) -> None:
        self._project_fact(event, position, M.EXPENDED, event.amount_fen)

    def _recovery(self, event: Any, position: int) -> None:
        self._fact(event, position, M.RECOVERED, event.amount_fen)

    def _reversal(self, event: Any, position: int) -> None:
        programme, county = self.lookups.county_of(self.cur, event)
        key = (programme, county, event.target_entry_id)
        target = self.money.targets.get(key)
        if target is None:
            row = self.cur.execute(
                f"SELECT category, batch, project_code FROM {FACTS} WHERE programme = ? AND "
                "county_code = ? AND entry_id = ?", key,
            ).fetchone()
            if row is None:
                raise inconsistent(f"冲销 {event.entry_id} 引用的条目 {key} 不存在",
                                   f"reversal {event.entry_id} names entry {key}, which no "
                                   "earlier event recorded", "target_entry_id")
            target = (str(row[0]), int(row[1]), str(row[2]))
        category, batch, project = target
        self._fact(event, position, M.REVERSED_MEASURE[event.target_kind], event.amount_fen,
                   category, batch, project)

    # ---- milestones ---------------------------------------------------------------------

    def milestone_event(self, event: Any, position: int) -> None:
        fields = _MILESTONE.get(type(event))
        if fields is None:
            return
        kind, ref, amount_fen, document, detail = fields(event)
        programme, county = self.lookups.county_of(self.cur, event)
        self.milestones.rows.append((position, programme, county, M.day_int(event.business_date),
                                     kind, ref, event.entry_id, amount_fen, document, detail))


_MONEY: dict[type, Callable[[Translator, Any, int], None]] = {
    Programme.Opened: Translator._programme_opened,
    CountyFund.FundOpened: Translator._fund_opened,
    CountyFund.AppropriationReceived: Translator._appropriation,
    CountyFund.ProjectRegistered: Translator._project,
    CountyFund.BudgetAdjusted: Translator._adjustment,
    CountyFund.DisbursementRecorded: Translator._disbursement,
    CountyFund.ExpenditureRecorded: Translator._expenditure,
    CountyFund.FundsRecovered: Translator._recovery,
    CountyFund.EntryReversed: Translator._reversal,
}
MilestoneFields = tuple[str, str, int, str, str]  # kind, ref, amount, document, detail
_MILESTONE: dict[type, Callable[[Any], MilestoneFields]] = {
    CountyFund.MonthlyReportSubmitted: lambda e: (M.REPORT, e.period, 0, "", ""),
    CountyFund.TypicalCaseReported: lambda e: (M.TYPICAL_CASE, "", 0, e.title, ""),
    CountyFund.AcceptanceRecorded:
        lambda e: (M.ACCEPTANCE, e.conclusion, 0, e.report_no, e.assessor),
    CountyFund.AcceptanceConfirmed:
        lambda e: (M.CONFIRMATION, e.conclusion, 0, "", e.actor_id),
    CountyFund.BatchDecided: lambda e: (M.BATCH_DECISION, str(e.batch), 0, e.document_no, ""),
    CountyFund.RatioExceptionApproved:
        lambda e: (M.EXCEPTION, e.category, e.limit_fen, e.document_no, e.approver),
    CountyFund.YearClosed: lambda e: (M.CLOSE, str(e.year), 0, "", ""),
}
