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


class ProofOutOfRange(ValueError):
    """The proof asked for does not exist in the sealed log: a leaf or size beyond it, or a
    consistency proof from a size that is not in 1..size (a usage error, not a broken log)."""


def _in_range(db: LogDB, cur: Cursor, n: int, leaf: int | None, old_size: int | None) -> None:
    leaves = log.tail(cur)[0] if n and db.has_log(cur) else 0
    if n > leaves:
        raise ProofOutOfRange(f"大小 {n} 超过日志的 {leaves} 个叶子 / size {n} is beyond the "
                              f"log's {leaves} leaves")
    if leaf is not None and not 0 <= leaf < n:
        raise ProofOutOfRange(f"叶子 {leaf} 不在大小为 {n} 的树中 / leaf {leaf} is not in a "
                              f"tree of size {n}")
    if old_size is not None and not 0 < old_size <= n:
        raise ProofOutOfRange(f"没有从大小 {old_size} 到 {n} 的一致性证明 / no consistency "
                              f"proof from size {old_size} to {n}")


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
    """The inclusion proof of leaf `leaf` in the tree of `size` leaves (ProofOutOfRange if the
    leaf or the size is not in the sealed log)."""
    with db.snapshot() as cur:
        n = _tree_size(db, cur, size)
        _in_range(db, cur, n, leaf, None)
        return _timed(cur, {"kind": "inclusion", "leaf_index": leaf, "tree_size": n},
                      lambda r: merkle.inclusion_proof(r, leaf, n))


def consistency_proof(db: LogDB, old_size: int, size: int | None = None) -> dict[str, Any]:
    """The consistency proof from the tree of `old_size` leaves to that of `size`
    (ProofOutOfRange if there is none: `old_size` larger or 0, or `size` beyond the log)."""
    with db.snapshot() as cur:
        n = _tree_size(db, cur, size)
        _in_range(db, cur, n, None, old_size)
        return _timed(cur, {"kind": "consistency", "from_size": old_size, "tree_size": n},
                      lambda r: merkle.consistency_proof(r, old_size, n))
