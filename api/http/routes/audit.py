"""The signed log, for auditors and anyone who checks a receipt: the latest checkpoint (a
signed note, with its witnesses' cosignatures), an entry's receipt, inclusion and consistency
proofs, and the leaves. Everything here can be checked offline (docs/audit.md)."""

from __future__ import annotations

import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, StreamingResponse

from api.config import DEFAULT_PROGRAMME
from api.http.auth import Caller
from api.http.matrix import read_roles, roles_extra
from api.http.problems import Problem
from api.http.services import Services, services
from audit import log, proofs
from audit.bundle import Scope
from audit.bundle import export as export_bundle
from audit.db import Cursor, LogDB
from audit.errors import NoCheckpoint
from audit.receipts import receipt
from audit.reconcile import statements_for_bundle
from ledger import fields as F
from ledger.actors import Actor, authorise_read
from ledger.errors import NotPermitted

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


EXPORT_CHUNK_BYTES = 1 << 20


def _bundle_archive(s: Services, scope: Scope, workdir: Path) -> Path:
    """Write the scope's bundle into `workdir`, then pack it as `bundle.tar.gz` beside it."""
    statements, _ = statements_for_bundle(s.views)
    bundle_dir = workdir / "bundle"
    s.read_log(lambda db: export_bundle(db, bundle_dir, scope, ledger_statements=statements))
    archive = workdir / "bundle.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(bundle_dir, arcname="bundle")
    return archive


@router.get("/export", summary="审计包 An audit bundle (tar.gz) that fundledger-verify checks "
            "offline", response_class=StreamingResponse,
            openapi_extra=roles_extra(read_roles("audit_log"), "county and city: one county "
                                                                 "of their scope"))
async def export(request: Request, caller: Caller,
                 programme: Annotated[str | None, Query(max_length=64)] = None,
                 county: Annotated[str | None, Query(max_length=6)] = None,
                 until: Annotated[str | None, Query(max_length=10)] = None) -> StreamingResponse:
    """The whole log (province, auditor, reviewer), or a programme's or a county's part; with
    `until`, only events with a business date up to that day."""
    actor = caller.actor
    if county is None and actor.role in ("county", "city"):
        raise NotPermitted("请指明本辖区的一个县（county=）",
                           "name one county of your scope (county=)", "county")
    authorise_read(actor, "audit_log", F.division_code(county, "county") if county else None)
    s = services(request)
    if programme is not None or county is not None:  # a scope names what the ledger holds
        await run_in_threadpool(s.ledger.programme, F.identifier(
            programme or DEFAULT_PROGRAMME, "programme"))
        if county is not None:
            await run_in_threadpool(s.ledger.county, programme or DEFAULT_PROGRAMME, county)
    scope = Scope(programme or (DEFAULT_PROGRAMME if county else None), county,
                  F.date(until, "until") if until is not None else None)
    workdir = Path(tempfile.mkdtemp(prefix="fl-export-"))
    try:
        archive = await run_in_threadpool(_bundle_archive, s, scope, workdir)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise

    def chunks() -> Iterator[bytes]:
        try:
            with archive.open("rb") as f:
                while chunk := f.read(EXPORT_CHUNK_BYTES):
                    yield chunk
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    name = f"fundledger-bundle-{county or programme or 'all'}.tar.gz"
    return StreamingResponse(chunks(), media_type="application/gzip", headers={
        "Content-Disposition": f'attachment; filename="{name}"'})
