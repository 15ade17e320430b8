"""Receipts: one JSON document that proves an entry is in the signed log, verifiable offline.

It holds the event as the canonical object its hash is taken of, the hash, the leaf index,
the inclusion proof against the latest signed checkpoint (cosignatures included) and the
log's key history. It carries no tree size of its own: the size is the signed checkpoint's.
"""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

from audit import formats as FMT
from audit import log, merkle
from audit.chains import decode_row
from audit.db import Cursor, EventRow, LogDB, stream_id_of
from audit.errors import NoReceipt
from ledger.chain import canonical_bytes, hash_document
from ledger.county import county_stream_id


def _find_entry(db: LogDB, cur: Cursor, programme: str, county: str,
                entry_id: str) -> EventRow:
    stream = str(county_stream_id(programme, county))
    for row in db.stream_events(cur, stream):
        if decode_row(row)[4].get("entry_id") == entry_id:
            return row
    raise NoReceipt.of("entry_id", why_zh=f"县 {county} 没有条目 {entry_id}",
                       why_en=f"county {county} of {programme} has no entry {entry_id}",
                       county=county, entry_id=entry_id)


def _event_at_leaf(db: LogDB, cur: Cursor, index: int) -> EventRow:
    leaf = log.leaf_at(cur, index)
    if leaf is None:
        raise NoReceipt.of("leaf", why_zh=f"日志没有叶子 {index}",
                           why_en=f"the log has no leaf {index}", leaf=index)
    key: Any = leaf.stream_id if db.postgres else UUID(leaf.stream_id).hex
    row = cur.one(f"SELECT {db.event_columns()} FROM {db.events_table} "
                  "WHERE originator_id = ? AND originator_version = ?", [key, leaf.version])
    if row is None:
        raise NoReceipt.of("leaf", why_zh=f"叶子 {index} 的事件不存在",
                           why_en=f"the event of leaf {index} is missing", leaf=index)
    return EventRow(*row)


def receipt(db: LogDB, programme: str | None = None, county: str | None = None,
            entry_id: str | None = None, leaf_index: int | None = None) -> dict[str, Any]:
    """The receipt of an entry (programme, county, entry id) or of a leaf index."""
    with db.snapshot() as cur:
        if not db.has_log(cur):
            raise NoReceipt.of("log", why_zh="日志尚未封存：请运行 `fundledger seal`",
                               why_en="the log was never sealed: run `fundledger seal`")
        if leaf_index is not None:
            row = _event_at_leaf(db, cur, leaf_index)
        else:
            assert programme and county and entry_id
            row = _find_entry(db, cur, programme, county, entry_id)
        return _build(cur, row)


def _build(cur: Cursor, row: EventRow) -> dict[str, Any]:
    leaf = log.leaf_of_event(cur, row.id)
    sid = stream_id_of(row.originator_id)
    if leaf is None or (leaf.stream_id, leaf.version) != (sid, row.originator_version):
        raise NoReceipt.of("entry_id", why_zh="条目尚未封存：请运行 `fundledger seal`",
                           why_en="the entry is not sealed yet: run `fundledger seal`")
    checkpoint = log.covering_checkpoint(cur, leaf.index)
    if checkpoint is None:
        raise NoReceipt.of("checkpoint",
                           why_zh="尚无覆盖该条目的签名检查点：请运行 `fundledger seal --key FILE`",
                           why_en="no signed checkpoint covers the entry yet: run "
                                  "`fundledger seal --key FILE`", leaf=leaf.index)
    event_type, timestamp, prev_hash, _, data = decode_row(row)
    doc = hash_document(sid, row.originator_version, event_type, timestamp, prev_hash, data)
    event_hash = hashlib.sha256(canonical_bytes(doc)).digest()
    if event_hash != leaf.event_hash:
        raise NoReceipt.of("entry_id", why_zh="存储的事件与其叶子不符：请运行 `fundledger verify`",
                           why_en="the stored event does not match its leaf: run "
                                  "`fundledger verify`", leaf=leaf.index)
    proof = log.with_nodes(cur, lambda r: merkle.inclusion_proof(r, leaf.index, checkpoint.size))
    cosigs = log.cosignatures(cur, checkpoint.seq)
    _, records = log.key_records(cur)
    return {
        "format": FMT.RECEIPT_FORMAT,
        "entry": {"entry_id": data.get("entry_id"), "type": event_type, "stream_id": sid,
                  "version": row.originator_version},
        "event": doc,
        "event_hash": event_hash.hex(),
        "leaf_index": leaf.index,
        "inclusion_proof": FMT.b64_list(proof),
        "checkpoint": log.cosigned_note(checkpoint.note, cosigs),
        "log_keys": [r.to_dict() for r in records],
        "witnesses": sorted({c.vkey for c in cosigs}),
    }
