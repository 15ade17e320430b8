"""A request's JSON body: size-limited before it is read whole, then parsed by the ledger's
strict reader (UTF-8, no duplicate keys, no floats where integers are meant, I-JSON numbers)."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from api.http.problems import Problem
from ledger.jsonin import parse_command

REQUEST_BODY_BYTES_MAX = 64 << 10  # one command: 64 KiB, like one import line


async def read_body(request: Request) -> bytes:
    """The body's bytes; 415 unless JSON, 413 beyond the limit (before reading it all)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/json":
        raise Problem(415, "UNSUPPORTED_MEDIA_TYPE", "请求体须为 application/json",
                      "the request body must be application/json", "Content-Type")
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or
                                 int(declared) > REQUEST_BODY_BYTES_MAX):
        raise _too_large()
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > REQUEST_BODY_BYTES_MAX:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> Problem:
    return Problem(413, "BODY_TOO_LARGE",
                   f"请求体超过 {REQUEST_BODY_BYTES_MAX} 字节", f"the request body is over "
                   f"{REQUEST_BODY_BYTES_MAX} bytes", None, limit_bytes=REQUEST_BODY_BYTES_MAX)


def json_object(raw: bytes) -> dict[str, Any]:
    return parse_command(raw, ("请求体", "request body"), REQUEST_BODY_BYTES_MAX)
