"""The public column (公开专栏), no token: a county's funded projects as the ledger holds them —
name, category, implementing unit, dates, budget, disbursed and expended — and nothing about
persons (the responsible person's name is left out). Monthly progress joins it when progress is
recorded (issue 10); feedback from the public comes with its own event."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from api.http.matrix import PUBLIC, roles_extra
from api.http.services import Services, services
from api.present import with_yuan
from ledger import fields as F
from ledger.actors import ROLES

router = APIRouter(prefix="/v1/public/programmes/{programme}/counties/{county}",
                   tags=["public"])
# What a project row shows the public (ProjectRow's fields, minus any person).
PUBLIC_PROJECT_FIELDS = (
    "project_code", "name", "category", "category_zh", "implementing_unit", "start_date",
    "end_date", "registered_on", "budget_fen", "disbursed_fen", "expended_fen",
    "remaining_budget_fen", "progress_bp")


def disclosure(s: Services, programme: str, county: str) -> dict[str, Any]:
    F.identifier(programme, "programme")
    F.division_code(county, "county")
    status = s.views.county(programme, county, after=s.views.db.head_position()).to_dict()
    projects = [{k: p[k] for k in PUBLIC_PROJECT_FIELDS} for p in status["projects"]]
    doc: dict[str, Any] = with_yuan({
        "programme": programme, "county_code": county, "county_name": status["county_name"],
        "position": status["position"], "projects": projects})
    return doc


@router.get("/projects", summary="公开专栏 A county's funded projects (no token)",
            openapi_extra=roles_extra(frozenset({*ROLES, PUBLIC}), "no token needed"))
async def projects(request: Request, programme: str, county: str) -> dict[str, Any]:
    return await run_in_threadpool(disclosure, services(request), programme, county)
