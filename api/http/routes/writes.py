"""Every county command as a POST under `/v1/programmes/{programme}/counties/{county}/`.

The path names the command's kind, programme and county (and a batch or a month where the
resource has one); the JSON body holds the rest of its fields, as `docs/commands.md` lists
them. The token gives the actor. Each POST needs an `Idempotency-Key` (api.http.idempotency).
A new entry answers 201, a retry the ledger recognises (same `entry_id`, same content) 200;
both with the entry's stream version, hash, log position and a link to its receipt.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.attachments import AttachmentNotHeld, AttachmentStore
from api.http.auth import Caller
from api.http.body import json_object, read_body
from api.http.idempotency import checked_key, request_sha256
from api.http.matrix import roles_extra, write_roles
from api.http.problems import PROBLEM_JSON, Problem
from api.http.schemas import (
    PROBLEM_SCHEMA,
    WRITE_ANSWER_SCHEMA,
    check_yuan_strings,
    command_body,
    yuan_keys,
)
from api.http.services import services
from api.tokens import TokenRecord
from ledger.application import Result
from ledger.commands import COUNTY_COMMANDS

router = APIRouter(prefix="/v1/programmes/{programme}/counties/{county}", tags=["writes"])
COUNTY_PATH_FIELDS = ("kind", "programme", "county_code")

# path under the county -> (kind, summary, an example body)
RESOURCES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "/appropriations": ("appropriation", "资金下达 Record an appropriation (province)",
                        {"entry_id": "A-2020-1", "batch": 1, "amount": "5000000.00",
                         "document_no": "粤商务建字〔2020〕5号", "business_date": "2020-04-01"}),
    "/projects": ("project", "登记项目 Register a project (county)",
                  {"project_code": "P1", "name": "县级电商公共服务中心",
                   "category": "public_services", "budget": "3000000.00",
                   "responsible_person": "张三", "implementing_unit": "县商务局",
                   "start_date": "2020-04-01", "end_date": "2021-06-30",
                   "business_date": "2020-04-02"}),
    "/disbursements": ("disbursement", "拨付 Record a disbursement (county)",
                       {"entry_id": "D-0001", "project_code": "P1", "amount": "100000.00",
                        "payee": "某电商公司", "voucher_no": "V-2020-001",
                        "business_date": "2020-04-03"}),
    "/expenditures": ("expenditure", "支出 Record an expenditure (county)",
                      {"entry_id": "E-0001", "project_code": "P1", "amount": "80000.00",
                       "purpose": "服务中心装修", "invoice_no": "INV-001",
                       "business_date": "2020-04-10"}),
    "/reversals": ("reversal", "红字冲销 Reverse an entry (its recorder's role)",
                   {"entry_id": "R-0001", "target_entry_id": "D-0001", "amount": "500.00",
                    "reason": "金额录入错误", "business_date": "2020-04-05"}),
    "/exceptions": ("ratio_exception", "比例例外 Approve a ratio exception (province)",
                    {"category": "public_services", "limit": "5500000.00",
                     "reason": "县域物流中心扩建", "approver": "省商务厅",
                     "document_no": "粤商务建函〔2020〕9号", "business_date": "2020-05-01"}),
    "/recoveries": ("recovery", "收回 Record a recovery (province)",
                    {"entry_id": "C-0001", "amount": "100000.00", "reason": "结余收回",
                     "document_no": "粤商务建函〔2021〕3号", "business_date": "2021-03-01"}),
    "/budget-adjustments": ("budget_adjustment", "预算调整 Adjust a project budget (county)",
                            {"entry_id": "B-0001", "project_code": "P1",
                             "new_budget": "2500000.00", "reason": "方案调整",
                             "approver": "县商务局", "business_date": "2020-06-01"}),
    "/acceptance": ("acceptance", "验收 Record the acceptance conclusion (auditor)",
                    {"conclusion": "验收合格", "report_no": "验收〔2021〕1号",
                     "assessor": "某会计师事务所", "business_date": "2021-11-30"}),
    "/acceptance/confirmation": ("acceptance_confirmation", "验收确认 Confirm (city)",
                                 {"conclusion": "验收合格", "business_date": "2021-12-10"}),
    "/year-close": ("year_close", "年度关账 Close a year (province)",
                    {"year": 2020, "business_date": "2021-01-15"}),
}


def _answer(body: bytes, status: int, replayed: bool) -> Response:
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    return Response(body, status, headers=headers, media_type="application/json")


async def run_write(request: Request, caller: TokenRecord,
                    command: Callable[[dict[str, Any]], Result], links: Callable[[Result],
                    dict[str, str]] | None = None) -> Response:
    """Run `command` on the request's JSON object for the caller, at most once per
    Idempotency-Key: 201 for a new entry, 200 for one the ledger recognised as a retry."""
    s = services(request)
    key = checked_key(request.headers.get("idempotency-key"))
    raw = await read_body(request)
    digest = request_sha256(request.method, request.url.path, raw)
    stored = await run_in_threadpool(s.idempotency.find, caller.token_id, key, digest)
    if stored is not None:
        return _answer(stored.body, stored.status, True)
    fields = json_object(raw)
    result = await run_in_threadpool(command, fields)
    doc = {**result.to_dict(), "links": links(result) if links else {}}
    status = 200 if result.replayed else 201
    body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
    kept = await run_in_threadpool(s.idempotency.keep, caller.token_id, key, digest, status,
                                   body)
    return _answer(kept.body, kept.status, False)


def held_attachments(store: AttachmentStore | None, named: Any) -> None:
    """Refuse a write naming an attachment the API's store does not hold (an import may
    still name files kept elsewhere; the ledger checks the digests' form)."""
    if not isinstance(named, list):
        return  # absent, or malformed: the ledger's parser says which
    for digest in named:
        if isinstance(digest, str) and (store is None or not store.has(digest)):
            raise AttachmentNotHeld.of("attachments", sha256=digest[:64])


