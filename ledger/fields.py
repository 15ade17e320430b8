"""Validation of command fields: each returns a clean value or raises InvalidField (for text,
InvalidText) naming the field and the check, in Chinese and English. Every text that enters an
event passes `text`: the application service, the aggregates and the actors call it."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from ledger.errors import VALUE_SHOWN_MAX_CHARS, InvalidField, InvalidText
from ledger.money import check_amount_fen, parse_yuan

# Limits on text fields, in characters (Unicode code points) after trimming outer spaces.
TEXT_MAX_CHARS = 500  # a reason, a purpose
NAME_MAX_CHARS = 200  # a project's name, a payee, an implementing unit, a title, an assessor
PERSON_MAX_CHARS = 100  # a person: a responsible person, an approver
DOCUMENT_NO_MAX_CHARS = 100  # 文号, voucher, invoice and report numbers
COUNTY_NAME_MAX_CHARS = 50  # 丰顺县; the longest division name is far shorter
CATEGORY_MAX_CHARS = 64
CONCLUSION_MAX_CHARS = 20
SUMMARY_MAX_CHARS = 2000  # a monthly report's or typical case's summary
ACTOR_ID_MAX_CHARS = 64
ID_MAX_CHARS = 64
ATTACHMENTS_MAX = 32
DIVISION_CODE_CHARS = 6  # GB/T 2260: two digits each of province, city and county
BATCH_MIN, BATCH_MAX = 1, 9  # appropriation batches (GD-2020 has two)
YEAR_MIN, YEAR_MAX = 2000, 2999  # a year to close
# Patterns are applied with fullmatch: "$" would also accept a trailing newline.
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_PERIOD_RE = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIVISION_RE = re.compile(r"[1-9][0-9]{5}")

# Characters refused in every text field, and why. A record is read by people on terminals and
# pages: a control character can rewrite the screen, a bidi control reorders what is shown
# ("payee ABC" that reads "CBA"), a zero-width or unusual space makes two different payees look
# the same, a line separator breaks one field over lines. None of them has a place in a name, a
# number or a reason, so none is allowed, not even tab or newline. Spaces are U+0020 and the
# ideographic space U+3000 (used in Chinese text). Private-use characters are allowed: legacy
# systems map rare characters of personal names to them.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069")
ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
SPACES_ALLOWED = frozenset(" \u3000")
# Most text is ASCII or common CJK: only characters outside these ranges are looked up.
_SUSPECT_RE = re.compile("[^\x20-\x7e\u3001-\u303f\u4e00-\u9fff\uff01-\uff5e]")
TEXT_CHECKS = {  # check -> (Chinese, English) name of what the character is
    "control": ("控制字符", "control character"),
    "bidi": ("双向文本控制符", "bidirectional-text control"),
    "zero_width": ("零宽字符", "zero-width character"),
    "line_separator": ("行或段分隔符", "line or paragraph separator"),
    "format": ("格式控制字符", "format character"),
    "space": ("非常规空格", "space other than U+0020 or U+3000"),
    "surrogate": ("无效编码（孤立代理码位）", "lone surrogate (invalid encoding)"),
    "noncharacter": ("非字符码位", "Unicode noncharacter"),
}


_CATEGORY_CHECKS = {"Cc": "control", "Zl": "line_separator", "Zp": "line_separator",
                    "Cf": "format", "Zs": "space", "Cs": "surrogate"}


def char_check(ch: str) -> str | None:
    """The name of the rule a character breaks in a text field, or None if it is allowed."""
    if ch in BIDI_CONTROLS:
        return "bidi"
    if ch in ZERO_WIDTH:
        return "zero_width"
    if ch in SPACES_ALLOWED:
        return None
    check = _CATEGORY_CHECKS.get(unicodedata.category(ch))
    if check is None:
        cp = ord(ch)
        if 0xFDD0 <= cp <= 0xFDEF or cp & 0xFFFE == 0xFFFE:
            return "noncharacter"
    return check


def forbidden_char(value: str) -> tuple[int, str, str] | None:
    """The first refused character of a string: (1-based position, character, check)."""
    if value.isprintable():  # the common case: every refused character is non-printable
        return None
    for match in _SUSPECT_RE.finditer(value):
        check = char_check(match.group())
        if check is not None:
            return match.start() + 1, match.group(), check
    return None


def escape_refused(value: str, keep: str = "") -> str:
    """`value` with every character `text` refuses (but those in `keep`) written as a Python
    escape (\\x1b, \\u202e): safe to print on a terminal, and visibly not what it looks like."""
    def escape(match: re.Match[str]) -> str:
        ch = match.group()
        if ch in keep or char_check(ch) is None:
            return ch
        cp = ord(ch)
        return f"\\x{cp:02x}" if cp <= 0xFF else f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"

    return _SUSPECT_RE.sub(escape, value)


def shown(value: Any, max_chars: int = VALUE_SHOWN_MAX_CHARS) -> str:
    """A value as quoted in an error message: its repr (control characters escaped), cut short."""
    quoted = repr(value)
    return quoted if len(quoted) <= max_chars else quoted[:max_chars] + "…"


def check_event_text(data: dict[str, Any], path: str = "") -> None:
    """Every string in an event's data (in lists and tables too) is free of the characters
    `text` refuses: the last line of the text rules, under every command of every aggregate,
    whatever called it. The edges check each field's length and format first."""
    texts: list[str] = []
    for value in data.values():  # on every event: one search over all its flat text first
        if type(value) is str:
            texts.append(value)
        elif type(value) is list and all(type(item) is str for item in value):
            texts.extend(value)
        elif isinstance(value, (list, dict)):
            break
    else:
        if "".join(texts).isprintable():  # every refused character is non-printable
            return
    for key, value in data.items():
        items = value if isinstance(value, list) else [value]
        for item in items:
            if isinstance(item, dict):
                check_event_text(item, f"{path}{key}.")
            elif isinstance(item, str) and _SUSPECT_RE.search(item) is not None:
                bad = forbidden_char(item)
                if bad is not None:
                    position, ch, check = bad
                    zh, en = TEXT_CHECKS[check]
                    raise InvalidText(
                        f"字段 {path}{key} 第 {position} 个字符 U+{ord(ch):04X} 是{zh}，不允许",
                        f"field {path}{key} has a {en} (U+{ord(ch):04X}) at character "
                        f"{position}, which is not allowed", f"{path}{key}", check=check,
                        char=f"U+{ord(ch):04X}", position=position)


