"""Every error as RFC 9457 `application/problem+json`, never a traceback.

A problem has `type` (a stable URI naming the code), `title`, `status`, `detail` (the English
message), and our members: `code`, `rule`, `field`, `message_zh`, `message_en`, `details`
(the numbers: limits, amounts left). The status of a ledger error comes from the one error table
(`api.errors`): state-dependent refusals of a well-formed request are 409.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from api.errors import STORE_ERRORS, http_status, store_unavailable
from ledger import errors as E

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://fundledger.example/problems/"
log = logging.getLogger("fundledger.http")
# The router's own refusals, told in Chinese too (starlette gives only an English phrase).
_HTTP_ZH = {404: "没有这一路径", 405: "此路径不接受该请求方法"}

class Problem(Exception):
    """A refusal made at the HTTP edge itself (no ledger error behind it)."""

    def __init__(self, status: int, code: str, zh: str, en: str, field: str | None = None,
                 **details: Any) -> None:
        super().__init__(en)
        self.status, self.code, self.zh, self.en = status, code, zh, en
        self.field, self.details = field, details


def problem(status: int, code: str, rule: str, zh: str, en: str, field: str | None,
            details: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"type": TYPE_BASE + code.lower().replace("_", "-"), "title": code,
            "status": status, "detail": en, "code": code, "rule": rule, "field": field,
            "message_zh": zh, "message_en": en, "details": details}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def from_ledger(e: E.LedgerError) -> JSONResponse:
    status = http_status(e)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem(status, e.code, e.rule, e.zh, e.en, e.field, e.details, headers)


def _validation(errors: list[Any]) -> JSONResponse:
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    msg = str(first.get("msg", "invalid request"))
    return problem(422, "INVALID_REQUEST", "input", f"请求无效：{where}：{msg}",
                   f"invalid request: {where}: {msg}", where or None,
                   {"errors": [{"loc": [str(p) for p in e.get("loc", ())],
                                "msg": str(e.get("msg", ""))} for e in errors[:10]]})


def install(app: FastAPI) -> None:
    """Register the handlers: ledger errors, edge problems, validation, HTTP, anything else."""

    @app.exception_handler(E.LedgerError)
    async def _ledger(_: Request, e: E.LedgerError) -> JSONResponse:
        return from_ledger(e)

    @app.exception_handler(Problem)
    async def _problem(_: Request, e: Problem) -> JSONResponse:
        return problem(e.status, e.code, "http", e.zh, e.en, e.field, e.details)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, e: RequestValidationError) -> JSONResponse:
        return _validation(list(e.errors()))

    @app.exception_handler(HTTPException)
    async def _http(_: Request, e: HTTPException) -> JSONResponse:
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(e.status_code, "HTTP_ERROR")
        zh = _HTTP_ZH.get(e.status_code, "请求被拒绝")
        return problem(e.status_code, code, "http", f"HTTP {e.status_code}：{zh}",
                       f"HTTP {e.status_code}: {e.detail}", None, {},
                       dict(e.headers) if e.headers else None)  # 405's Allow, for one

    async def _store(_: Request, e: Exception) -> JSONResponse:
        return from_ledger(store_unavailable(e))

    for store_error in STORE_ERRORS:  # handled here, not logged as a crash of the server
        app.add_exception_handler(store_error, _store)

    @app.exception_handler(Exception)
    async def _internal(_: Request, e: Exception) -> JSONResponse:  # the process's top level
        log.error("internal error: %s: %s", type(e).__name__, " ".join(str(e).split())[:200])
        return problem(500, "INTERNAL_ERROR", "internal",
                       "内部错误：请求可能未完成；请用同一 Idempotency-Key 重试",
                       "internal error: the request may not have completed; retry it with the "
                       "same Idempotency-Key", None, {})
