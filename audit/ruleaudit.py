"""The independent rule audit: every hard rule that can be judged after the fact, re-checked from
the stored events alone, so that an event forged with a correct hash but impossible content is
caught (docs/audit.md, "Rule audit").

Standard library only, and nothing of the ledger it checks: the rules come from the document the
programme's opening event carries, and the balances are the audit's own (`audit.ruledated`).
Feed every event in log order (`add` with decoded fields, or `add_doc` with a bundle's event
document), then `finish`. Each violation is a finding of check "rules" naming the county, the
stream and version, the entry id and the rule (R1..R9) with the ledger's error code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from audit.checks import Finding, Findings
from audit.rulecounty import DISBURSEMENT, EXPENDITURE, HANDLERS, yuan
from audit.ruledated import DatedBalance
from audit.ruleentries import CELLS, EntryTable

CHECK = "rules"
DAY_ZERO = dt.date(1900, 1, 1).toordinal()  # day numbers count from here (16 bits: to 2079)
DAYS_MAX = 1 << 16
AMOUNT_FEN_MAX = 10_000_000_000_000  # docs/rules.md: one entry is at most 100 billion yuan
BP_WHOLE = 10_000
# R8: the role that may record each event type (a reversal's depends on its target).
ROLE_OF = {f"CountyFund.{name}": role for name, role in (
    ("AppropriationReceived", "province"), ("BatchDecided", "province"),
    ("RatioExceptionApproved", "province"), ("FundsRecovered", "province"),
    ("YearClosed", "province"), ("ProjectRegistered", "county"), ("BudgetAdjusted", "county"),
    ("DisbursementRecorded", "county"), ("ExpenditureRecorded", "county"),
    ("MonthlyReportSubmitted", "county"), ("TypicalCaseReported", "county"),
    ("AcceptanceRecorded", "auditor"), ("AcceptanceConfirmed", "city"))}
MALFORMED = ("input", "EVENT_MALFORMED")


class _Rules:
    """The part of a programme's rules document the hard rules need."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.start, self.end = str(doc["period_start"]), str(doc["period_end"])
        _date_ok(self.start), _date_ok(self.end)
        self.years = range(int(self.start[:4]), int(self.end[:4]) + 1)
        self.max_bp: dict[str, int | None] = {
            str(c["id"]): c.get("max_share_bp") for c in doc["categories"]}
        self.tranches: dict[int, tuple[int, int, bool]] = {
            int(t["batch"]): (int(t["year"]), int(t["share_bp"]), bool(t["requires_decision"]))
            for t in doc["tranches"]}
        self.conclusions = tuple(doc["acceptance"]["conclusions"])


class _Programme:
    def __init__(self, data: dict[str, Any]) -> None:
        self.slug: str = data["programme"]
        self.total: int = data["total_fen"]
        self.allocated = 0
        self.admitted: dict[str, int] = {}
        self.rules: _Rules | None = None


class _County:
    """What the rules need of a county: its allocation, balances and entries."""

    def __init__(self, sid: str, data: dict[str, Any], rules: _Rules | None) -> None:
        self.sid, self.programme = sid, data["programme"]
        self.code: str = data["county_code"]
        self.allocation: int = data["allocation_fen"]
        self.rules = rules
        self.cash = DatedBalance()
        self.appropriated = 0
        self.by_batch: dict[int, int] = {}
        self.decided: set[int] = set()
        self.closed: set[int] = set()
        self.budgets: dict[str, int] = {}  # by category
        self.exceptions: dict[str, int] = {}
        self.index = 0  # the county's number in the audit, part of its entries' keys
        # project code -> [category, budget, net disbursed, unspent money by date, number]
        self.projects: dict[str, list[Any]] = {}
        self.project_codes: list[str] = []  # by number
        self.reports: dict[str, int] = {}  # month -> versions of its report
        self.acceptance: list[Any] = []  # [conclusion, confirmed]


