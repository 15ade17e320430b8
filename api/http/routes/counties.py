"""A county's read models: status, balances, compliance, execution, duties — each as of any
date (`as_of`), for one year (`year`), after the latest write (read-your-writes: a read waits
until the views hold every event recorded before it began)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool

from api.http.auth import Caller
from api.http.matrix import read_roles, roles_extra
from api.http.services import Services, services
from api.present import with_yuan
from ledger import fields as F
from ledger.actors import Actor, authorise_read
from projections.model import AsOf

router = APIRouter(prefix="/v1/programmes/{programme}/counties/{county}", tags=["reads"])
Year = Annotated[int | None, Query(ge=2000, le=2999, description="one year's figures")]
AsOfDay = Annotated[str | None, Query(description="what the ledger said at the end of this "
                                                  "business date (YYYY-MM-DD)")]
# resource -> the parts of the county's status it shows
PARTS = {
    "balances": ("money", "balances"),
    "compliance": ("compliance", "indicators"),
    "execution": ("execution",),
    "duties": ("reports", "typical_cases", "acceptance"),
}


def county_doc(s: Services, actor: Actor, programme: str, county: str, year: int | None,
               as_of: str | None) -> dict[str, Any]:
    F.identifier(programme, "programme")
    F.division_code(county, "county")
    authorise_read(actor, "county_status", county)
    when = AsOf(F.date(as_of, "as_of")) if as_of is not None else AsOf()
    head = s.views.db.head_position()
    doc: dict[str, Any] = with_yuan(
        s.views.county(programme, county, year, when, after=head).to_dict())
    return doc


_SCOPED = roles_extra(read_roles("county_status"), "within its scope")


@router.get("/status", summary="县状态 Everything the views say about a county",
            openapi_extra=_SCOPED)
async def status(request: Request, caller: Caller, programme: str, county: str,
                 year: Year = None, as_of: AsOfDay = None) -> dict[str, Any]:
    return await run_in_threadpool(county_doc, services(request), caller.actor, programme,
                                   county, year, as_of)


def _part(name: str, keys: tuple[str, ...]) -> None:
    async def read(request: Request, caller: Caller, programme: str, county: str,
                   year: Year = None, as_of: AsOfDay = None) -> dict[str, Any]:
        doc = await run_in_threadpool(county_doc, services(request), caller.actor,
                                      programme, county, year, as_of)
        head = ("programme", "county_code", "county_name", "as_of", "judged_on", "position",
                "year")
        return {k: doc[k] for k in (*head, *keys)}
    router.add_api_route(f"/{name}", read, methods=["GET"], summary=f"{name} of a county",
                         operation_id=f"county_{name}", openapi_extra=_SCOPED)


for _name, _keys in PARTS.items():
    _part(_name, _keys)
