"""Files the command line reads as commands: one JSON object (`record json FILE`), a JSON-lines
import file (`import FILE`, its lines parsed by `ledger.commands.lines`), and a rules file
(`init --rules`). Bytes are read with their size bounded first, then decoded and parsed under
`ledger.jsonin`'s rules; `-` is standard input.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from typing import Any, BinaryIO

import click

from ledger.jsonin import (
    JSON_COMMAND_BYTES_MAX,
    JSON_LINE_BYTES_MAX,
    decode,
    parse_command,
    parse_json,
)

RULES_FILE_BYTES_MAX = 256 << 10
HELD_FILE_BYTES_MAX = 1 << 20  # a signed note or a receipt (a few KB)


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


def import_raw_lines(path: str) -> Iterator[bytes]:
    """The lines of a JSON-lines file, each cut at one byte more than a line may hold (so that
    `ledger.commands.lines.parse_import` tells a line too long without reading it whole)."""
    with _open(path) as f:
        while raw := f.readline(JSON_LINE_BYTES_MAX + 1):
            yield raw
