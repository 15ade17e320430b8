"""The signed log, for auditors and anyone who checks a receipt: the latest checkpoint (a
signed note, with its witnesses' cosignatures), an entry's receipt, inclusion and consistency
proofs, and the leaves. Everything here can be checked offline (docs/audit.md)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from api.http.auth import Caller
from api.http.matrix import read_roles, roles_extra
from api.http.problems import Problem
from api.http.services import Services, services
from audit import log, proofs
from audit.db import Cursor, LogDB
from audit.errors import NoCheckpoint
from audit.receipts import receipt
from ledger import fields as F
from ledger.actors import Actor, authorise_read

router = APIRouter(prefix="/v1/audit", tags=["audit"])
LEAVES_PAGE_MAX = 1000
Size = Annotated[int, Query(ge=0, le=2**62)]
T = TypeVar("T")
_ANY = roles_extra(read_roles("audit_log"))
_SCOPED = roles_extra(read_roles("audit_log"), "an entry of its scope")


def _checkpoint_text(db: LogDB, cur: Cursor) -> str:
    cp = log.latest_checkpoint(cur) if db.has_log(cur) else None
    if cp is None:
        raise NoCheckpoint.of("size", which_zh="", which_en="", size=None)
    return log.cosigned_note(cp.note, log.cosignatures(cur, cp.seq))


def _on_log(s: Services, actor: Actor, county: str | None,
            read: Callable[[LogDB], T]) -> T:
    authorise_read(actor, "audit_log", county)
    return s.read_log(read)


@router.get("/checkpoint", summary="检查点 The latest signed checkpoint, cosigned",
            response_class=PlainTextResponse, openapi_extra=_ANY)
async def checkpoint(request: Request, caller: Caller) -> PlainTextResponse:
    def read(db: LogDB) -> str:
        with db.snapshot() as cur:
            return _checkpoint_text(db, cur)
    text = await run_in_threadpool(_on_log, services(request), caller.actor, None, read)
    return PlainTextResponse(text, headers={"Cache-Control": "no-cache"})


@router.get("/receipts/{entry}", summary="收据 An entry's receipt: its event, the inclusion "
            "proof and the cosigned checkpoint", openapi_extra=_SCOPED)
async def entry_receipt(request: Request, caller: Caller, entry: str, programme: str,
                        county: str) -> dict[str, Any]:
    F.identifier(programme, "programme")
    F.division_code(county, "county")
    F.identifier(entry, "entry")
    return await run_in_threadpool(_on_log, services(request), caller.actor, county,
                                   lambda db: receipt(db, programme, county, entry))


def _proof(compute: Callable[[LogDB], dict[str, Any]]) -> Callable[[LogDB], dict[str, Any]]:
    def read(db: LogDB) -> dict[str, Any]:
        try:
            return compute(db)
        except proofs.ProofOutOfRange as e:
            zh, _, en = str(e).partition(" / ")
            raise Problem(422, "PROOF_OUT_OF_RANGE", zh, en or zh, "size") from None
    return read


@router.get("/proofs/inclusion", summary="包含证明 Inclusion proof (RFC 9162 2.1.3)",
            openapi_extra=_ANY)
async def inclusion(request: Request, caller: Caller, index: Size,
                    size: Annotated[int | None, Query(ge=1, le=2**62)] = None
                    ) -> dict[str, Any]:
    read = _proof(lambda db: proofs.inclusion_proof(db, index, size))
    return await run_in_threadpool(_on_log, services(request), caller.actor, None, read)


@router.get("/proofs/consistency", summary="一致性证明 Consistency proof (RFC 9162 2.1.4)",
            openapi_extra=_ANY)
async def consistency(request: Request, caller: Caller,
                      old: Annotated[int, Query(alias="from", ge=1, le=2**62)],
                      to: Annotated[int | None, Query(ge=1, le=2**62)] = None
                      ) -> dict[str, Any]:
    read = _proof(lambda db: proofs.consistency_proof(db, old, to))
    return await run_in_threadpool(_on_log, services(request), caller.actor, None, read)


@router.get("/leaves", summary="叶子 The log's leaves [start, end): stream, version, hash",
            openapi_extra=_ANY)
async def leaves(request: Request, caller: Caller, start: Size,
                 end: Size) -> dict[str, Any]:
    if not start < end <= start + LEAVES_PAGE_MAX:
        raise Problem(422, "LEAVES_RANGE_INVALID", f"须 start < end ≤ start + {LEAVES_PAGE_MAX}",
                      f"need start < end <= start + {LEAVES_PAGE_MAX}", "end")

    def read(db: LogDB) -> dict[str, Any]:
        with db.snapshot() as cur:
            found = [] if not db.has_log(cur) else [
                leaf for leaf in log.iter_leaves(cur, end - start, start) if leaf.index < end]
        return {"start": start, "end": end, "leaves": [
            {"leaf_index": x.index, "stream_id": x.stream_id, "version": x.version,
             "event_hash": x.event_hash.hex()} for x in found]}
    return await run_in_threadpool(_on_log, services(request), caller.actor, None, read)
