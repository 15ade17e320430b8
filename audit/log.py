"""The log's tables: leaves, complete-subtree nodes, checkpoints, cosignatures, keys.

Leaf i of the tree is SHA-256(0x00 || event hash) of the i-th sealed event; its row keeps the
event's notification id, stream and version. Nodes of level >= 1 are stored by (level, index)
once their subtree is complete, so any root or proof needs O(log n) reads — batched into one
query by `fetch_nodes`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from audit.db import CHECKPOINTS, COSIGNATURES, KEYS, LEAVES, NODES, Cursor
from audit.keyhistory import KeyRecord
from audit.merkle import HASH_SIZE, leaf_hash, subtree_decomposition
from ledger.errors import StoreInconsistent

NODE_QUERY_CHUNK = 400  # (level, index) pairs per IN (...) query
T = TypeVar("T")


@dataclass(frozen=True)
class Leaf:
    index: int
    notification_id: int
    stream_id: str
    version: int
    event_hash: bytes


@dataclass(frozen=True)
class StoredCheckpoint:
    seq: int
    size: int
    root: bytes
    key_id: str
    note: str
    created: str


@dataclass(frozen=True)
class Cosignature:
    checkpoint_seq: int
    witness: str
    vkey: str
    timestamp: int
    line: str


def now_text() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---- leaves and nodes ------------------------------------------------------------------------


def tail(cur: Cursor) -> tuple[int, int]:
    """(tree size, notification id of the last sealed event); (0, 0) for an empty log."""
    row = cur.one(f"SELECT leaf_index, notification_id FROM {LEAVES} "
                  "ORDER BY leaf_index DESC LIMIT 1")
    return (0, 0) if row is None else (int(row[0]) + 1, int(row[1]))


def stream_head(cur: Cursor, stream_id: str) -> tuple[int, bytes] | None:
    """(version, event hash) of the newest sealed event of a stream."""
    row = cur.one(f"SELECT version, event_hash FROM {LEAVES} WHERE stream_id = ? "
                  "ORDER BY version DESC LIMIT 1", [stream_id])
    return None if row is None else (int(row[0]), bytes(row[1]))


_LEAF_COLUMNS = (("leaf_index", "bigint"), ("notification_id", "bigint"), ("stream_id", "text"),
                 ("version", "bigint"), ("event_hash", "bytea"))
_NODE_COLUMNS = (("level", "int"), ("idx", "bigint"), ("hash", "bytea"))


def insert_leaves(cur: Cursor, leaves: Sequence[Leaf]) -> None:
    cur.insert(LEAVES, _LEAF_COLUMNS, [(x.index, x.notification_id, x.stream_id, x.version,
                                        x.event_hash) for x in leaves])


def insert_nodes(cur: Cursor, nodes: Sequence[tuple[int, int, bytes]]) -> None:
    cur.insert(NODES, _NODE_COLUMNS, nodes)


def leaf_at(cur: Cursor, index: int) -> Leaf | None:
    row = cur.one(f"SELECT leaf_index, notification_id, stream_id, version, event_hash "
                  f"FROM {LEAVES} WHERE leaf_index = ?", [index])
    return None if row is None else _leaf(row)


def leaf_of_event(cur: Cursor, notification_id: int) -> Leaf | None:
    row = cur.one(f"SELECT leaf_index, notification_id, stream_id, version, event_hash "
                  f"FROM {LEAVES} WHERE notification_id = ?", [notification_id])
    return None if row is None else _leaf(row)


def iter_leaves(cur: Cursor, page: int, start: int = 0) -> Iterable[Leaf]:
    sql = (f"SELECT leaf_index, notification_id, stream_id, version, event_hash FROM {LEAVES} "
           "WHERE leaf_index > ? ORDER BY leaf_index LIMIT ?")
    for row in cur.paged(sql, [], start - 1, page):
        yield _leaf(row)


LeafRow = tuple[int, str, int, bytes]  # (index, stream id, version, event hash)


def stream_leaves(cur: Cursor) -> Iterator[LeafRow]:
    """Every leaf in order as (index, stream id, version, event hash), streamed."""
    columns = [("leaf_index", "int"), ("stream_id", "text"), ("version", "int"),
               ("event_hash", "bytes")]
    return cur.stream(columns, LEAVES)


def _leaf(row: tuple[Any, ...]) -> Leaf:
    return Leaf(int(row[0]), int(row[1]), str(row[2]), int(row[3]), bytes(row[4]))


def fetch_nodes(cur: Cursor, wanted: Iterable[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """The hashes of complete subtrees (level 0: leaves) in one round trip on PostgreSQL,
    by point lookups on SQLite (in process, where a lookup costs microseconds)."""
    wanted = sorted(set(wanted))
    out: dict[tuple[int, int], bytes] = {}
    if not cur.postgres:
        for level, idx in wanted:
            if level == 0:
                row = cur.one(f"SELECT event_hash FROM {LEAVES} WHERE leaf_index = ?", [idx])
                if row is not None:
                    out[(0, idx)] = leaf_hash(bytes(row[0]))
            else:
                row = cur.one(f"SELECT hash FROM {NODES} WHERE level = ? AND idx = ?",
                              [level, idx])
                if row is not None:
                    out[(level, idx)] = bytes(row[0])
        return out
    for k in range(0, len(wanted), NODE_QUERY_CHUNK):
        chunk = wanted[k:k + NODE_QUERY_CHUNK]
        levels, indices = [w[0] for w in chunk], [w[1] for w in chunk]
        rows = cur.all(
            f"SELECT w.level, w.idx, CASE WHEN w.level = 0 THEN l.event_hash ELSE n.hash END "
            f"FROM unnest(?::int[], ?::bigint[]) AS w(level, idx) "
            f"LEFT JOIN {LEAVES} l ON w.level = 0 AND l.leaf_index = w.idx "
            f"LEFT JOIN {NODES} n ON w.level > 0 AND n.level = w.level AND n.idx = w.idx",
            [levels, indices])
        for level, idx, h in rows:
            if h is not None:
                value = bytes(h)
                out[(int(level), int(idx))] = leaf_hash(value) if level == 0 else value
    return out


class _Recorder:
    """A NodeReader that answers with placeholders and remembers what was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[int, int]] = []

    def node(self, level: int, index: int) -> bytes:
        self.asked.append((level, index))
        return bytes(HASH_SIZE)


