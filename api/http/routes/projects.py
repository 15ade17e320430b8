"""A county's project register (项目台账) over HTTP: every project's facts and money, and one
project with the stored events of its entries. Read as a county's status is (same permission,
same scope, read-your-writes, `as_of=`); registering a project is a write (`routes.writes`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.http.auth import Caller
from api.http.matrix import read_roles, roles_extra
from api.http.routes.counties import AsOfDay, county_doc
from api.http.services import Services, services
from ledger import fields as F
from ledger.actors import Actor
from ledger.errors import UnknownProject
from projections.history import HISTORY_PAGE_DEFAULT_EVENTS, HISTORY_PAGE_MAX_EVENTS, HistoryQuery

router = APIRouter(prefix="/v1/programmes/{programme}/counties/{county}/projects",
                   tags=["reads"])
HEAD = ("programme", "county_code", "county_name", "as_of", "position")
_SCOPED = roles_extra(read_roles("county_status"), "within its scope")


def register(s: Services, actor: Actor, programme: str, county: str,
             as_of: str | None) -> dict[str, Any]:
    """The register as the views hold it (after the caller's writes), as of a date."""
    doc = county_doc(s, actor, programme, county, None, as_of)
    return {**{k: doc[k] for k in HEAD}, "projects": doc["projects"]}


def one_project(s: Services, actor: Actor, programme: str, county: str, project: str,
                as_of: str | None, cursor: str | None, limit: int) -> dict[str, Any]:
    """One project's row and a page of its entries' events (to the as-of date if given)."""
    F.identifier(project, "project")
    doc = register(s, actor, programme, county, as_of)  # checks the reader and the county
    row = next((p for p in doc.pop("projects") if p["project_code"] == project), None)
    if row is None:
        raise UnknownProject.of("project", project_code=project, county_code=county)
    until = F.date(as_of, "as_of") if as_of is not None else None
    page = s.views.history(HistoryQuery(programme, county, project=project, until=until),
                           cursor, limit)
    return {**doc, "project": row, "entries": [e.to_dict() for e in page.events],
            "next_cursor": page.next_cursor}


@router.get("", summary="项目台账 The county's projects: budget, disbursed, expended, "
            "remaining", openapi_extra=_SCOPED)
async def projects(request: Request, caller: Caller, programme: str, county: str,
                   as_of: AsOfDay = None) -> dict[str, Any]:
    return await run_in_threadpool(register, services(request), caller.actor, programme,
                                   county, as_of)


@router.get("/{project}", summary="项目 One project and the events of its entries (a page "
            "at a time)", openapi_extra=_SCOPED)
async def project(request: Request, caller: Caller, programme: str, county: str,
                  project: str, as_of: AsOfDay = None,
                  cursor: Annotated[str | None, Query(max_length=200)] = None,
                  limit: Annotated[int, Query(ge=1, le=HISTORY_PAGE_MAX_EVENTS)] =
                  HISTORY_PAGE_DEFAULT_EVENTS) -> dict[str, Any]:
    return await run_in_threadpool(one_project, services(request), caller.actor, programme,
                                   county, project, as_of, cursor, limit)
