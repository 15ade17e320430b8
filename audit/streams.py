"""Reading a large PostgreSQL result with constant memory, fast, from Python.

Each page of rows is folded by the server into one bytea of length-framed values (`string_agg`
of `int4 length || bytes` per value): psycopg's per-value work would otherwise cost more than
everything the verifier does with a row. Pages are keyset pages (`key > last ... LIMIT`) or,
for a key dense in a known span, key ranges (whose plans cannot turn into a sort of the whole
rest when the table has no statistics yet). A page can be fetched by a second connection in
the same snapshot while the caller works on the previous one (`prefetched`).
"""

from __future__ import annotations

import queue
import struct
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any
from uuid import UUID

STREAM_PAGE_ROWS = 5000
PREFETCH_PAGES = 2
_I32 = struct.Struct(">i")
_DECODERS: dict[str, Callable[[bytes], Any]] = {
    "int": lambda b: int.from_bytes(b, "big", signed=True),
    "uuid": lambda b: str(UUID(bytes=b)),
    "text": lambda b: b.decode(),
    "bytes": bytes,
}
# How a value of each kind is turned into bytes inside PostgreSQL.
_PG_BYTES = {"int": "int8send({}::bigint)", "uuid": "uuid_send({})",
             "text": "convert_to({}, 'UTF8')", "bytes": "{}"}
Page = tuple[int, bytes]


def unframe(blob: bytes, rows: int, kinds: Sequence[str]) -> list[tuple[Any, ...]]:
    """Split a page framed as int32 length (-1: NULL) + bytes per value, row after row."""
    decoders = [_DECODERS[k] for k in kinds]
    out, pos, unpack = [], 0, _I32.unpack_from
    for _ in range(rows):
        values: list[Any] = []
        for decode in decoders:
            length = unpack(blob, pos)[0]
            pos += 4
            if length < 0:
                values.append(None)
            else:
                values.append(decode(blob[pos:pos + length]))
                pos += length
        out.append(tuple(values))
    if pos != len(blob):
        raise ValueError("a streamed page does not frame its rows")
    return out


class PageQuery:
    """The page queries of `SELECT <columns> FROM <tables> WHERE <where>` by `columns[key]`."""

    def __init__(self, columns: Sequence[tuple[str, str]], tables: str, where: str, key: int,
                 page: int, span: tuple[int, int] | None) -> None:
        exprs = [expr for expr, _ in columns]
        aliases = [f"c{i}" for i in range(len(columns))]
        frames = " || ".join(
            f"COALESCE(int4send(octet_length({_PG_BYTES[kind].format(a)})) || "
            f"{_PG_BYTES[kind].format(a)}, int4send(-1))"
            for a, (_, kind) in zip(aliases, columns, strict=True))
        select = ", ".join(f"{e} AS {a}" for e, a in zip(exprs, aliases, strict=True))
        self.kinds = [kind for _, kind in columns]
        self.order, self.page, self.span = exprs[key], int(page), span
        self.base = f"SELECT {select} FROM {tables} WHERE ({where})"
        self.fold = (f"SELECT COUNT(*), string_agg({frames}, ''::bytea ORDER BY c{key}), "
                     f"MAX(c{key}) FROM")

    def pages(self, raw: Any) -> Iterator[Page]:
        """(row count, framed rows) of each page, fetched through the psycopg cursor `raw`."""
        order, page = self.order, self.page
        if self.span is not None:
            for low in range(self.span[0], self.span[1] + 1, page):
                raw.execute(f"{self.fold} ({self.base} AND {order} >= %s AND {order} < %s) t",
                            (low, low + page), binary=True)
                count, blob, _ = raw.fetchone()
                yield int(count), bytes(blob or b"")
            return
        last: Any = None
        while True:
            cond = "" if last is None else f" AND {order} > %s"
            raw.execute(f"{self.fold} ({self.base}{cond} ORDER BY {order} LIMIT {page}) t",
                        None if last is None else (last,), binary=True)
            count, blob, last = raw.fetchone()
            yield int(count), bytes(blob or b"")
            if count < page:
                return


def prefetched(pages: Iterator[Page], depth: int = PREFETCH_PAGES) -> Iterator[Page]:
    """The same pages, fetched ahead by a thread (its own connection) while the caller works."""
    box: queue.Queue[tuple[str, Any]] = queue.Queue(depth)
    stop = threading.Event()

    def put(item: tuple[str, Any]) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for p in pages:
                if not put(("page", p)):
                    return
            put(("end", None))
        except BaseException as e:  # handed to the reading thread, which raises it
            put(("error", e))

    worker = threading.Thread(target=run, name="audit-prefetch", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = box.get()
            if kind == "end":
                return
            if kind == "error":
                raise item
            yield item
    finally:
        stop.set()
        worker.join(timeout=30)