class _Prefetched:
    def __init__(self, nodes: dict[tuple[int, int], bytes]) -> None:
        self.nodes = nodes

    def node(self, level: int, index: int) -> bytes:
        try:
            return self.nodes[(level, index)]
        except KeyError:
            raise MissingNode.of("log", level=level, index=index) from None


class MissingNode(StoreInconsistent):
    """A stored node a root or proof needs is missing: the log's tables were changed outside
    the ledger (they are append-only). Nothing can be proved from them until verified."""

    code = "LOG_NODE_MISSING"
    template_zh = ("日志缺少第 {level} 层第 {index} 个节点（日志表在账本之外被改动过）：请运行 "
                   "`fundledger verify`")
    template_en = ("the log has no node at level {level}, index {index} (its tables were "
                   "changed outside the ledger): run `fundledger verify`")


def with_nodes(cur: Cursor, compute: Callable[[Any], T]) -> T:
    """Run `compute(reader)` (a root or a proof) with every node it reads fetched at once.

    Which nodes a root or proof reads depends only on indices and sizes, never on hash
    values; so a dry run with placeholders names them, and one round trip fetches them.
    """
    recorder = _Recorder()
    compute(recorder)
    return compute(_Prefetched(fetch_nodes(cur, recorder.asked)))


def frontier(cur: Cursor, size: int) -> dict[tuple[int, int], bytes]:
    """The maximal complete subtrees of the tree of `size` leaves: what the next append reads."""
    return fetch_nodes(cur, subtree_decomposition(0, size))


# ---- checkpoints, cosignatures, keys -----------------------------------------------------------


