"""Random county histories for property tests: a hypothesis strategy of actions, and a driver
that turns them into commands executed through the application (the ledger refuses what its
rules forbid; refused commands are simply not part of the history)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from hypothesis import strategies as st

from ledger.actors import Actor
from ledger.application import FundLedger
from ledger.errors import LedgerError
from tests.conftest import PROGRAMME, PROVINCE

START = dt.date(2020, 1, 1)
DAYS = 900  # business dates 2020-01-01 .. 2022-06-19, before the tests' today (2022-06-30)
CATEGORIES = ("rural_products_online", "public_services", "training")
KINDS = (
    *["disbursement"] * 5, *["expenditure"] * 3, *["reversal"] * 3, *["project"] * 2,
    *["appropriation"] * 2, "adjustment", "recovery", "decision", "exception", "report",
    "report", "case", "acceptance", "confirmation", "close",
)
# (kind, pick, percent, day offset)
ACTIONS = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, 999), st.integers(1, 100),
              st.integers(0, DAYS)),
    min_size=8, max_size=45,
)
ALLOCATIONS = st.integers(10_000_00, 500_000_00)
_codes = (f"44{15 + n // 99:02d}{n % 99 + 1:02d}" for n in itertools.count())


def next_county() -> str:
    """A county code not used before in this process (cities 4415, 4416, ...)."""
    return next(_codes)


class History:
    """One county's history, driven by actions; remembers what was accepted."""

    def __init__(self, app: FundLedger, county: str, allocation_fen: int) -> None:
        self.app, self.county, self.allocation = app, county, allocation_fen
        self.county_actor = Actor(f"c-{county}", "county", county)
        self.city = county[:4] + "00"
        self.projects: list[str] = []
        self.entries: list[tuple[str, str]] = []  # (entry id, kind)
        self.conclusion = ""
        self.n = 0
        self.last_position = 0
        app.admit_county(PROGRAMME, county, f"县{county}", allocation_fen, "文1", PROVINCE, START)

    def setup(self) -> None:
        """Batch 1 and one project per category, so that every history has money to move."""
        self.run([("appropriation", 0, 80, 130)])
        self.run([("project", i, 30, 100) for i in range(len(CATEGORIES))])

    def run(self, actions: list[tuple[str, int, int, int]]) -> int:
        accepted = 0
        for kind, pick, pct, offset in actions:
            day = START + dt.timedelta(days=offset)
            self.n += 1
            payload, actor = getattr(self, "_" + kind)(pick, pct, day)
            payload = {"kind": _KIND.get(kind, kind), "programme": PROGRAMME,
                       "county_code": self.county,
                       "business_date": payload.pop("date", day).isoformat(), **payload}
            try:
                result = self.app.execute(payload, actor)
            except LedgerError:
                continue
            accepted += 1
            self.last_position = max(self.last_position, result.position or 0)
            self._remember(kind, payload)
        return accepted

    def _remember(self, kind: str, payload: dict[str, Any]) -> None:
        if kind == "project":
            self.projects.append(payload["project_code"])
        elif kind in ("appropriation", "disbursement", "expenditure", "recovery"):
            self.entries.append((payload["entry_id"], kind))
        elif kind == "acceptance":
            self.conclusion = payload["conclusion"]

    def _id(self, prefix: str) -> str:
        return f"{prefix}{self.n:04d}"

    def _project_code(self, pick: int) -> str:
        return self.projects[pick % len(self.projects)] if self.projects else "NONE"

    def _appropriation(self, pick: int, pct: int, day: dt.date) -> tuple[dict[str, Any], Actor]:
        return {"entry_id": self._id("A"), "batch": 1 if day.year == 2020 else 2,
                "amount_fen": max(1, self.allocation // 2 * pct // 100),
                "document_no": f"下达{self.n}"}, PROVINCE

    def _decision(self, pick: int, pct: int, day: dt.date) -> tuple[dict[str, Any], Actor]:
        return {"batch": 2, "document_no": f"决定{self.n}"}, PROVINCE

    def _project(self, pick: int, pct: int, day: dt.date) -> tuple[dict[str, Any], Actor]:
        return {"project_code": f"P{self.n:03d}", "name": f"项目{self.n}",
                "category": CATEGORIES[pick % 3], "budget_fen": max(1, self.allocation * pct
                                                                    // 100 // 3),
                "responsible_person": f"负责人{pick % 7}", "implementing_unit": "县商务局",
                "start_date": "2020-01-01", "end_date": "2021-12-31"}, self.county_actor

    def _adjustment(self, pick: int, pct: int, day: dt.date) -> tuple[dict[str, Any], Actor]:
        return {"entry_id": self._id("B"), "project_code": self._project_code(pick),
                "new_budget_fen": max(1, self.allocation * pct // 200),
                "reason": "调整", "approver": "县长"}, self.county_actor

    def _disbursement(self, pick: int, pct: int, day: dt.date) -> tuple[dict[str, Any], Actor]:
        return {"entry_id": self._id("D"), "project_code": self._project_code(pick),
                "amount_fen": max(1, self.allocation * pct // 1500), "payee": "某公司",
                "voucher_no": f"V{self.n}"}, self.county_actor

    def _expenditure(self, pick: int, pct: int, day: dt.date) -> tuple[dict[str, Any], Actor]:
        return {"entry_id": self._id("E"), "project_code": self._project_code(pick),
                "amount_fen": max(1, self.allocation * pct // 2500), "purpose": "建设",
                "invoice_no": f"I{self.n}"}, self.county_actor

    def _reversal(self, pick: int, pct: int, day: dt.date) -> tuple[dict[str, Any], Actor]:
        target, kind = self.entries[pick % len(self.entries)] if self.entries else ("X", "")
        actor = PROVINCE if kind in ("appropriation", "recovery") else self.county_actor
        return {"entry_id": self._id("R"), "target_entry_id": target,
                "amount_fen": max(1, self.allocation * pct // 20000),
                "reason": "红字冲销"}, actor

    def _recovery(self, pick: int, pct: int, day: dt.date) -> tuple[dict[str, Any], Actor]:
        return {"entry_id": self._id("H"), "amount_fen": max(1, self.allocation * pct // 5000),
                "reason": "收回", "document_no": f"收{self.n}"}, PROVINCE

    def _exception(self, pick: int, pct: int, day: dt.date) -> tuple[dict[str, Any], Actor]:
        return {"category": "public_services",
                "limit_fen": self.allocation * (5000 + pct * 20) // 10000, "reason": "需要",
                "approver": "厅领导", "document_no": f"例外{self.n}"}, PROVINCE

    def _report(self, pick: int, pct: int, day: dt.date) -> tuple[dict[str, Any], Actor]:
        nxt = dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return {"period": f"{day.year}-{day.month:02d}",
                "date": nxt + dt.timedelta(days=pct % 9)}, self.county_actor

    def _case(self, pick: int, pct: int, day: dt.date) -> tuple[dict[str, Any], Actor]:
        return {"title": f"案例{self.n}"}, self.county_actor

    def _acceptance(self, pick: int, pct: int, day: dt.date) -> tuple[dict[str, Any], Actor]:
        return ({"conclusion": ("验收合格", "验收不合格")[pick % 2], "report_no": f"验{self.n}",
                 "assessor": "某事务所"}, Actor(f"a-{self.city}", "auditor", self.city))

    def _confirmation(self, pick: int, pct: int, day: dt.date) -> tuple[dict[str, Any], Actor]:
        return ({"conclusion": self.conclusion or "验收合格"},
                Actor(f"city-{self.city}", "city", self.city))

    def _close(self, pick: int, pct: int, day: dt.date) -> tuple[dict[str, Any], Actor]:
        return {"year": 2020 + pick % 2}, PROVINCE


_KIND = {"adjustment": "budget_adjustment", "decision": "batch_decision",
         "exception": "ratio_exception", "close": "year_close", "case": "typical_case",
         "report": "monthly_report", "confirmation": "acceptance_confirmation"}
