"""What a county officer sees when the ledger refuses: in text, not only with --json, the rule,
the code, the field and the message in Chinese and then English, each once; the exit code the
table gives; nothing recorded; never a traceback (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner

from api.cli import cli
from ledger.application import FundLedger
from tests.conftest import COUNTY, event_count

PROV = ("--actor-id", "p1", "--role", "province", "--scope", "440000")
CTY = ("--actor-id", "c1", "--role", "county", "--scope", COUNTY)


def run(db: str, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)


def refused_in_text_and_json(app: FundLedger, store_url: str, args: tuple[str, ...],
                             exit_code: int = 1) -> tuple[str, dict[str, Any]]:
    """Run `args` as text and as --json: the same refusal, nothing recorded; (text, error)."""
    before = event_count(app)
    text = run(store_url, *args)
    as_json = run(store_url, "--json", *args)
    assert event_count(app) == before
    assert text.exit_code == as_json.exit_code == exit_code, text.output
    assert "Traceback" not in text.output + as_json.output
    error: dict[str, Any] = json.loads(as_json.stdout)["error"]
    return text.output, error


def assert_told_once(text: str, error: dict[str, Any]) -> None:
    """The first line names rule, code (and field), then the Chinese; the second the English;
    neither message appears twice, nor the other language's inside it."""
    zh_line, en_line = text.strip().splitlines()[-2:]
    assert zh_line.startswith(f"拒绝 / rejected: {error['rule']} [{error['code']}] "), zh_line
    assert zh_line.endswith(error["message_zh"]) and en_line.endswith(error["message_en"])
    assert text.count(error["message_zh"]) == 1 and text.count(error["message_en"]) == 1
    assert error["field"] in zh_line and error["field"] in en_line
    assert error["message_en"].isascii(), error["message_en"]


def test_a_malformed_amount_is_told_once_in_each_language(app: FundLedger,
                                                          store_url: str) -> None:
    """`--amount 1.234` is R1 AMOUNT_INVALID on field amount, exit 1: Chinese once, English
    once, in that order (it was printed twice, mixed)."""
    text, error = refused_in_text_and_json(app, store_url, (
        "record", "disbursement", "--county", COUNTY, "--entry-id", "D1", "--date", "2020-04-03",
        "--project", "P1", "--amount", "1.234", "--payee", "x", "--voucher-no", "v", *CTY))
    assert (error["code"], error["rule"], error["field"]) == ("AMOUNT_INVALID", "R1", "amount")
    assert error["message_zh"] == "金额无效（amount=1.234）：应为最多两位小数的元金额"
    assert error["message_en"] == ("invalid amount (amount=1.234): expected yuan with at most "
                                   "two decimals")
    assert_told_once(text, error)
    assert "拒绝 / rejected: R1 [AMOUNT_INVALID] 字段 amount：金额无效" in text


def test_a_malformed_date_on_admit(app: FundLedger, store_url: str) -> None:
    """`admit --date 2020-13-01` is INVALID_FIELD on business_date, exit 1, as documented."""
    text, error = refused_in_text_and_json(app, store_url, (
        "admit", "--county", "441422", "--name", "大埔县", "--allocation", "1000",
        "--document-no", "X1", "--date", "2020-13-01", *PROV))
    assert (error["code"], error["field"]) == ("INVALID_FIELD", "business_date")
    assert "2020-13-01" in error["message_zh"] and "2020-13-01" in error["message_en"]
    assert_told_once(text, error)


def test_a_rule_refusal_names_rule_field_and_numbers(app: FundLedger, store_url: str) -> None:
    """A disbursement beyond the project's budget: R4 in text, with the field and the numbers
    of the message (the same text as --json's, whose details carry them)."""
    run(store_url, "record", "appropriation", "--county", COUNTY, "--entry-id", "A1",
        "--batch", "1", "--amount", "500000", "--document-no", "D1", "--date", "2020-04-01",
        *PROV)
    run(store_url, "record", "project", "--county", COUNTY, "--project", "P1", "--name", "n",
        "--category", "training", "--budget", "300", "--responsible-person", "李四",
        "--implementing-unit", "u", "--start-date", "2020-04-01", "--end-date", "2021-06-30",
        "--date", "2020-04-02", *CTY)
    text, error = refused_in_text_and_json(app, store_url, (
        "record", "disbursement", "--county", COUNTY, "--entry-id", "D1", "--date", "2020-04-03",
        "--project", "P1", "--amount", "1000", "--payee", "x", "--voucher-no", "v", *CTY))
    assert (error["code"], error["rule"]) == ("DISBURSEMENT_EXCEEDS_BUDGET", "R4")
    assert "300" in error["message_zh"] and "300" in error["message_en"]
    assert_told_once(text, error)


def test_a_bad_store_url_is_a_usage_error(app: FundLedger, store_url: str) -> None:
    """An unusable --db is STORE_URL_INVALID, exit 2, told in both languages."""
    for url in ("sqlite://", "mysql://x/y", "postgresql://postgres@127.0.0.1/x?sslmode=1"):
        r = run(url, "--json", "status", "--county", COUNTY)
        assert r.exit_code == 2, r.output
        assert json.loads(r.stdout)["error"]["code"] == "STORE_URL_INVALID"
        text = run(url, "status", "--county", COUNTY).output
        assert text.startswith("错误 / error: io [STORE_URL_INVALID] ") and url in text