def from_path(fields: dict[str, Any], names: tuple[str, ...]) -> None:
    """Refuse a body that gives a field the path gives."""
    for name in names:
        if name in fields:
            raise Problem(422, "FIELD_IN_PATH", f"字段 {name} 由路径给出，不应在请求体中",
                          f"field {name} is given by the path, not the body", name)


async def write(request: Request, caller: TokenRecord, kind: str, programme: str,
                county: str, path_fields: dict[str, Any]) -> Response:
    """One county command: its kind, programme and county (and more) from the path."""
    def command(fields: dict[str, Any]) -> Result:
        from_path(fields, (*COUNTY_PATH_FIELDS, *path_fields))
        check_yuan_strings(fields, yuan_keys(COUNTY_COMMANDS[kind]))
        payload = {**fields, **path_fields, "kind": kind, "programme": programme,
                   "county_code": county}
        held_attachments(services(request).attachments, fields.get("attachments"))
        return services(request).ledger.execute(payload, caller.actor)

    def links(result: Result) -> dict[str, str]:
        return {"receipt": f"/v1/audit/receipts/{result.entry_id}?programme={programme}"
                           f"&county={county}"}

    return await run_write(request, caller, command, links)


def openapi_body(example: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": schema, "example": example}}},
        "parameters": [{"name": "Idempotency-Key", "in": "header", "required": True,
                        "schema": {"type": "string", "maxLength": 128}}],
    }


_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "a retry the ledger recognised (same entry id and content): the "
                         "original entry; nothing recorded",
          "content": {"application/json": {"schema": WRITE_ANSWER_SCHEMA}}},
    201: {"description": "recorded", "content": {"application/json": {
        "schema": WRITE_ANSWER_SCHEMA}}},
}
PROBLEMS: dict[int | str, dict[str, Any]] = _ANSWERS | {
    status: {"description": text, "content": {PROBLEM_JSON: {"schema": PROBLEM_SCHEMA}}}
    for status, text in (
        (400, "malformed JSON or missing Idempotency-Key"), (401, "no valid token"),
        (403, "the token's role or scope does not allow it"),
        (404, "unknown programme, county or project"),
        (409, "a rule of the ledger refused it, or the Idempotency-Key named another request"),
        (413, "body too large"), (415, "not JSON"), (422, "a field is invalid"),
        (503, "the store is unavailable"))}


def _endpoint(kind: str) -> Callable[..., Awaitable[Response]]:
    async def endpoint(request: Request, caller: Caller, programme: str,
                       county: str) -> Response:
        return await write(request, caller, kind, programme, county, {})
    return endpoint


_NOTES = {"reversal": "each side reverses its own entries"}

for path, (kind, summary, example) in RESOURCES.items():
    router.add_api_route(path, _endpoint(kind), methods=["POST"], summary=summary,
                         status_code=201, responses=PROBLEMS, operation_id=f"record_{kind}",
                         openapi_extra={**openapi_body(example, command_body(
                                            COUNTY_COMMANDS[kind])),
                                        **roles_extra(write_roles(kind), _NOTES.get(kind, ""))})


@router.post("/tranches/{batch}/decision", summary="第二批决定 Decide a batch (province)",
             status_code=201, openapi_extra={**openapi_body(
                 {"document_no": "粤商务建函〔2021〕2号", "business_date": "2021-03-01"},
                 command_body(COUNTY_COMMANDS["batch_decision"], ("batch",))),
                 **roles_extra(write_roles("batch_decision"))},
             responses=PROBLEMS)
async def batch_decision(request: Request, caller: Caller, programme: str, county: str,
                         batch: int) -> Response:
    return await write(request, caller, "batch_decision", programme, county, {"batch": batch})


@router.post("/reports/{period}", summary="月报 Submit a monthly report (county)",
             status_code=201, openapi_extra={**openapi_body(
                 {"summary": "本月拨付 10 万元", "business_date": "2020-05-03"},
                 command_body(COUNTY_COMMANDS["monthly_report"], ("period",))),
                 **roles_extra(write_roles("monthly_report"))},
             responses=PROBLEMS)
async def monthly_report(request: Request, caller: Caller, programme: str, county: str,
                         period: str) -> Response:
    return await write(request, caller, "monthly_report", programme, county,
                       {"period": period})
