"""Statements recomputed from the events alone: balances, ratio compliance, year-end execution.

The audit's own small functions (STYLE rule 8): they read hash documents (the canonical event
objects of `ledger.chain`) and never the projections they will be reconciled with. Memory is
per county × category × year, plus the reversals awaiting their target's category: a
reversal names its target entry but not its project; the projects of the most recent entries
are remembered (a bounded number), and older targets are resolved in a second pass over the
events (`needs_second_pass`, `wants`, `resolve`) instead of remembering every entry.
Standard library only: the offline verifier uses it. Formats are in docs/audit.md.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any

FORMAT = "fundledger-statements/1"
# The projects of the most recent disbursements and expenditures: a reversal usually follows its
# entry closely, so most are resolved at once; only the rest wait for the second pass.
RECENT_ENTRIES_MAX = 100_000
BP_WHOLE = 10_000
UNKNOWN_CATEGORY = "(unknown)"
_ENTRY_KEY = b'"entry_id":"'
# The read models' status codes and labels (docs/rules.md), so that both say the same words.
_STATUS = {"ok": "达标", "below_min": "低于下限", "above_max": "超过上限",
           "exception": "已批准例外"}
NO_FUNDS = ("无可执行资金", "no funds to execute")
# per category × year: budget change, disbursed, disbursement reversals, expended, expenditure
# reversals, each dated in the year (a reversal in the year of its own business date)
_BUDGET, _DISBURSED, _DISBURSED_REV, _EXPENDED, _EXPENDED_REV = range(5)


class _County:
    def __init__(self, data: dict[str, Any]) -> None:
        self.programme: str = data["programme"]
        self.code: str = data["county_code"]
        self.name: str = data.get("county_name", "")
        self.allocation: int = data["allocation_fen"]
        self.projects: dict[str, str] = {}
        self.by_cat: dict[str, list[int]] = {}  # category: [budget, disbursed, expended, reversed]
        self.cat_years: dict[tuple[str, int], list[int]] = {}  # (category, year): see _BUDGET
        self.years: dict[int, list[int]] = {}  # year: [appropriated, disbursed, recovered]
        self.totals = {"appropriated_fen": 0, "disbursed_fen": 0, "expended_fen": 0,
                       "recovered_fen": 0, "reversed_fen": 0}
        self.exceptions: dict[str, int] = {}
        # (project code, year as dated): the rows a disbursement or expenditure of the project
        # in the year adds to (`flows`); emptied when a project is registered, which may change
        # the category its code stands for
        self.flow_rows: dict[tuple[str, str], tuple[list[int], list[int], list[int]]] = {}

    # get-then-create, not setdefault: setdefault builds a new list on every call, and these
    # run for every event of an offline verification.
    def cat(self, category: str) -> list[int]:
        found = self.by_cat.get(category)
        if found is None:
            found = self.by_cat[category] = [0, 0, 0, 0]
        return found

    def year(self, business_date: str) -> list[int]:
        return self.year_of(int(business_date[:4]))

    def year_of(self, year: int) -> list[int]:
        found = self.years.get(year)
        if found is None:
            found = self.years[year] = [0, 0, 0]
        return found

    def cat_year(self, category: str, year: int) -> list[int]:
        found = self.cat_years.get((category, year))
        if found is None:
            found = self.cat_years[(category, year)] = [0, 0, 0, 0, 0]
        return found

    def flows(self, d: dict[str, Any]) -> tuple[list[int], list[int], list[int]]:
        """The category row, category × year row and year row of a disbursement or
        expenditure `d`: one lookup for most, as they come by the thousand per project."""
        key = (d["project_code"], d["business_date"][:4])
        rows = self.flow_rows.get(key)
        if rows is None:
            category, year = self.projects.get(key[0], UNKNOWN_CATEGORY), _year(d)
            rows = self.flow_rows[key] = (self.cat(category), self.cat_year(category, year),
                                          self.year_of(year))
        return rows


class StatementBuilder:
    """Feed hash documents in log order with `add`; then the second pass; then `result`."""

    def __init__(self) -> None:
        self.rules: dict[str, dict[str, Any]] = {}
        self.counties: dict[str, _County] = {}
        self.pending: dict[tuple[str, str], list[tuple[str, int, int]]] = {}
        self.pending_ids: set[bytes] = set()
        self.skipped = 0  # events that could not be accounted for (never made by the ledger)
        # (county, entry id) -> project code; an OrderedDict, as a plain dict slows down when
        # its oldest items are deleted again and again
        self.recent: OrderedDict[tuple[int, str], str] = OrderedDict()
        # Where set, a reversal's target is looked up here (county stream id, entry id ->
        # project code, or None) instead of in `recent`, which is then not kept: the offline
        # verifier gives the rule audit's memory of every entry (`RuleAudit.entry_project`),
        # fed the same events in the same order. A target it does not hold waits for the
        # second pass as before.
        self.entry_project: Callable[[str, str], str | None] | None = None
        self._handlers: dict[str, Callable[[_County, dict[str, Any]], None]] = {
            "CountyFund.AppropriationReceived": self._appropriation,
            "CountyFund.ProjectRegistered": self._project,
            "CountyFund.BudgetAdjusted": self._adjustment,
            "CountyFund.DisbursementRecorded": self._disbursement,
            "CountyFund.ExpenditureRecorded": self._expenditure,
            "CountyFund.FundsRecovered": self._recovery,
            "CountyFund.RatioExceptionApproved": self._exception,
        }

    # ---- first pass --------------------------------------------------------------------------

    def add(self, doc: dict[str, Any]) -> None:
        """Account for one event; one that lacks what its type needs is counted as skipped."""
        try:
            self._add(doc)
        except (KeyError, TypeError, ValueError, AttributeError):
            self.skipped += 1

    def _add(self, doc: dict[str, Any]) -> None:
        kind, data = doc["type"], doc["data"]
        if kind == "Programme.Opened":
            self.rules[data["programme"]] = data.get("rules") or {}
            return
        if kind == "CountyFund.FundOpened":
            self.counties[doc["stream_id"]] = _County(data)
            return
        county = self.counties.get(doc["stream_id"])
        if county is None:
            return
        if kind == "CountyFund.EntryReversed":
            self._reversal(doc["stream_id"], county, data)
            return
        handler = self._handlers.get(kind)
        if handler is not None:
            handler(county, data)

    def _appropriation(self, c: _County, d: dict[str, Any]) -> None:
        c.totals["appropriated_fen"] += d["amount_fen"]
        c.year(d["business_date"])[0] += d["amount_fen"]

    def _project(self, c: _County, d: dict[str, Any]) -> None:
        c.projects[d["project_code"]] = d["category"]
        c.flow_rows.clear()
        c.cat(d["category"])[0] += d["budget_fen"]
        c.cat_year(d["category"], _year(d))[_BUDGET] += d["budget_fen"]

    def _adjustment(self, c: _County, d: dict[str, Any]) -> None:
        category = c.projects.get(d["project_code"], UNKNOWN_CATEGORY)
        change = d["new_budget_fen"] - d["old_budget_fen"]
        c.cat(category)[0] += change
        c.cat_year(category, _year(d))[_BUDGET] += change

    def _remember(self, c: _County, d: dict[str, Any]) -> None:
        recent = self.recent
        recent[(id(c), d["entry_id"])] = d["project_code"]
        if len(recent) > RECENT_ENTRIES_MAX:
            recent.popitem(last=False)  # the oldest

    def _disbursement(self, c: _County, d: dict[str, Any]) -> None:
        if self.entry_project is None:
            self._remember(c, d)
        else:  # an entry without a (hashable) id is skipped, as with `_remember`
            hash(d["entry_id"])
        amount = d["amount_fen"]
        by_cat, by_cat_year, by_year = c.flows(d)
        by_cat[1] += amount
        by_cat_year[_DISBURSED] += amount
        c.totals["disbursed_fen"] += amount
        by_year[1] += amount

    def _expenditure(self, c: _County, d: dict[str, Any]) -> None:
        if self.entry_project is None:
            self._remember(c, d)
        else:  # an entry without a (hashable) id is skipped, as with `_remember`
            hash(d["entry_id"])
        amount = d["amount_fen"]
        by_cat, by_cat_year, _ = c.flows(d)
        by_cat[2] += amount
        by_cat_year[_EXPENDED] += amount
        c.totals["expended_fen"] += amount

    def _recovery(self, c: _County, d: dict[str, Any]) -> None:
        c.totals["recovered_fen"] += d["amount_fen"]
        c.year(d["business_date"])[2] += d["amount_fen"]

    def _exception(self, c: _County, d: dict[str, Any]) -> None:
        c.exceptions[d["category"]] = d["limit_fen"]

    def _reversal(self, sid: str, c: _County, d: dict[str, Any]) -> None:
        kind, amount, year = d["target_kind"], d["amount_fen"], c.year(d["business_date"])
        c.totals["reversed_fen"] += amount
        column = {"appropriation": 0, "disbursement": 1, "recovery": 2}.get(kind)
        if column is not None:
            year[column] -= amount
        total = {"appropriation": "appropriated_fen", "disbursement": "disbursed_fen",
                 "expenditure": "expended_fen", "recovery": "recovered_fen"}.get(kind)
        if total is not None:
            c.totals[total] -= amount
        if kind in ("disbursement", "expenditure"):
            target = d["target_entry_id"]
            lookup = self.entry_project
            if lookup is None or type(target) is not str:
                project = self.recent.get((id(c), target))
            else:
                project = lookup(sid, target)
            if project is not None:
                _attribute(c, c.projects.get(project, UNKNOWN_CATEGORY), kind, amount,
                           _year(d))
                return
            self.pending.setdefault((sid, target), []).append((kind, amount, _year(d)))
            self.pending_ids.add(target.encode())

    # ---- second pass: the categories of reversed entries --------------------------------------

    @property
    def needs_second_pass(self) -> bool:
        return bool(self.pending)

    def wants(self, line: bytes) -> bool:
        """Whether a canonical event line may be a reversed entry (cheap; `resolve` decides)."""
        at = line.find(_ENTRY_KEY)
        while at >= 0:
            start = at + len(_ENTRY_KEY)
            if line[start:line.find(b'"', start)] in self.pending_ids:
                return True
            at = line.find(_ENTRY_KEY, start)
        return False

    def resolve(self, doc: dict[str, Any]) -> None:
        try:
            self._resolve(doc)
        except (KeyError, TypeError, ValueError, AttributeError):
            self.skipped += 1

    def _resolve(self, doc: dict[str, Any]) -> None:
        data = doc["data"]
        if doc["type"] not in ("CountyFund.DisbursementRecorded",
                               "CountyFund.ExpenditureRecorded"):
            return
        reversals = self.pending.pop((doc["stream_id"], data.get("entry_id", "")), None)
        county = self.counties.get(doc["stream_id"])
        if reversals is None or county is None:
            return
        category = county.projects.get(data["project_code"], UNKNOWN_CATEGORY)
        for kind, amount, year in reversals:
            _attribute(county, category, kind, amount, year)

    # ---- results -----------------------------------------------------------------------------

    def result(self) -> dict[str, Any]:
        """The statements document (deterministic: sorted, integers only)."""
        for (sid, _), reversals in sorted(self.pending.items()):
            county = self.counties[sid]
            for kind, amount, year in reversals:  # targets never found: kept visible
                _attribute(county, UNKNOWN_CATEGORY, kind, amount, year)
        self.pending.clear()
        doc: dict[str, Any] = {"format": FORMAT, "counties": [], "balances": [],
                               "balances_by_year": [], "compliance": [], "execution": []}
        for c in sorted(self.counties.values(), key=lambda x: (x.programme, x.code)):
            rules = self.rules.get(c.programme, {})
            doc["counties"].append(_county_row(c))
            doc["balances"] += _balances(c, rules)
            doc["balances_by_year"] += _balances_by_year(c, rules)
            doc["compliance"] += _compliance(c, rules)
            doc["execution"] += _execution(c, rules)
        return doc


def _year(d: dict[str, Any]) -> int:
    """An entry's year: that of its own business date (a reversal's too, not its target's)."""
    return int(d["business_date"][:4])


