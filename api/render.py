"""Output for people (rich tables, Chinese labels first) and for machines (JSON).

What the ledger stores was typed by people, and a store can be written by others: every value
printed for people passes `safe` (control, bidi, zero-width and other refused characters shown
as escapes, never sent to the terminal), rich tables get plain `Text` (a `[` in a payee is not
markup), and JSON writes those characters as \\u escapes (the same data, nothing raw).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from api import present
from ledger import fields as F
from ledger.application import Result
from ledger.errors import LedgerError


def console() -> Console:
    return Console(highlight=False, soft_wrap=False, width=200)


def safe(value: Any, keep_newlines: bool = False) -> str:
    """A value as text that is safe to print on a terminal (see the module docstring)."""
    return F.escape_refused(str(value), "\n" if keep_newlines else "")


def error_text(e: LedgerError, refused: bool) -> str:
    """An error for people: the rule, the code and the field, then the Chinese and the English
    message, each once, on two lines:

        拒绝 / rejected: R2 [TRANCHE_EXCEEDED] 字段 amount：第 1 批下达 … 元将超过…
          field amount: an appropriation of … yuan would exceed …
    """
    head = "拒绝 / rejected" if refused else "错误 / error"
    rule = f"{e.rule} " if e.rule else ""
    # Not said twice: a message that begins by naming its field keeps it there.
    named = not e.field or (f"字段 {e.field}" in e.zh and f"field {e.field}" in e.en)
    field_zh, field_en = ("", "") if named else (f"字段 {e.field}：", f"field {e.field}: ")
    return f"{head}: {rule}[{e.code}] {field_zh}{e.zh}\n  {field_en}{e.en}"


def echo(text: str, err: bool = False) -> None:
    """Print a line (or lines) holding stored or user-given text."""
    click.echo(safe(text, keep_newlines=True), err=err)


# JSON text holds characters outside ASCII raw (ensure_ascii=False keeps Chinese readable);
# these are the ones written as escapes instead. Only strings can hold them.
_JSON_RAW_RE = re.compile("[\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e"
                          "\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb"
                          "\ud800-\udfff\U000e0000-\U000e007f]")


def _json_escape(match: re.Match[str]) -> str:
    units = match.group().encode("utf-16-le", "surrogatepass")
    return "".join(f"\\u{int.from_bytes(units[i:i + 2], 'little'):04x}"
                   for i in range(0, len(units), 2))


def json_text(doc: Any) -> str:
    """`doc` as indented JSON, with the characters above escaped."""
    return _JSON_RAW_RE.sub(_json_escape,
                            json.dumps(doc, ensure_ascii=False, indent=2, default=str))


def emit_json(doc: Any) -> None:
    click.echo(json_text(doc))


def table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    t = Table(title=Text(safe(title)), title_justify="left")
    for c in columns:
        t.add_column(Text(c), overflow="fold")
    for row in rows:
        t.add_row(*(Text(safe(x)) for x in row))
    console().print(t)


def result(r: Result, as_json: bool) -> None:
    if as_json:
        emit_json(r.to_dict())
        return
    state = ("重放，未重复记录 / replayed, nothing new recorded" if r.replayed
             else "已记录 / recorded")
    click.echo(f"{present.kind_zh(r.kind)} ({r.kind}) {state}")
    echo(f"  county {r.county_code or '-'}  entry {r.entry_id or '-'}  stream {r.stream_id}"
         f"  version {r.version}")
    click.echo(f"  event hash {r.event_hash}" + (f"  log position {r.position}"
                                                 if r.position else ""))
    if r.report is not None:  # a monthly report: which version, and on time or late
        rep = r.report
        fix = f"，更正 {rep.supersedes} / corrects {rep.supersedes}" if rep.supersedes else ""
        echo(f"  月报 {rep.period} 第 {rep.version} 版{fix}；截止 {rep.due_date}："
             f"{rep.timeliness_zh} / report {rep.period} version {rep.version}, due "
             f"{rep.due_date}: {rep.timeliness.replace('_', ' ')}")
