"""Validation of command fields: each returns a clean value or raises InvalidField naming
the field, in Chinese and English. Used by the application service for every command."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from ledger.errors import InvalidField
from ledger.money import check_amount_fen, parse_yuan

TEXT_MAX_CHARS = 500
ID_MAX_CHARS = 64
ATTACHMENTS_MAX = 32
# Patterns are applied with fullmatch: "$" would also accept a trailing newline.
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_PERIOD_RE = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Control characters (C0 but tab and newline, DEL, C1) and the bidirectional overrides that
# can make a payee's name display as something else on a page.
_UNSAFE_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def text(value: Any, field: str, *, required: bool = True, max_chars: int = TEXT_MAX_CHARS) -> str:
    """A trimmed string of at most `max_chars` characters; required unless told otherwise."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise InvalidField(f"字段 {field} 应为文本", f"field {field} must be text", field)
    cleaned = str(value).strip()
    if required and not cleaned:
        raise InvalidField(f"字段 {field} 不能为空", f"field {field} is required", field)
    if len(cleaned) > max_chars or _UNSAFE_RE.search(cleaned):
        raise InvalidField(
            f"字段 {field} 过长或含控制字符、方向控制符（最多 {max_chars} 字）",
            f"field {field} is too long (max {max_chars}) or has control or bidi characters",
            field,
        )
    return cleaned


def identifier(value: Any, field: str) -> str:
    """An entry id, project code or document reference: 1..64 of [A-Za-z0-9._:/-]."""
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        raise InvalidField(
            f"字段 {field} 应为1至64位字母、数字或 ._:/-",
            f"field {field} must be 1..64 characters of letters, digits or ._:/-", field,
        )
    return value


def date(value: Any, field: str = "business_date") -> dt.date:
    """A calendar date given as YYYY-MM-DD (or a date)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidField(
        f"字段 {field} 应为 YYYY-MM-DD 日期", f"field {field} must be a YYYY-MM-DD date", field
    )


def period(value: Any, field: str = "period") -> str:
    """A reporting month, YYYY-MM."""
    if not isinstance(value, str) or not _PERIOD_RE.fullmatch(value):
        raise InvalidField(f"字段 {field} 应为 YYYY-MM", f"field {field} must be YYYY-MM", field)
    return value


def amount(fields: dict[str, Any], name: str = "amount") -> int:
    """An amount given as `amount_fen` (int) or `amount` / `amount_yuan` (yuan string)."""
    given = [k for k in (f"{name}_fen", name, f"{name}_yuan") if fields.get(k) is not None]
    if len(given) != 1:
        raise InvalidField(
            f"须且只须给出 {name}_fen（分）或 {name}（元）之一",
            f"give exactly one of {name}_fen (integer fen) or {name} (yuan string)", f"{name}_fen",
        )
    key = given[0]
    if key.endswith("_fen"):
        return check_amount_fen(fields[key], key)
    return parse_yuan(fields[key], key)


def attachments(value: Any, field: str = "attachments") -> list[str]:
    """A list of SHA-256 hex digests (lower case) of attached documents."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > ATTACHMENTS_MAX:
        raise InvalidField(
            f"{field} 应为至多 {ATTACHMENTS_MAX} 个 SHA-256 的列表",
            f"{field} must be a list of at most {ATTACHMENTS_MAX} SHA-256 digests", field,
        )
    for item in value:
        if not isinstance(item, str) or not _SHA256_RE.fullmatch(item):
            raise InvalidField(
                f"{field} 中有无效的 SHA-256（应为64位小写十六进制）",
                f"{field} holds an invalid SHA-256 (64 lower-case hex digits expected)", field,
            )
    return list(value)


def integer(value: Any, field: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidField(
            f"字段 {field} 应为 {lo}..{hi} 的整数", f"field {field} must be an integer {lo}..{hi}",
            field,
        )
    return value
