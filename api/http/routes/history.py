"""The full history, for reviewers: `GET /v1/history` (by programme, county, project, entry,
actor, business-date range; cursor-paginated) and `GET /v1/entries/{entry}` (one entry and
what refers to it). Each event with its actor, business date, timestamp, hash, prev_hash and
log position. Read from the stored events, not from a cache."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.http.auth import Caller
from api.http.matrix import read_roles, roles_extra
from api.http.services import Services, services
from ledger import fields as F
from ledger.actors import Actor, authorise_read
from ledger.errors import NotPermitted, UnknownEntry
from projections.history import (
    HISTORY_PAGE_DEFAULT_EVENTS,
    HISTORY_PAGE_MAX_EVENTS,
    HistoryQuery,
)

router = APIRouter(prefix="/v1", tags=["history"])
Text = Annotated[str | None, Query(max_length=64)]
# Roles whose scope is one county or one city read the history of one county at a time:
# the programme's own stream (admissions of every county) and an actor across counties are
# for roles that read everything.
_NARROW_ROLES = frozenset({"county", "city"})


def _query(actor: Actor, programme: str, county: str | None, project: str | None,
           entry: str | None, who: str | None, since: str | None,
           until: str | None) -> HistoryQuery:
    F.identifier(programme, "programme")
    if county is not None:
        F.division_code(county, "county")
    elif actor.role in _NARROW_ROLES:
        raise NotPermitted("请指明本辖区的一个县（county=）",
                           "name one county of your scope (county=)", "county")
    authorise_read(actor, "history", county)
    return HistoryQuery(
        programme, county,
        F.identifier(project, "project") if project is not None else None,
        F.identifier(entry, "entry") if entry is not None else None,
        F.text(who, "actor", max_chars=F.ACTOR_ID_MAX_CHARS) if who is not None else None,
        F.date(since, "since") if since is not None else None,
        F.date(until, "until") if until is not None else None)


def _page(s: Services, query: HistoryQuery, cursor: str | None,
          limit: int) -> dict[str, Any]:
    page = s.views.history(query, cursor, limit)
    return {"events": [e.to_dict() for e in page.events], "next_cursor": page.next_cursor}


_ONE_COUNTY = roles_extra(read_roles("history"), "county and city: one county of their scope")


@router.get("/history", summary="历史 The stored events, filtered, a page at a time",
            openapi_extra=_ONE_COUNTY)
async def history(request: Request, caller: Caller, programme: str,
                  county: Text = None, project: Text = None, entry: Text = None,
                  actor: Text = None, since: Text = None, until: Text = None,
                  cursor: Annotated[str | None, Query(max_length=200)] = None,
                  limit: Annotated[int, Query(ge=1, le=HISTORY_PAGE_MAX_EVENTS)] =
                  HISTORY_PAGE_DEFAULT_EVENTS) -> dict[str, Any]:
    query = _query(caller.actor, programme, county, project, entry, actor, since, until)
    return await run_in_threadpool(_page, services(request), query, cursor, limit)


@router.get("/entries/{entry}", summary="条目 One entry of a county: its events",
            openapi_extra=_ONE_COUNTY)
async def entry(request: Request, caller: Caller, entry: str, programme: str,
                county: str) -> dict[str, Any]:
    query = _query(caller.actor, programme, county, None, entry, None, None, None)
    doc = await run_in_threadpool(_page, services(request), query, None,
                                  HISTORY_PAGE_MAX_EVENTS)
    if not doc["events"]:
        raise UnknownEntry.of("entry", entry=entry, county=county)
    return {"entry_id": entry, "programme": programme, "county_code": county,
            "events": doc["events"]}
