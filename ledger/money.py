"""Money as integer fen: exact parsing and formatting of yuan strings, and the named limits.

Floats never enter: a yuan string is parsed with `Decimal` and an exact-scale check, and every
amount inside the ledger is an `int` number of fen.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from ledger.errors import InvalidAmount

FEN_PER_YUAN = 100
# One entry is at most 100 billion yuan: far above any county fund, far below 2**53 so that the
# amount survives any JSON reader (RFC 8785 / I-JSON) exactly.
AMOUNT_FEN_MAX = 10_000_000_000_000
assert AMOUNT_FEN_MAX < 2**53

# Plain digits, or digits grouped by thousands ("1,234,567.50"); at most two decimals.
_YUAN_RE = re.compile(r"([0-9]{1,15}|[0-9]{1,3}(,[0-9]{3}){1,4})(\.[0-9]{1,2})?")


def parse_yuan(text: str, field: str = "amount") -> int:
    """Parse a yuan string with at most two decimals ("1234.50") into integer fen."""
    if not isinstance(text, str):
        raise InvalidAmount(field, f"{text!r}", "不是字符串", "not a string")
    stripped = text.strip()
    if not _YUAN_RE.fullmatch(stripped):
        raise InvalidAmount(
            field, text, "应为最多两位小数的元金额", "expected yuan with at most two decimals"
        )
    try:
        fen = Decimal(stripped.replace(",", "")) * FEN_PER_YUAN
    except InvalidOperation:  # pragma: no cover - the regex already excludes this
        raise InvalidAmount(field, text, "不是数字", "not a number") from None
    return check_amount_fen(int(fen), field)


def check_amount_fen(amount_fen: object, field: str = "amount_fen") -> int:
    """Return `amount_fen` if it is an int in 1..AMOUNT_FEN_MAX, else raise InvalidAmount."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
        raise InvalidAmount(field, repr(amount_fen), "不是整数分", "not a whole number of fen")
    if not 1 <= amount_fen <= AMOUNT_FEN_MAX:
        raise InvalidAmount(
            field, str(amount_fen), f"须在 1 至 {AMOUNT_FEN_MAX} 分之间",
            f"must be 1..{AMOUNT_FEN_MAX} fen", min_fen=1, max_fen=AMOUNT_FEN_MAX,
        )
    return amount_fen


def format_yuan(amount_fen: int, grouped: bool = False) -> str:
    """Format integer fen as a yuan string with exactly two decimals ("-12.05" for -1205);
    `grouped` puts thousands separators in, for people to read ("10,000,000.00"), never for
    data that a program reads back."""
    sign = "-" if amount_fen < 0 else ""
    yuan, fen = divmod(abs(amount_fen), FEN_PER_YUAN)
    return f"{sign}{yuan:,}.{fen:02d}" if grouped else f"{sign}{yuan}.{fen:02d}"


def money(amount_fen: int) -> dict[str, int | str]:
    """The output form of an amount: both fen and a yuan string."""
    return {"amount_fen": amount_fen, "amount_yuan": format_yuan(amount_fen)}
