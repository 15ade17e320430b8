"""Reading an import (JSON lines, all or nothing): each line's command and the actor it names,
and a refusal told by the file's line rather than the item's rank. Any edge that takes an
import (the CLI's `import FILE`, an HTTP upload) gives the raw lines and gets these back.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ledger.actors import Actor
from ledger.errors import ImportFailed, InputMalformed, InvalidField, LedgerError
from ledger.jsonin import JSON_LINE_BYTES_MAX, parse_command

IMPORT_LINES_MAX = 1_000_000
ACTOR_KEYS = ("id", "role", "scope")
ImportItem = tuple[dict[str, Any], Actor | None]  # a command and the actor it names, if any


def _raise_too_long(n: int) -> None:
    raise InputMalformed(f"第 {n} 行过长（最多 {JSON_LINE_BYTES_MAX} 字节）",
                         f"line {n} is too long (at most {JSON_LINE_BYTES_MAX} bytes)",
                         check="size", line=n)


def parse_import(raw_lines: Iterable[bytes]) -> tuple[list[ImportItem], list[int]]:
    """The commands of an import with the actor each names (None: whoever runs the import),
    and their line numbers (blank lines are skipped but counted). A raw line may end in its
    newline; a reader may cut a long line at `JSON_LINE_BYTES_MAX` + 1 bytes."""
    items: list[ImportItem] = []
    numbers: list[int] = []
    for n, raw in enumerate(raw_lines, start=1):
        if n > IMPORT_LINES_MAX:
            raise InputMalformed(f"文件超过 {IMPORT_LINES_MAX} 行",
                                 f"the file has more than {IMPORT_LINES_MAX} lines",
                                 check="size")
        if len(raw.removesuffix(b"\n")) > JSON_LINE_BYTES_MAX:
            _raise_too_long(n)
        if raw.strip():
            payload = parse_command(raw, (f"第 {n} 行", f"line {n}"), JSON_LINE_BYTES_MAX + 1)
            who = payload.pop("actor", None)
            items.append((payload, line_actor(who, n) if who is not None else None))
            numbers.append(n)
    return items, numbers


def line_actor(who: Any, n: int) -> Actor:
    """The actor line `n` names in its "actor": {"id", "role", "scope"} object."""
    if not isinstance(who, dict):
        raise InvalidField(f"第 {n} 行的 actor 应为恰含 id、role、scope 三个键的对象",
                           f"line {n}: actor must be an object with exactly the keys id, role "
                           "and scope", "actor", line=n)
    missing = [k for k in ACTOR_KEYS if k not in who]
    if missing:
        raise InvalidField(f"第 {n} 行：缺少字段 actor.{missing[0]}（操作人须有 id、role、scope）",
                           f"line {n}: field actor.{missing[0]} is missing (an actor needs id, "
                           "role and scope)", f"actor.{missing[0]}", line=n)
    extra = sorted(set(who) - set(ACTOR_KEYS))
    if extra:
        raise InvalidField(f"第 {n} 行的 actor 多出键 {extra[0]!r}（只应有 id、role、scope）",
                           f"line {n}: actor has an unknown key {extra[0]!r} (only id, role "
                           "and scope)", "actor", line=n)
    try:
        return Actor(who["id"], who["role"], who["scope"])
    except LedgerError as e:
        raise _on_line(e, n) from None


def _on_line(e: LedgerError, n: int) -> LedgerError:
    """The same error, its messages prefixed with the line."""
    error = type(e).__new__(type(e))
    LedgerError.__init__(error, f"第 {n} 行：{e.zh}", f"line {n}: {e.en}", e.field,
                         **{**e.details, "line": n})
    return error


def import_refused_on_line(e: ImportFailed, numbers: list[int]) -> ImportFailed:
    """An import's refusal (naming the item's rank) told by the file's line number."""
    item = e.details.get("item")
    if not isinstance(item, int) or not 0 < item <= len(numbers):
        return e
    line = numbers[item - 1]
    cause = e.details.get("cause") or {}
    return ImportFailed(
        f"第 {line} 行被拒绝，整个文件未导入：{cause.get('message_zh', e.zh)}",
        f"line {line} was rejected, so nothing in the file was imported: "
        f"{cause.get('message_en', e.en)}", e.field, line=line, **e.details)