def _date_ok(day: Any) -> bool:
    if type(day) is not str or len(day) != 10:
        return False
    try:
        return dt.date.fromisoformat(day).isoformat() == day
    except ValueError:
        return False


def covers(scope: Any, county: str) -> bool:
    """Whether a scope (county, city or province code) includes the county."""
    if scope == county:
        return True
    if type(scope) is not str or len(scope) != 6:
        return False
    if scope.endswith("0000"):
        return county[:2] == scope[:2]
    return scope.endswith("00") and county[:4] == scope[:4]


class RuleAudit:
    """Feed events in log order, then `finish` with the report's findings to add to."""

    def __init__(self, expected_events: int = 0) -> None:
        self.findings = Findings()  # kept apart until `finish`: the log's findings come first
        self.programmes: dict[str, _Programme] = {}  # by programme slug
        self.programme_streams: dict[str, _Programme] = {}  # by stream id
        self.counties: dict[str, _County] = {}  # by stream id
        self.entries = EntryTable(expected_events)
        self.reversed: dict[int, int] = {}  # entry key -> amount reversed so far
        self.day_numbers: dict[str, int] = {}  # every valid business date seen
        # the current entry's key, its slot in the table and its day number (set by `_common`)
        self.key = self.slot = self.day = 0
        self._where: tuple[str, int, Any, Any] = ("", 0, None, None)
        self._handlers: dict[str, Callable[[RuleAudit, _County, dict[str, Any]], None]] = \
            HANDLERS

    def expect(self, events: int) -> None:
        """Size the entry table for about this many events before the first (no growing)."""
        if self.entries.used == 0:
            self.entries = EntryTable(events)

    def entry_project(self, sid: str, entry_id: str) -> str | None:
        """The project code of the disbursement or expenditure `entry_id` of the county stream
        `sid` as the audit remembers it (the latest entry with that id), or None if it holds no
        such entry: the statements ask this for a reversal's target instead of keeping their own
        memory of recent entries (`StatementBuilder.entry_project`)."""
        county = self.counties.get(sid)
        if county is None:
            return None
        target = self.entries.get(self.entries.key(county.index, entry_id))
        if target is None or target[0] not in (DISBURSEMENT, EXPENDITURE):
            return None
        return county.project_codes[target[3]]

    # ---- input --------------------------------------------------------------------------------

    def add_doc(self, doc: dict[str, Any]) -> None:
        """An event document of a bundle (`events.jsonl`)."""
        self.add(doc["stream_id"], doc["version"], doc["type"], doc["data"])

    def add(self, sid: str, version: int, event_type: str, data: dict[str, Any]) -> None:
        """One stored event: its stream, version, type ("CountyFund.X") and data fields."""
        county = self.counties.get(sid)
        self._where = (sid, version, county, data)
        try:
            if county is None:
                self._stream_start_or_programme(sid, version, event_type, data)
                return
            handler = self._handlers.get(event_type)
            if handler is None:
                self.bad(*MALFORMED, f"未知事件类型 {event_type}",
                         f"unknown event type {event_type}")
                return
            self._common(county, event_type, data)
            handler(self, county, data)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
            self.bad(*MALFORMED, f"事件缺少其类型所需字段或类型错误：{e!r}",
                     f"the event lacks a field its type needs, or has a wrong type: {e!r}")

    def _stream_start_or_programme(self, sid: str, version: int, event_type: str,
                                   data: dict[str, Any]) -> None:
        if event_type == "CountyFund.FundOpened" and version == 1:
            self._fund_opened(sid, data)
        elif event_type == "Programme.Opened" and version == 1:
            self._programme_opened(sid, data)
        elif event_type == "Programme.CountyAdmitted" and sid in self.programme_streams:
            self._admitted(self.programme_streams[sid], data)
        else:
            self.bad("reference", "STORE_INCONSISTENT",
                     f"事件 {event_type} 所在的流没有以开设事件开始",
                     f"the event {event_type} is in a stream that did not start with an opening")

    def _programme_opened(self, sid: str, data: dict[str, Any]) -> None:
        prog = _Programme(data)
        self._actor(data, "province", None)
        self._amount(data, "total_fen")
        try:
            prog.rules = _Rules(data["rules"])
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            self.bad("rules", "RULES_INVALID", f"项目规则文档无效：{e!r}",
                     f"the programme's rules document is invalid: {e!r}")
        self.programme_streams[sid] = self.programmes[prog.slug] = prog

    def _admitted(self, prog: _Programme, data: dict[str, Any]) -> None:
        code, amount = data["county_code"], data["allocation_fen"]
        self._actor(data, "province", code)
        self._in_period(prog.rules, data["business_date"], set())
        if self._amount(data, "allocation_fen") is None:
            return
        if code in prog.admitted:
            self.bad("reference", "ALREADY_EXISTS", f"县 {code} 被重复纳入项目",
                     f"county {code} is admitted twice")
        prog.admitted[code] = amount
        prog.allocated += amount
        if prog.allocated > prog.total:
            self.bad("R2", "ALLOCATIONS_EXCEED_PROGRAMME",
                     f"各县分配额合计 {yuan(prog.allocated)} 元超过项目总额 {yuan(prog.total)} 元",
                     f"allocations total {yuan(prog.allocated)} yuan, above the programme "
                     f"total of {yuan(prog.total)}")

    def _fund_opened(self, sid: str, data: dict[str, Any]) -> None:
        prog = self.programmes.get(data["programme"])
        county = _County(sid, data, prog.rules if prog else None)
        county.index = len(self.counties)
        self.counties[sid] = county
        self._where = (sid, 1, county, data)
        self._actor(data, "province", county.code)
        if prog is None:
            self.bad("reference", "UNKNOWN_PROGRAMME", f"项目 {county.programme} 未开设",
                     f"programme {county.programme} was never opened")
        else:
            self._in_period(prog.rules, data["business_date"], set())

    # ---- checks shared by every entry -----------------------------------------------------------

    def _common(self, c: _County, event_type: str, data: dict[str, Any]) -> None:
        """R9 (entry id new in the county), R7 (date), R8 (role and scope); sets the entry's
        key, slot and day number for the handler. The hot path of the audit: the usual case
        is written out inline, the rest falls to the methods that name what is wrong."""
        eid = data["entry_id"]
        if type(eid) is not str or not eid:
            raise TypeError("entry_id is not a non-empty string")
        entries = self.entries
        key = self.key = hash((c.index, eid)) or 1
        cells, end = entries.cells, entries.end
        i = key % entries.size * CELLS
        while True:  # EntryTable.claim, written out
            k = cells[i]
            if k == 0 or k == key:  # noqa: PLR1714 - no tuple built per probe
                break
            i += CELLS
            if i == end:
                i = 0
        if k == 0 and entries.used < entries.limit:
            cells[i] = key
            entries.used += 1
            self.slot = i
        else:
            self.slot, new = entries.claim(key)
            if not new:
                self._duplicate(c, eid, key)
        day = data["business_date"]
        number = self.day_numbers.get(day)
        rules = c.rules
        if number is None or c.closed or rules is None or not rules.start <= day <= rules.end:
            number = self._in_period(rules, day, c.closed)
        self.day = number
        role = ROLE_OF.get(event_type)
        if role is not None and (data["actor_role"] != role or data["actor_scope"] != c.code):
            self._actor(data, role, c.code)

    def _duplicate(self, c: _County, eid: str, key: int) -> None:
        self.bad("R9", "ENTRY_ID_CONFLICT", f"条目号 {eid} 在县 {c.code} 重复出现",
                 f"entry id {eid} occurs twice in county {c.code}")
        # the later entry replaces the earlier, as in the ledger's replay
        self.entries.forget(self.slot)
        self.reversed.pop(key, None)

    def _in_period(self, rules: _Rules | None, day: Any, closed: set[int]) -> int:
        """R7 for a business date; its day number."""
        number = self.day_numbers.get(day)
        if number is None:
            if not _date_ok(day):
                raise ValueError(f"business_date {day!r} is not a YYYY-MM-DD date")
            number = dt.date.fromisoformat(day).toordinal() - DAY_ZERO
            if not 0 <= number < DAYS_MAX:
                raise ValueError(f"business_date {day!r} is outside the years the audit counts")
            self.day_numbers[day] = number
        if rules is not None and not rules.start <= day <= rules.end:
            self.bad("R7", "DATE_OUTSIDE_PERIOD",
                     f"业务日期 {day} 不在项目期 {rules.start} 至 {rules.end} 内",
                     f"business date {day} is outside the programme period "
                     f"{rules.start}..{rules.end}")
        if closed and int(day[:4]) in closed:
            self.bad("R7", "PERIOD_CLOSED", f"业务日期 {day} 在已结账的 {day[:4]} 年度",
                     f"business date {day} lies in the closed year {day[:4]}")
        return number

    def _actor(self, data: dict[str, Any], role: str, county: str | None) -> None:
        actual, scope = data["actor_role"], data["actor_scope"]
        if actual != role:
            self.bad("R8", "NOT_PERMITTED", f"角色 {actual} 无权记录此事件（应为 {role}）",
                     f"role {actual} may not record this event (only {role} may)")
        elif county is not None and not covers(scope, county):
            self.bad("R8", "NOT_PERMITTED", f"操作人范围 {scope} 不包括县 {county}",
                     f"actor scope {scope} does not cover county {county}")

    def _amount(self, data: dict[str, Any], field: str) -> int | None:
        """R1: a whole number of fen in 1..AMOUNT_FEN_MAX; None (reported) otherwise."""
        value = data[field]
        if type(value) is int and 0 < value <= AMOUNT_FEN_MAX:
            return value
        self.bad("R1", "AMOUNT_INVALID", f"金额无效（{field}={value!r}）",
                 f"invalid amount ({field}={value!r})")
        return None

    def bad(self, rule: str, code: str, zh: str, en: str) -> None:
        """A finding at the current event: its county, entry id, stream and version."""
        sid, version, county, data = self._where
        data = data if isinstance(data, dict) else {}
        code_of = county.code if county is not None else data.get("county_code")
        eid = data.get("entry_id") if county is not None else None
        place = f"county {code_of or '?'}" + (f" entry {eid}" if eid else "")
        self.findings.add(Finding(CHECK, place, f"[{rule} {code}] {zh}", f"[{rule} {code}] {en}",
                                     stream_id=sid, version=version))

    # ---- the end --------------------------------------------------------------------------------

    def finish(self, into: Findings) -> None:
        """The cross-stream checks, then every finding (and the exact count) added to `into`."""
        self._cross_check()
        into.merge(self.findings.items, self.findings.count)

    def _cross_check(self) -> None:
        """Every county fund admitted to its programme, with the same allocation."""
        for c in self.counties.values():
            prog = self.programmes.get(c.programme)
            if prog is None:
                continue  # reported at its opening
            self._where = (c.sid, 1, c, {})
            admitted = prog.admitted.get(c.code)
            if admitted is None:
                self.bad("reference", "UNKNOWN_COUNTY", f"县 {c.code} 未被项目纳入",
                         f"county {c.code} was never admitted to {c.programme}")
            elif admitted != c.allocation:
                self.bad("R2", "ALLOCATION_MISMATCH",
                         f"县资金流的分配额 {yuan(c.allocation)} 元与纳入时的 {yuan(admitted)} "
                         "元不符", f"the county fund's allocation of {yuan(c.allocation)} yuan "
                         f"differs from the {yuan(admitted)} it was admitted with")