def _checkpoint(row: tuple[Any, ...]) -> StoredCheckpoint:
    return StoredCheckpoint(int(row[0]), int(row[1]), bytes(row[2]), str(row[3]), str(row[4]),
                            str(row[5]))


_CP_COLUMNS = "seq, size, root, key_id, note, created"


def latest_checkpoint(cur: Cursor) -> StoredCheckpoint | None:
    row = cur.one(f"SELECT {_CP_COLUMNS} FROM {CHECKPOINTS} ORDER BY size DESC, seq DESC LIMIT 1")
    return None if row is None else _checkpoint(row)


def checkpoint_at(cur: Cursor, size: int) -> StoredCheckpoint | None:
    row = cur.one(f"SELECT {_CP_COLUMNS} FROM {CHECKPOINTS} WHERE size = ? "
                  "ORDER BY seq DESC LIMIT 1", [size])
    return None if row is None else _checkpoint(row)


def covering_checkpoint(cur: Cursor, leaf_index: int) -> StoredCheckpoint | None:
    """The latest checkpoint that covers a leaf."""
    latest = latest_checkpoint(cur)
    return latest if latest is not None and latest.size > leaf_index else None


def iter_checkpoints(cur: Cursor, page: int = 500) -> Iterable[StoredCheckpoint]:
    """Every checkpoint in the order they were signed."""
    sql = f"SELECT {_CP_COLUMNS} FROM {CHECKPOINTS} WHERE seq > ? ORDER BY seq LIMIT ?"
    for row in cur.paged(sql, [], 0, page):
        yield _checkpoint(row)


def insert_checkpoint(cur: Cursor, size: int, root: bytes, key_id: str, note: str) -> int:
    seq = int(cur.scalar(f"SELECT COALESCE(MAX(seq), 0) FROM {CHECKPOINTS}")) + 1
    cur.execute(f"INSERT INTO {CHECKPOINTS} (seq, size, root, key_id, note, created) "
                "VALUES (?, ?, ?, ?, ?, ?)", [seq, size, root, key_id, note, now_text()])
    return seq


def cosignatures(cur: Cursor, checkpoint_seq: int) -> list[Cosignature]:
    rows = cur.all(f"SELECT checkpoint_seq, witness, vkey, timestamp, line FROM {COSIGNATURES} "
                   "WHERE checkpoint_seq = ? ORDER BY seq", [checkpoint_seq])
    return [Cosignature(int(r[0]), str(r[1]), str(r[2]), int(r[3]), str(r[4])) for r in rows]


def insert_cosignature(cur: Cursor, c: Cosignature) -> None:
    seq = int(cur.scalar(f"SELECT COALESCE(MAX(seq), 0) FROM {COSIGNATURES}")) + 1
    cur.execute(f"INSERT INTO {COSIGNATURES} (seq, checkpoint_seq, witness, vkey, timestamp, "
                "line, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [seq, c.checkpoint_seq, c.witness, c.vkey, c.timestamp, c.line, now_text()])


def cosigned_note(note: str, cosigs: Iterable[Cosignature]) -> str:
    """The checkpoint note with its witnesses' signature lines appended."""
    return note + "".join(c.line + "\n" for c in cosigs)


def key_records(cur: Cursor) -> tuple[str, list[KeyRecord]]:
    """(origin, the key history in order); ("", []) before the first key is recorded."""
    rows = cur.all(f"SELECT origin, vkey, from_size, statement FROM {KEYS} ORDER BY seq")
    origin = str(rows[0][0]) if rows else ""
    return origin, [KeyRecord(str(r[1]), int(r[2]), str(r[3])) for r in rows]


def insert_key(cur: Cursor, origin: str, record: KeyRecord) -> None:
    seq = int(cur.scalar(f"SELECT COALESCE(MAX(seq), 0) FROM {KEYS}")) + 1
    cur.execute(f"INSERT INTO {KEYS} (seq, origin, vkey, from_size, statement, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [seq, origin, record.vkey, record.from_size, record.statement, now_text()])
