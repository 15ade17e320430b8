"""The shape of a command specification: a kind's fields (type, limit, help, CLI option), who
may issue it, the event it records and the `CountyFund` method that handles it.

Every edge derives what it needs from these: the JSON parser (`ledger.commands.parse`), the
permission table (`ledger.actors.PERMISSIONS`), the CLI `record` subcommands and the command
table of docs/commands.md (`ledger.commands.docs`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from ledger import fields as F

Parsed = dict[str, Any]  # a validated command: the handler method's keyword arguments

# Field types. An amount is given as `<name>_fen` (integer fen) or `<name>` / `<name>_yuan`
# (a yuan string), and reaches the handler as `<name>_fen`.
TEXT, AMOUNT, INTEGER, DATE, PERIOD, IDENTIFIER, ATTACHMENTS = (
    "text", "amount", "integer", "date", "period", "identifier", "attachments")
TYPE_HELP = {  # type -> how it is written (docs and --help), zh / en
    TEXT: ("文本", "text"), AMOUNT: ("金额（元）", "amount in yuan"),
    INTEGER: ("整数", "integer"), DATE: ("日期 YYYY-MM-DD", "date YYYY-MM-DD"),
    PERIOD: ("月份 YYYY-MM", "month YYYY-MM"),
    IDENTIFIER: ("编号（字母、数字、._:/-）", "id (letters, digits, ._:/-)"),
    ATTACHMENTS: ("附件 SHA-256 列表", "list of attachment SHA-256 digests"),
}


@dataclass(frozen=True)
class FieldSpec:
    """One field of a command kind. `limit` is the most characters of a text field, or the
    (lowest, highest) value of an integer; `option` is the CLI flag (`--document-no`)."""

    name: str
    type: str
    zh: str
    en: str
    option: str
    limit: int | tuple[int, int] | None = None
    required: bool = True

    @property
    def arg(self) -> str:
        """The handler's keyword for this field (amounts are passed in fen)."""
        return f"{self.name}_fen" if self.type == AMOUNT else self.name

    @property
    def keys(self) -> tuple[str, ...]:
        """The payload keys that may carry this field."""
        if self.type == AMOUNT:
            return (self.name, f"{self.name}_fen", f"{self.name}_yuan")
        return (self.name,)

    def parse(self, payload: Mapping[str, Any]) -> Any:
        """The field's clean value from a payload, or InvalidField / InvalidText naming it."""
        value = payload.get(self.name)
        if self.type == TEXT:
            assert isinstance(self.limit, int), self.name
            return F.text(value, self.name, required=self.required, max_chars=self.limit)
        if self.type == AMOUNT:
            return F.amount(payload, self.name)
        if self.type == INTEGER:
            assert isinstance(self.limit, tuple), self.name
            return F.integer(value, self.name, *self.limit)
        return _PARSERS[self.type](value, self.name)


def _attachments(value: Any, name: str) -> list[str]:
    return F.attachments(value, name)


def _date(value: Any, name: str) -> dt.date:
    return F.date(value, name)


_PARSERS: dict[str, Callable[[Any, str], Any]] = {
    DATE: _date, PERIOD: F.period, IDENTIFIER: F.identifier, ATTACHMENTS: _attachments,
}


@dataclass(frozen=True)
class Permission:
    """The roles allowed a command, under the name `ledger.actors.authorise` checks; `applies`
    (zh, en) says to which entries, when one kind has several (a reversal)."""

    command: str
    roles: frozenset[str]
    applies: tuple[str, str] = ("", "")


@dataclass(frozen=True)
class CommandSpec:
    """One command kind, defined once.

    `event` names the event class recorded (`CountyFund.X`, by name: the aggregate imports
    the permission table derived from these specs); `method` is its `CountyFund` handler.
    Money commands must carry an `entry_id`; the others derive one with `natural_key`,
    described for people by `key_doc`. `example` holds the CLI values of a worked example
    that runs in the order of the specs (docs/commands.md, tested on both stores).
    """

    kind: str
    name_zh: str
    summary_en: str
    method: str
    event: str
    permissions: tuple[Permission, ...]
    fields: tuple[FieldSpec, ...]
    money: bool = False
    natural_key: Callable[[Parsed], str] | None = None
    key_doc: str = "required"
    example: dict[str, Any] = field(default_factory=dict)

    @cached_property
    def keys(self) -> frozenset[str]:
        """Every payload key of this kind besides the common ones (computed once: every
        command's parse asks)."""
        return frozenset(k for f in self.fields for k in f.keys)

    @property
    def roles(self) -> frozenset[str]:
        return frozenset(r for p in self.permissions for r in p.roles)

    @property
    def cli_name(self) -> str:
        """The `fundledger record` subcommand: the kind with hyphens."""
        return self.kind.replace("_", "-")

    def parse(self, payload: Mapping[str, Any]) -> Parsed:
        """The handler's arguments from a payload, checked field by field in order."""
        return {f.arg: f.parse(payload) for f in self.fields}