def _text_error(field: str, check: str, zh: str, en: str, **details: Any) -> InvalidField:
    """A missing or non-text value is INVALID_FIELD, as for any field; a text that breaks a
    text rule (a character, the length) is INVALID_TEXT. Both name the check."""
    cls = InvalidField if check in ("type", "required") else InvalidText
    return cls(f"字段 {field} {zh}", f"field {field} {en}", field, check=check, **details)


def text(value: Any, field: str, *, required: bool = True, max_chars: int = TEXT_MAX_CHARS) -> str:
    """A string trimmed of outer spaces, of at most `max_chars` characters, with none of the
    refused characters above; required (non-empty) unless told otherwise."""
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise _text_error(field, "type", "应为文本", "must be text")
    bad = forbidden_char(value)
    if bad is not None:
        position, ch, check = bad
        zh, en = TEXT_CHECKS[check]
        raise _text_error(
            field, check, f"第 {position} 个字符 U+{ord(ch):04X} 是{zh}，不允许",
            f"has a {en} (U+{ord(ch):04X}) at character {position}, which is not allowed",
            char=f"U+{ord(ch):04X}", position=position,
        )
    cleaned = value.strip(" \u3000")
    if required and not cleaned:
        raise _text_error(field, "required", "不能为空", "is required (empty)")
    if len(cleaned) > max_chars:
        raise _text_error(field, "too_long", f"过长：{len(cleaned)} 字，最多 {max_chars} 字",
                          f"is too long: {len(cleaned)} characters, at most {max_chars}",
                          max_chars=max_chars, chars=len(cleaned))
    return cleaned


def division_code(value: Any, field: str) -> str:
    """A 6-digit administrative division code (GB/T 2260)."""
    if not isinstance(value, str) or not _DIVISION_RE.fullmatch(value):
        raise InvalidField(f"字段 {field} 应为6位行政区划代码",
                           f"field {field} must be a 6-digit division code", field)
    return value


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
        f"字段 {field} 应为 YYYY-MM-DD 格式的真实日期（{shown(value)}）",
        f"field {field} must be a real calendar date as YYYY-MM-DD (got {shown(value)})", field,
    )


def period(value: Any, field: str = "period") -> str:
    """A reporting month, YYYY-MM."""
    if not isinstance(value, str) or not _PERIOD_RE.fullmatch(value):
        raise InvalidField(f"字段 {field} 应为 YYYY-MM", f"field {field} must be YYYY-MM", field)
    return value


def amount(fields: Mapping[str, Any], name: str = "amount") -> int:
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
