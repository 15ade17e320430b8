"""The OpenAPI shapes of the API: a county command's request body, made from its command
specification (`ledger.commands`, so the documented body and the parser cannot drift apart),
and the problem details every refusal is."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ledger import fields as F
from ledger.commands import CommandSpec
from ledger.commands.spec import AMOUNT, ATTACHMENTS, DATE, IDENTIFIER, INTEGER, PERIOD, TEXT
from ledger.errors import InvalidAmount
from ledger.money import AMOUNT_FEN_MAX

ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$"
YUAN_PATTERN = r"^[0-9]+(\.[0-9]{1,2})?$"  # yuan, at most two decimals (R1)
DATE_SCHEMA = {"type": "string", "format": "date", "description": "YYYY-MM-DD"}
_YUAN_RE = re.compile(YUAN_PATTERN)


def yuan_keys(spec: CommandSpec) -> tuple[str, ...]:
    """The body keys of a command that carry yuan strings."""
    return tuple(k for f in spec.fields if f.type == AMOUNT for k in (f.name, f"{f.name}_yuan"))


def check_yuan_strings(fields: Mapping[str, Any], keys: Iterable[str]) -> None:
    """Yuan as the schema says: digits, at most two decimals. The ledger also reads the forms
    people type at the command line ("1,000", " 10 "); the API refuses them, so that what
    its OpenAPI document calls invalid is never recorded."""
    for key in keys:
        value = fields.get(key)
        if isinstance(value, str) and not _YUAN_RE.fullmatch(value):
            raise InvalidAmount(key, value, "应为数字、最多两位小数的元金额（不含分隔符或空格）",
                                "expected yuan digits with at most two decimals (no "
                                "separators or spaces)")


def _field_schemas(name: str, kind: str, limit: Any, required: bool) -> dict[str, Any]:
    if kind == AMOUNT:
        yuan = {"type": "string", "pattern": YUAN_PATTERN, "description": "yuan"}
        return {name: yuan, f"{name}_yuan": yuan,
                f"{name}_fen": {"type": "integer", "minimum": 1, "maximum": AMOUNT_FEN_MAX,
                                "description": "integer fen"}}
    one: dict[str, Any] = {
        TEXT: {"type": "string", "minLength": 1 if required else 0, "maxLength": limit},
        INTEGER: {"type": "integer", "minimum": limit[0], "maximum": limit[1]}
        if isinstance(limit, tuple) else {"type": "integer"},
        DATE: DATE_SCHEMA,
        PERIOD: {"type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$"},
        IDENTIFIER: {"type": "string", "pattern": ID_PATTERN},
        ATTACHMENTS: {"type": "array", "maxItems": F.ATTACHMENTS_MAX,
                      "items": {"type": "string", "pattern": "^[0-9a-f]{64}$"}},
    }[kind]
    return {name: one}


def command_body(spec: CommandSpec, from_path: tuple[str, ...] = ()) -> dict[str, Any]:
    """The JSON schema of a county command's body (the fields the path gives left out)."""
    props: dict[str, Any] = {"entry_id": {"type": "string", "pattern": ID_PATTERN},
                             "business_date": DATE_SCHEMA}
    required, one_of_amounts = ["business_date"], []
    if spec.money:
        required.append("entry_id")
    for f in spec.fields:
        if f.name in from_path:
            continue
        props.update(_field_schemas(f.name, f.type, f.limit, f.required))
        if f.required and f.type == AMOUNT:
            one_of_amounts.append([{"required": [k]} for k in f.keys])
        elif f.required and f.type != ATTACHMENTS:
            required.append(f.name)
    schema: dict[str, Any] = {"type": "object", "properties": props, "required": required,
                              "additionalProperties": False}
    if one_of_amounts:
        schema["allOf"] = [{"oneOf": alternatives} for alternatives in one_of_amounts]
    return schema


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object", "title": "Problem",
    "description": "RFC 9457 problem details, with the ledger's code, rule, field and "
                   "message in Chinese and English",
    "required": ["type", "title", "status", "detail", "code", "message_zh", "message_en"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"},
        "status": {"type": "integer"}, "detail": {"type": "string"},
        "code": {"type": "string", "description": "stable machine code"},
        "rule": {"type": "string", "description": "R1..R9, or a family: input, auth, …"},
        "field": {"type": ["string", "null"]},
        "message_zh": {"type": "string"}, "message_en": {"type": "string"},
        "details": {"type": "object", "description": "the numbers: limits, amounts left"},
    },
}
WRITE_ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object", "title": "WriteAnswer",
    "required": ["kind", "programme", "county_code", "entry_id", "stream_id", "version",
                 "event_hash", "replayed", "links"],
    "properties": {
        "kind": {"type": "string"}, "programme": {"type": "string"},
        "county_code": {"type": "string"}, "entry_id": {"type": "string"},
        "stream_id": {"type": "string"}, "version": {"type": "integer"},
        "event_hash": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "replayed": {"type": "boolean"},
        "position": {"type": ["integer", "null"], "description": "the event's log position"},
        "report": {"type": ["object", "null"], "description": "a monthly report's version "
                   "and whether it was on time"},
        "links": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    span: {"description": text, "content": {"application/problem+json": {
        "schema": PROBLEM_SCHEMA}}}
    for span, text in (("4XX", "refused: the problem says which rule and field"),
                       ("5XX", "the store is unavailable (503) or contradicts itself (500)"))}