def _attribute(c: _County, category: str, kind: str, amount: int, year: int) -> None:
    """A reversal of a disbursement or expenditure, charged to its project's category."""
    row = c.cat(category)
    row[1 if kind == "disbursement" else 2] -= amount
    row[3] += amount
    c.cat_year(category, year)[_DISBURSED_REV if kind == "disbursement" else _EXPENDED_REV] \
        += amount


def _categories(c: _County, rules: dict[str, Any]) -> list[str]:
    """Every category of the rules and any other a project named."""
    ids = {str(cat["id"]) for cat in rules.get("categories", [])}
    return sorted(ids | set(c.by_cat) | {cat for cat, _ in c.cat_years})


def _county_row(c: _County) -> dict[str, Any]:
    t = c.totals
    return {"programme": c.programme, "county_code": c.code, "county_name": c.name,
            "allocation_fen": c.allocation,
            "budget_fen": sum(v[0] for v in c.by_cat.values()), **t,
            "cash_fen": t["appropriated_fen"] - t["disbursed_fen"] - t["recovered_fen"],
            "unspent_fen": t["disbursed_fen"] - t["expended_fen"]}


def _balances(c: _County, rules: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for cat in _categories(c, rules):
        v = c.by_cat.get(cat, [0, 0, 0, 0])
        rows.append({"programme": c.programme, "county_code": c.code, "category": cat,
                     "budget_fen": v[0], "disbursed_fen": v[1], "expended_fen": v[2],
                     "reversed_fen": v[3], "remaining_fen": v[0] - v[1]})
    return [r for r in rows if _has_amounts([r])]


def _has_amounts(rows: list[dict[str, Any]]) -> bool:
    """A category without any amount gets no rows (nor does it in the ledger's statements)."""
    return any(v for r in rows for k, v in r.items() if k.endswith("_fen"))


def _balances_by_year(c: _County, rules: dict[str, Any]) -> list[dict[str, Any]]:
    """Per category × year: flows dated in the year (gross, and their reversals dated in it);
    the budget and the remaining budget (budget − net disbursements) at the year's end."""
    rows: list[dict[str, Any]] = []
    for cat in _categories(c, rules):
        budget = net = 0
        mine: list[dict[str, Any]] = []
        for year in _years(c, rules):
            v = c.cat_years.get((cat, year), [0, 0, 0, 0, 0])
            budget += v[_BUDGET]
            net += v[_DISBURSED] - v[_DISBURSED_REV]
            mine.append({"programme": c.programme, "county_code": c.code, "category": cat,
                         "year": year, "budget_fen": budget, "disbursed_fen": v[_DISBURSED],
                         "disbursed_reversed_fen": v[_DISBURSED_REV],
                         "expended_fen": v[_EXPENDED],
                         "expended_reversed_fen": v[_EXPENDED_REV], "remaining_fen": budget - net})
        rows += mine if _has_amounts(mine) else []
    return rows


def _status(amount: int, allocation: int, cat: dict[str, Any], limit: int | None) -> str:
    low, high = cat.get("min_share_bp"), cat.get("max_share_bp")
    if low is not None and amount * BP_WHOLE < low * allocation:
        return "below_min"
    if high is not None and amount * BP_WHOLE > high * allocation:
        return "exception" if limit is not None and amount <= limit else "above_max"
    return "ok"


def _compliance(c: _County, rules: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for cat in rules.get("categories", []):
        if c.allocation <= 0 or (cat.get("min_share_bp") is None
                                 and cat.get("max_share_bp") is None):
            continue
        budget, disbursed, _, _ = c.by_cat.get(cat["id"], [0, 0, 0, 0])
        limit = c.exceptions.get(cat["id"])
        plan = _status(budget, c.allocation, cat, limit)
        actual = _status(disbursed, c.allocation, cat, limit)
        rows.append({"programme": c.programme, "county_code": c.code, "category": cat["id"],
                     "min_share_bp": cat.get("min_share_bp"),
                     "max_share_bp": cat.get("max_share_bp"), "exception_limit_fen": limit,
                     "plan_share_bp": budget * BP_WHOLE // c.allocation,
                     "actual_share_bp": disbursed * BP_WHOLE // c.allocation,
                     "plan_status": plan, "plan_status_zh": _STATUS[plan],
                     "actual_status": actual, "actual_status_zh": _STATUS[actual]})
    return rows


def _label(rules: dict[str, Any], rate_bp: int | None) -> tuple[str, str]:
    if rate_bp is None:
        return NO_FUNDS
    labels = rules.get("execution", {}).get("labels", [])
    for label in sorted(labels, key=lambda x: -int(x["min_rate_bp"])):
        if rate_bp >= int(label["min_rate_bp"]):
            return str(label["zh"]), str(label["en"])
    # as the rules do: below every bound, the last label listed
    return (str(labels[-1]["zh"]), str(labels[-1]["en"])) if labels else ("", "")


def _years(c: _County, rules: dict[str, Any]) -> list[int]:
    years = set(c.years) | {year for _, year in c.cat_years}
    start, end = rules.get("period_start"), rules.get("period_end")
    if isinstance(start, str) and isinstance(end, str):
        years |= set(range(int(start[:4]), int(end[:4]) + 1))
    return sorted(years)


def _execution(c: _County, rules: dict[str, Any]) -> list[dict[str, Any]]:
    rows, carried = [], 0
    for year in _years(c, rules):
        appropriated, disbursed, recovered = c.years.get(year, [0, 0, 0])
        available = carried + appropriated
        rate = disbursed * BP_WHOLE // available if available > 0 else None
        zh, en = _label(rules, rate)
        left = available - disbursed - recovered
        rows.append({"programme": c.programme, "county_code": c.code, "year": year,
                     "carried_in_fen": carried, "appropriated_fen": appropriated,
                     "available_fen": available, "disbursed_fen": disbursed,
                     "recovered_fen": recovered, "carried_over_fen": left, "rate_bp": rate,
                     "status_zh": zh, "status_en": en})
        carried = left
    return rows
