"""Attachments (档案): `POST /v1/attachments` keeps a file content-addressed by its SHA-256
(PDF, OFD, JPEG, PNG by content; at most `ATTACHMENT_BYTES_MAX`), `GET /v1/attachments/{sha256}`
gives it back to those who may read what it was sent for (api.attachments)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from fastapi.concurrency import run_in_threadpool

from api.attachments import ATTACHMENT_BYTES_MAX, AttachmentsOff, AttachmentStore
from api.http.auth import Caller
from api.http.idempotency import checked_key, request_sha256
from api.http.matrix import programme_roles, read_roles, roles_extra
from api.http.problems import Problem
from api.http.services import services
from ledger.actors import authorise, authorise_read, covers
from ledger.errors import NotPermitted

router = APIRouter(prefix="/v1/attachments", tags=["attachments"])
Digest = Annotated[str, Path(pattern="^[0-9a-f]{64}$")]


def _store(request: Request) -> AttachmentStore:
    store = services(request).attachments
    if store is None:
        raise AttachmentsOff.of()
    return store


async def _read_limited(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    too_large = Problem(413, "BODY_TOO_LARGE", f"附件超过 {ATTACHMENT_BYTES_MAX} 字节",
                        f"the attachment is over {ATTACHMENT_BYTES_MAX} bytes", None,
                        limit_bytes=ATTACHMENT_BYTES_MAX)
    if declared is not None and (not declared.isdigit() or
                                 int(declared) > ATTACHMENT_BYTES_MAX):
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > ATTACHMENT_BYTES_MAX:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


@router.post("", status_code=201, summary="上传附件 Keep a file (PDF, OFD, JPEG, PNG)",
             openapi_extra={**roles_extra(programme_roles("send_attachment")),
                            "requestBody": {"required": True, "content": {
                                "application/octet-stream": {"schema": {
                                    "type": "string", "format": "binary"}}}}})
async def send(request: Request, caller: Caller) -> Response:
    """201 with the file's record when new, 200 when the same bytes were kept before."""
    authorise(caller.actor, "send_attachment")
    s, store = services(request), _store(request)
    key = checked_key(request.headers.get("idempotency-key"))
    raw = await _read_limited(request)
    digest = request_sha256("POST", request.url.path, raw)
    stored = await run_in_threadpool(s.idempotency.find, caller.token_id, key, digest)
    if stored is not None:
        return Response(stored.body, stored.status, media_type="application/json",
                        headers={"Idempotent-Replayed": "true"})
    record, new = await run_in_threadpool(store.put, raw, caller.actor,
                                          dt.datetime.now(dt.UTC))
    body = json.dumps({**record.to_dict(), "links": {
        "self": f"/v1/attachments/{record.sha256}"}}, ensure_ascii=False).encode("utf-8")
    kept = await run_in_threadpool(s.idempotency.keep, caller.token_id, key, digest,
                                   201 if new else 200, body)
    return Response(kept.body, kept.status, media_type="application/json")


@router.get("/{sha256}", summary="附件 A kept file, to those who may read its sender's entries",
            openapi_extra=roles_extra(read_roles("county_status"), "of its sender's scope"),
            response_class=Response)
async def fetch(request: Request, caller: Caller, sha256: Digest) -> Response:
    store = _store(request)
    record = await run_in_threadpool(store.record, sha256)
    actor = caller.actor
    authorise_read(actor, "county_status")
    if actor.role in ("county", "city") and not covers(actor.scope, record.sent_by_scope):
        raise NotPermitted(f"操作人范围 {actor.scope} 不包括此附件的上传方 {record.sent_by_scope}",
                           f"actor scope {actor.scope} does not cover the attachment's sender "
                           f"{record.sent_by_scope}", "actor.scope")
    data = await run_in_threadpool(store.read, sha256)
    return Response(data, media_type=record.media_type, headers={
        "ETag": f'"{sha256}"', "Cache-Control": "private, max-age=31536000, immutable"})
