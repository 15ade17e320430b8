"""Reading a command given as JSON bytes (a `record json` file, an import line, an HTTP body):
strict UTF-8 I-JSON (RFC 7493) with limits checked before the parser runs.

Refused, as InputMalformed naming the place: a byte-order mark or UTF-16/32, bytes that are not
UTF-8, input larger than its limit, nesting deeper than `JSON_DEPTH_MAX`, a duplicate key (a
reader of the file would see one value and the ledger book another), an integer of more than
`JSON_INT_DIGITS_MAX` digits (beyond 2**53, not exact in every JSON reader), NaN or Infinity,
and any JSON syntax error. Numbers with a fraction or exponent are read as `Decimal`, never as
binary floats: the field they are given for then refuses them (an amount is integer fen or a
yuan string).
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any

from ledger.errors import InputMalformed

JSON_COMMAND_BYTES_MAX = 1 << 20  # one command (`record json`): 1 MiB, far above any real one
JSON_LINE_BYTES_MAX = 64 << 10  # one import line: 64 KiB
JSON_DEPTH_MAX = 8  # a command is an object holding at most a list or an object: depth 2
JSON_INT_DIGITS_MAX = 16  # 2**53 - 1 = 9007199254740991 has 16 digits
JSON_NUMBER_CHARS_MAX = 40  # a number with a fraction or exponent, as written

_BOMS = ((b"\xef\xbb\xbf", "UTF-8 BOM"), (b"\xff\xfe", "UTF-16 (LE) BOM"),
         (b"\xfe\xff", "UTF-16 (BE) BOM"))
# JSON tokens that matter for depth: strings (skipped whole) and brackets.
_DEPTH_TOKEN_RE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


class _Refused(ValueError):
    """Raised inside the parser's hooks; turned into InputMalformed with the place."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(en)
        self.zh, self.en = zh, en


Where = tuple[str, str]  # the place named in messages, in Chinese and English


def _refuse(where: Where, zh: str, en: str, check: str) -> InputMalformed:
    return InputMalformed(f"{where[0]}：{zh}", f"{where[1]}: {en}", None, check=check)


def decode(raw: bytes, where: Where, max_bytes: int) -> str:
    """The text of `raw`: strict UTF-8 without BOM, at most `max_bytes` bytes."""
    if len(raw) > max_bytes:
        raise _refuse(where, f"过大：{len(raw)} 字节，最多 {max_bytes} 字节",
                      f"too large: {len(raw)} bytes, at most {max_bytes}", "size")
    for bom, name in _BOMS:
        if raw.startswith(bom):
            raise _refuse(where, f"以字节顺序标记开头（{name}）：请存为不带 BOM 的 UTF-8",
                          f"starts with a byte-order mark ({name}): save it as UTF-8 without "
                          "BOM", "encoding")
    if b"\x00" in raw[:4]:
        raise _refuse(where, "似为 UTF-16 或 UTF-32 编码：请存为 UTF-8",
                      "looks like UTF-16 or UTF-32: save it as UTF-8", "encoding")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _refuse(where, f"第 {e.start + 1} 字节起不是有效的 UTF-8",
                      f"is not valid UTF-8 (at byte {e.start + 1})", "encoding") from None


def _check_depth(text: str, where: Where) -> None:
    if text.count("[") + text.count("{") <= JSON_DEPTH_MAX:
        return  # cannot be deeper: the common case costs two counts
    depth = 0
    for match in _DEPTH_TOKEN_RE.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > JSON_DEPTH_MAX:
                raise _refuse(where, f"嵌套超过 {JSON_DEPTH_MAX} 层",
                              f"nested deeper than {JSON_DEPTH_MAX} levels", "depth")
        elif token in "]}":
            depth -= 1


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            shown = repr(key)[:40]
            raise _Refused(f"键 {shown} 重复出现（读者与账本会取不同的值）",
                           f"duplicate key {shown} (a reader and the ledger would take "
                           "different values)")
        result[key] = value
    return result


def _int(token: str) -> int:
    if len(token.lstrip("-")) > JSON_INT_DIGITS_MAX:
        raise _Refused(f"整数过大（{len(token)} 位，最多 {JSON_INT_DIGITS_MAX} 位）",
                       f"integer too large ({len(token)} digits, at most {JSON_INT_DIGITS_MAX}; "
                       "I-JSON keeps integers within 2**53)")
    return int(token)


def _decimal(token: str) -> Decimal:
    if len(token) > JSON_NUMBER_CHARS_MAX:
        raise _Refused(f"数字过长（{len(token)} 个字符）", f"number too long ({len(token)} "
                       f"characters, at most {JSON_NUMBER_CHARS_MAX})")
    return Decimal(token)


def _constant(token: str) -> Any:
    raise _Refused(f"{token} 不是 JSON 数值", f"{token} is not a JSON number")


def parse_json(text: str, where: Where) -> Any:
    """Parse JSON text under the rules above; `where` names the place (zh, en)."""
    _check_depth(text, where)
    try:
        return json.loads(text, object_pairs_hook=_object, parse_int=_int,
                          parse_float=_decimal, parse_constant=_constant)
    except _Refused as e:
        raise _refuse(where, e.zh, e.en, "json") from None
    except json.JSONDecodeError as e:
        raise _refuse(where, f"JSON 无效：第 {e.lineno} 行第 {e.colno} 列：{e.msg}",
                      f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}",
                      "json") from None
    except RecursionError:  # pragma: no cover - the depth check runs first
        raise _refuse(where, "嵌套过深", "nested too deep", "depth") from None


def parse_command(raw: bytes, where: Where, max_bytes: int = JSON_COMMAND_BYTES_MAX
                  ) -> dict[str, Any]:
    """One JSON object from bytes: a command (see `ledger.commands`)."""
    value = parse_json(decode(raw, where, max_bytes), where)
    if not isinstance(value, dict):
        raise _refuse(where, "应为一个 JSON 对象", "expected one JSON object", "shape")
    return value
