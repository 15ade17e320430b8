"""Proofs any edge can hand out: an inclusion proof of a leaf and a consistency proof between
two tree sizes (RFC 9162 2.1.3 / 2.1.4), against the latest signed checkpoint's tree unless a
size is given, as JSON-ready documents (hashes in base64). An entry's receipt, which carries an
inclusion proof with its checkpoint, is `audit.receipts.receipt`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from audit import log, merkle
from audit.db import Cursor, LogDB
from audit.formats import b64_list

MS_PER_S = 1000


def _tree_size(db: LogDB, cur: Cursor, size: int | None) -> int:
    """The size asked for, or the latest checkpoint's (0 for a log never signed)."""
    if size is not None:
        return size
    latest = log.latest_checkpoint(cur) if db.has_log(cur) else None
    return latest.size if latest else 0


def _timed(cur: Cursor, doc: dict[str, Any],
           compute: Callable[[Any], list[bytes]]) -> dict[str, Any]:
    started = time.perf_counter()
    doc["proof"] = b64_list(log.with_nodes(cur, compute))
    doc["ms"] = round((time.perf_counter() - started) * MS_PER_S, 3)
    return doc


def inclusion_proof(db: LogDB, leaf: int, size: int | None = None) -> dict[str, Any]:
    """The inclusion proof of leaf `leaf` in the tree of `size` leaves (ValueError if the leaf
    is not in it)."""
    with db.snapshot() as cur:
        n = _tree_size(db, cur, size)
        return _timed(cur, {"kind": "inclusion", "leaf_index": leaf, "tree_size": n},
                      lambda r: merkle.inclusion_proof(r, leaf, n))


def consistency_proof(db: LogDB, old_size: int, size: int | None = None) -> dict[str, Any]:
    """The consistency proof from the tree of `old_size` leaves to that of `size` (ValueError
    if there is none: `old_size` larger, or beyond the log)."""
    with db.snapshot() as cur:
        n = _tree_size(db, cur, size)
        return _timed(cur, {"kind": "consistency", "from_size": old_size, "tree_size": n},
                      lambda r: merkle.consistency_proof(r, old_size, n))
