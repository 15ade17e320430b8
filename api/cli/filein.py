"""Files the command line reads as commands: one JSON object (`record json FILE`), a JSON-lines
import file (`import FILE`), and a rules file (`init --rules`). Bytes are read with their size
bounded first, then decoded and parsed under `ledger.jsonin`'s rules; `-` is standard input.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any, BinaryIO

import click

from ledger.actors import Actor
from ledger.errors import InputMalformed, InvalidField, LedgerError
from ledger.jsonin import (
    JSON_COMMAND_BYTES_MAX,
    JSON_LINE_BYTES_MAX,
    decode,
    parse_command,
    parse_json,
)

IMPORT_LINES_MAX = 1_000_000
RULES_FILE_BYTES_MAX = 256 << 10
HELD_FILE_BYTES_MAX = 1 << 20  # a signed note or a receipt (a few KB)
ACTOR_KEYS = frozenset({"id", "role", "scope"})


def _open(path: str) -> AbstractContextManager[BinaryIO]:
    """The file, or standard input for `-` (left open when done)."""
    if path == "-":
        # click types its stream opener as `object` (a dict lookup); it returns a BinaryIO.
        stdin: BinaryIO = click.get_binary_stream("stdin")  # type: ignore[operator]
        return nullcontext(stdin)
    return open(path, "rb")


def _read_bounded(path: str, max_bytes: int) -> bytes:
    """At most `max_bytes` + 1 bytes: one more than allowed tells the file is too large."""
    with _open(path) as f:
        return f.read(max_bytes + 1)


def read_command_file(path: str) -> dict[str, Any]:
    """The one JSON object of a `record json` file."""
    return parse_command(_read_bounded(path, JSON_COMMAND_BYTES_MAX), ("文件", "the file"))


def read_text_file(path: str, max_bytes: int = RULES_FILE_BYTES_MAX) -> str:
    """A UTF-8 text file (the rules) of bounded size."""
    return decode(_read_bounded(path, max_bytes), ("文件", "the file"), max_bytes)


def read_held_file(path: str) -> str:
    """A checkpoint held outside (`verify --since`): a signed note, or a receipt's JSON, which
    is held to the same JSON rules as a command (no duplicate keys, bounded depth)."""
    text = decode(_read_bounded(path, HELD_FILE_BYTES_MAX), ("文件", "the file"),
                  HELD_FILE_BYTES_MAX)
    if text.lstrip().startswith("{"):
        parse_json(text, ("文件", "the file"))
    return text


def import_lines(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, command) for each non-blank line of a JSON-lines file."""
    with _open(path) as f:
        for n in range(1, IMPORT_LINES_MAX + 2):
            raw = f.readline(JSON_LINE_BYTES_MAX + 1)
            if not raw:
                return
            where = (f"第 {n} 行", f"line {n}")
            if n > IMPORT_LINES_MAX:
                raise InputMalformed(f"文件超过 {IMPORT_LINES_MAX} 行",
                                     f"the file has more than {IMPORT_LINES_MAX} lines",
                                     check="size")
            if len(raw) > JSON_LINE_BYTES_MAX and not raw.endswith(b"\n"):
                raise InputMalformed(f"第 {n} 行过长（最多 {JSON_LINE_BYTES_MAX} 字节）",
                                     f"line {n} is too long (at most {JSON_LINE_BYTES_MAX} "
                                     "bytes)", check="size")
            if raw.strip():
                yield n, parse_command(raw, where, JSON_LINE_BYTES_MAX + 1)


def line_actor(who: Any, n: int) -> Actor:
    """The actor a line names in its "actor": {"id", "role", "scope"} object."""
    if not isinstance(who, dict) or set(who) != ACTOR_KEYS:
        raise InvalidField(f"第 {n} 行的 actor 应为恰含 id、role、scope 三个键的对象",
                           f"line {n}: actor must be an object with exactly the keys id, role "
                           "and scope", "actor")
    try:
        return Actor(who["id"], who["role"], who["scope"])
    except LedgerError as e:
        raise type(e)(f"第 {n} 行：{e.zh}", f"line {n}: {e.en}", e.field, **e.details) from None
