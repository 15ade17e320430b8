"""Tests of ledger.money: exact yuan parsing and formatting, the fen range, and the error shape."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import InvalidAmount
from ledger.money import (
    AMOUNT_FEN_MAX,
    FEN_PER_YUAN,
    check_amount_fen,
    format_yuan,
    money,
    parse_yuan,
)

MAX_YUAN = AMOUNT_FEN_MAX // FEN_PER_YUAN


def assert_invalid_amount(exc: InvalidAmount, field: str) -> None:
    """An InvalidAmount carries its code, rule R1, the field, and differing zh / en text."""
    assert type(exc) is InvalidAmount
    assert exc.code == "AMOUNT_INVALID"
    assert exc.rule == "R1"
    assert exc.field == field
    assert exc.zh and exc.en and exc.zh != exc.en
    assert "金额无效" in exc.zh
    assert "invalid amount" in exc.en
    assert exc.to_dict()["code"] == "AMOUNT_INVALID"


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("0.01", 1),
        ("0.1", 10),
        ("0.10", 10),
        ("1", 100),
        ("1.5", 150),
        ("1234.50", 123450),
        ("1234.5", 123450),
        ("1,234.5", 123450),
        ("1,234,567.89", 123456789),
        ("  12.00  ", 1200),
        ("007.07", 707),
        ("100000000000", AMOUNT_FEN_MAX),
        ("99999999999.99", AMOUNT_FEN_MAX - 1),
    ],
)
def test_parse_yuan_exact_cases(text: str, fen: int) -> None:
    """parse_yuan turns valid yuan strings into exact integer fen."""
    result = parse_yuan(text)
    assert result == fen
    assert type(result) is int


@pytest.mark.parametrize(
    "text",
    [
        "1.234",  # three decimals
        "0.001",
        "-1",  # negative
        "-0.01",
        "+1",
        "1e3",  # exponent
        "1E3",
        "",  # empty
        " ",
        "0",  # zero is not an amount
        "0.00",
        "abc",
        "1.",
        ".5",
        "1.2.3",
        "NaN",
        "Infinity",
        "0x10",
        "1_000",
        "１２３",  # full-width digits
        "100000000000.01",  # one fen above AMOUNT_FEN_MAX
        "999999999999999.99",
        "1000000000000000",  # sixteen digits
        "1 000",
        "¥1",
    ],
)
def test_parse_yuan_rejects_malformed_text(text: str) -> None:
    """parse_yuan rejects malformed, zero, negative and out-of-range yuan strings."""
    with pytest.raises(InvalidAmount) as info:
        parse_yuan(text)
    assert_invalid_amount(info.value, "amount")


@pytest.mark.parametrize("value", [1.5, 1.0, 100, True, None, b"1.00", ["1"]])
def test_parse_yuan_rejects_non_strings(value: Any) -> None:
    """parse_yuan accepts only strings: floats, ints, bools, bytes, None are InvalidAmount."""
    with pytest.raises(InvalidAmount) as info:
        parse_yuan(value)
    assert_invalid_amount(info.value, "amount")


def test_parse_yuan_names_the_given_field() -> None:
    """The error names the field it was given (e.g. budget)."""
    with pytest.raises(InvalidAmount) as info:
        parse_yuan("1.234", "budget")
    assert_invalid_amount(info.value, "budget")
    assert info.value.details["value"] == "1.234"


@pytest.mark.parametrize("text", ["1,5", "12,34", ",1", "1,,0", "1,0000"])
def test_parse_yuan_rejects_misplaced_thousands_separators(text: str) -> None:
    """Commas are accepted only as thousands separators in groups of three."""
    with pytest.raises(InvalidAmount):
        parse_yuan(text)


@pytest.mark.parametrize(("fen", "text"), [
    (1, "0.01"), (10, "0.10"), (100, "1.00"), (123450, "1234.50"), (0, "0.00"),
    (-1205, "-12.05"), (-1, "-0.01"), (AMOUNT_FEN_MAX, "100000000000.00"),
])
def test_format_yuan_exact_cases(fen: int, text: str) -> None:
    """format_yuan gives exactly two decimals and a sign for negative amounts."""
    assert format_yuan(fen) == text


def test_money_gives_both_forms() -> None:
    """money() outputs the amount in fen and as a yuan string."""
    assert money(123450) == {"amount_fen": 123450, "amount_yuan": "1234.50"}


@pytest.mark.parametrize("fen", [1, 2, 99, 100, 123450, AMOUNT_FEN_MAX])
def test_check_amount_fen_accepts_the_range(fen: int) -> None:
    """check_amount_fen returns ints in 1..AMOUNT_FEN_MAX unchanged."""
    assert check_amount_fen(fen) == fen


@pytest.mark.parametrize(
    "value",
    [0, -1, AMOUNT_FEN_MAX + 1, 2**53, 1.0, 100.5, True, False, "100", None, 10**30],
)
def test_check_amount_fen_rejects(value: Any) -> None:
    """check_amount_fen rejects zero, negatives, > AMOUNT_FEN_MAX, floats, bools and strings."""
    with pytest.raises(InvalidAmount) as info:
        check_amount_fen(value, "amount_fen")
    assert_invalid_amount(info.value, "amount_fen")


def test_amount_fen_max_is_below_two_to_the_53() -> None:
    """AMOUNT_FEN_MAX survives any JSON reader exactly."""
    assert 0 < AMOUNT_FEN_MAX < 2**53


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=1, max_value=AMOUNT_FEN_MAX))
def test_parse_of_format_is_identity(fen: int) -> None:
    """For every fen amount in 1..AMOUNT_FEN_MAX, parse_yuan(format_yuan(x)) == x."""
    assert parse_yuan(format_yuan(fen)) == fen


@settings(max_examples=300, deadline=None)
@given(
    st.integers(min_value=0, max_value=MAX_YUAN - 1),
    st.integers(min_value=0, max_value=99),
    st.sampled_from(["two", "one", "none", "grouped"]),
)
def test_format_of_parse_normalises(yuan: int, fen: int, style: str) -> None:
    """Yuan strings built from (yuan, fen) parse and format back to the normal two-decimal form."""
    if yuan == 0 and fen == 0:
        fen = 1
    if style == "two":
        text = f"{yuan}.{fen:02d}"
    elif style == "one":
        text = f"{yuan}.{fen:02d}" if fen % 10 else f"{yuan}.{fen // 10}"
    elif style == "none":
        text = f"{yuan}" if fen == 0 else f"{yuan}.{fen:02d}"
    else:
        text = f"{yuan:,}.{fen:02d}"
    assert parse_yuan(text) == yuan * 100 + fen
    assert format_yuan(parse_yuan(text)) == f"{yuan}.{fen:02d}"


def test_ledger_errors_survive_pickling() -> None:
    """Errors cross process pools intact: class, code, both messages, field, details."""
    import pickle

    from ledger.errors import ImportFailed

    for error in (InvalidAmount("amount", "x", "原因", "why"),
                  ImportFailed("第 3 条", "item 3", "amount_fen", item=3)):
        again = pickle.loads(pickle.dumps(error))
        assert type(again) is type(error) and str(again) == str(error)
        assert again.to_dict() == error.to_dict()
