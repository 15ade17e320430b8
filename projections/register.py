"""The project register (项目台账): each project's basic facts and money, the basis of the
county's public column (公开专栏).

Progress is financial: net disbursements ÷ current budget, in basis points, rounded down; the
remaining budget is the current budget less net disbursements (as for a category). The last
entry is the newest money entry on the project in log order (registration, budget adjustment,
disbursement, expenditure or reversal).
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.rules import ProgrammeRules
from projections import model as M
from projections.source import ProjectRecord


@dataclass(frozen=True)
class ProjectRow:
    project_code: str
    name: str
    category: str
    category_zh: str
    responsible_person: str
    implementing_unit: str
    start_date: str
    end_date: str
    registered_on: str
    budget_fen: int
    disbursed_fen: int
    expended_fen: int
    remaining_budget_fen: int
    progress_bp: int | None
    last_entry_id: str
    last_entry_kind: str
    last_entry_kind_zh: str
    last_entry_on: str


KIND_ZH = {"registration": "项目登记", "adjustment": "预算调整",
           **{m: M.MEASURE_ZH[m] for m in M.MEASURES}}


def _kind(registration_entry_id: str, entry_id: str, measure: str) -> str:
    if measure == M.BUDGET:
        return "registration" if entry_id == registration_entry_id else "adjustment"
    return measure


def project_rows(rules: ProgrammeRules, records: list[ProjectRecord]) -> list[ProjectRow]:
    rows = []
    for r in records:
        cat = rules.category(r.category)
        disbursed = r.sums[M.DISBURSED] - r.sums[M.DISBURSED_REV]
        budget = r.sums[M.BUDGET]
        _, entry_id, measure, day = r.last
        kind = _kind(r.entry_id, entry_id, measure)
        rows.append(ProjectRow(
            r.code, r.name, r.category, cat.name_zh if cat else r.category,
            r.responsible_person, r.implementing_unit, r.start_date, r.end_date,
            M.day_date(r.registered_day).isoformat(), budget, disbursed,
            r.sums[M.EXPENDED] - r.sums[M.EXPENDED_REV], budget - disbursed,
            M.rate_bp(disbursed, budget),
            entry_id, kind, KIND_ZH[kind],
            M.day_date(day).isoformat()))
    return rows
