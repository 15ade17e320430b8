"""Programmes: open one (province), admit a county to it (province), read it, and its summary
across counties (a city sees its own counties)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.http.auth import Caller
from api.http.matrix import programme_roles, read_roles, roles_extra
from api.http.routes.writes import PROBLEMS, from_path, openapi_body, run_write
from api.http.schemas import DATE_SCHEMA, ID_PATTERN, YUAN_PATTERN, check_yuan_strings
from api.http.services import Services, services
from api.present import with_yuan
from ledger import fields as F
from ledger.actors import Actor, authorise_read, covers
from ledger.application import Result
from ledger.errors import InvalidField, NotPermitted
from ledger.money import format_yuan, parse_yuan
from ledger.rules import packaged_rules, parse_rules_toml
from projections.model import AsOf

router = APIRouter(prefix="/v1/programmes", tags=["programmes"])
RULES_TOML_MAX_CHARS = 64 << 10  # a rules file; the shipped one is about 3 KiB
_YUAN = {"type": "string", "pattern": YUAN_PATTERN}
OPEN_BODY: dict[str, Any] = {"type": "object", "additionalProperties": False,
             "required": ["total", "business_date"],
             "properties": {"programme": {"type": "string", "pattern": ID_PATTERN},
                            "rules_toml": {"type": "string", "maxLength": RULES_TOML_MAX_CHARS},
                            "total": _YUAN, "business_date": DATE_SCHEMA}}
OPEN_FIELDS = frozenset(OPEN_BODY["properties"])
ADMIT_BODY: dict[str, Any] = {"type": "object", "additionalProperties": False,
              "required": ["county_code", "name", "allocation", "document_no", "business_date"],
              "properties": {"county_code": {"type": "string", "pattern": "^[1-9][0-9]{5}$"},
                             "name": {"type": "string", "minLength": 1,
                                      "maxLength": F.COUNTY_NAME_MAX_CHARS},
                             "allocation": _YUAN,
                             "document_no": {"type": "string", "minLength": 1,
                                             "maxLength": F.DOCUMENT_NO_MAX_CHARS},
                             "business_date": DATE_SCHEMA}}
ADMIT_FIELDS = frozenset(ADMIT_BODY["properties"])


def _only(fields: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    """Refuse a field the command does not have, as a county command's parser does."""
    unknown = sorted(set(fields) - allowed)
    if unknown:
        shown = F.shown(unknown[0])
        raise InvalidField(f"{what} 没有字段 {shown}", f"{what} has no field {shown}",
                           unknown[0][:64])


def _yuan(fields: dict[str, Any], name: str) -> int:
    value = fields.get(name)
    if not isinstance(value, str):
        raise InvalidField(f"字段 {name} 应为元金额字符串（如 \"100000000.00\"）",
                           f"field {name} must be a yuan string (like \"100000000.00\")", name)
    check_yuan_strings(fields, (name,))
    return parse_yuan(value, name)


@router.post("", summary="开设项目 Open a programme under its rules (province)",
             status_code=201, responses=PROBLEMS, openapi_extra={**openapi_body(
                 {"programme": "gd-2020-ecrural", "total": "100000000.00",
                  "business_date": "2020-03-01"}, OPEN_BODY), **roles_extra(programme_roles(
                      "open_programme"))})
async def open_programme(request: Request, caller: Caller) -> Response:
    """The shipped rules of `programme`, or `rules_toml` (a whole rules file as text)."""
    def command(fields: dict[str, Any]) -> Result:
        _only(fields, OPEN_FIELDS, "open_programme")
        toml = fields.get("rules_toml")
        rules = (parse_rules_toml(F.text(toml, "rules_toml", max_chars=RULES_TOML_MAX_CHARS))
                 if toml is not None else
                 packaged_rules(F.identifier(fields.get("programme"), "programme")))
        return services(request).ledger.open_programme(
            rules, _yuan(fields, "total"), caller.actor, F.date(fields.get("business_date")))
    return await run_write(request, caller, command)


@router.post("/{programme}/counties", summary="纳入示范县 Admit a county (province)",
             status_code=201, responses=PROBLEMS, openapi_extra={**openapi_body(
                 {"county_code": "441423", "name": "丰顺县", "allocation": "10000000.00",
                  "document_no": "粤商务建字〔2020〕1号", "business_date": "2020-03-02"},
                 ADMIT_BODY), **roles_extra(programme_roles("admit_county"))})
async def admit_county(request: Request, caller: Caller, programme: str) -> Response:
    def command(fields: dict[str, Any]) -> Result:
        from_path(fields, ("programme",))
        _only(fields, ADMIT_FIELDS, "admit_county")
        name: Any = fields.get("name")  # checked by the ledger, with its rules for text
        document_no: Any = fields.get("document_no")
        return services(request).ledger.admit_county(
            programme, F.division_code(fields.get("county_code"), "county_code"), name,
            _yuan(fields, "allocation"), document_no, caller.actor,
            F.date(fields.get("business_date")))
    return await run_write(request, caller, command)


def _programme(s: Services, actor: Actor, programme: str) -> dict[str, Any]:
    authorise_read(actor, "county_status")
    prog = s.ledger.programme(F.identifier(programme, "programme"))
    counties = [{"county_code": code, "name": c["name"], "city_code": c["city"],
                 "allocation_fen": c["allocation_fen"],
                 "allocation_yuan": format_yuan(c["allocation_fen"])}
                for code, c in sorted(prog.counties.items()) if covers(actor.scope, code)]
    return {"programme": programme, "total_fen": prog.total_fen,
            "total_yuan": format_yuan(prog.total_fen), "counties": counties}


@router.get("/{programme}", summary="项目 A programme: its total and the counties you may see",
            openapi_extra=roles_extra(read_roles("county_status"), "the counties of its scope"))
async def get_programme(request: Request, caller: Caller, programme: str) -> dict[str, Any]:
    return await run_in_threadpool(_programme, services(request), caller.actor, programme)


def _summary(s: Services, actor: Actor, programme: str, year: int | None, as_of: str | None,
             city: str | None) -> dict[str, Any]:
    authorise_read(actor, "programme_summary")
    F.identifier(programme, "programme")
    if actor.role == "city":
        if city is not None and city != actor.scope:
            raise NotPermitted(f"地市 {actor.scope} 只能查看本市", f"city {actor.scope} may "
                               "read only its own counties", "city")
        city = actor.scope
    elif city is not None:
        F.division_code(city, "city")
    when = AsOf(F.date(as_of, "as_of")) if as_of is not None else AsOf()
    head = s.views.db.head_position()
    doc: dict[str, Any] = with_yuan(
        s.views.summary(programme, city, year, when, after=head).to_dict())
    return doc


@router.get("/{programme}/summary", summary="汇总 Every county, city totals and the total",
            openapi_extra=roles_extra(read_roles("programme_summary"),
                                      "a city: its own counties"))
async def summary(request: Request, caller: Caller, programme: str,
                  year: Annotated[int | None, Query(ge=2000, le=2999)] = None,
                  as_of: Annotated[str | None, Query()] = None,
                  city: Annotated[str | None, Query()] = None) -> dict[str, Any]:
    return await run_in_threadpool(_summary, services(request), caller.actor, programme,
                                   year, as_of, city)
