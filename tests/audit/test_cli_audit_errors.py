"""The audit commands' errors as a user meets them: a receipt or a proof on a store whose log
nodes were deleted, an unknown entry, a proof outside the log, a witness state that is not one:
each exits 1 or 2 with the rule, code and field and both languages, never a traceback or an
internal error, and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from api.cli import cli
from audit.db import LogDB
from ledger.application import FundLedger
from tests.audit.conftest import execute
from tests.conftest import COUNTY, event_count

LOG_COUNTS = "SELECT (SELECT count(*) FROM fundledger_log_leaves), " \
             "(SELECT count(*) FROM fundledger_log_checkpoints)"


def run(db: str, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)


def assert_clean(r: Any, exit_code: int, code: str) -> None:
    """Exit code, the code and both languages once, and no traceback or internal error."""
    assert r.exit_code == exit_code, r.output
    assert "Traceback" not in r.output and "internal error" not in r.output, r.output
    assert f"[{code}]" in r.output, r.output
    zh_line, en_line = r.output.strip().splitlines()[-2:]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh_line), zh_line
    assert en_line.startswith("  ") and en_line.isascii(), en_line


@pytest.mark.parametrize("args", [("receipt", "D3", "--county", COUNTY), ("proof", "--leaf", "3"),
                                  ("proof", "--from", "2")])
def test_missing_log_nodes_are_reported_not_crashed(args: tuple[str, ...], sealed: LogDB,
                                                    ledger: FundLedger, store_url: str) -> None:
    """With the log's nodes deleted behind its back, `receipt` and `proof` exit 1 with
    LOG_NODE_MISSING naming the node (also in --json), and nothing is written."""
    execute(store_url, "DELETE FROM fundledger_log_nodes")
    before = event_count(ledger), execute(store_url, LOG_COUNTS)
    r = run(store_url, *args)
    assert_clean(r, 1, "LOG_NODE_MISSING")
    assert "integrity [LOG_NODE_MISSING] 字段 log：日志缺少第" in r.output
    error = json.loads(run(store_url, "--json", *args).stdout)["error"]
    assert error["code"] == "LOG_NODE_MISSING" and error["rule"] == "integrity"
    assert {"level", "index"} <= set(error["details"])
    assert f"level {error['details']['level']}, index {error['details']['index']}" \
        in error["message_en"]
    assert (event_count(ledger), execute(store_url, LOG_COUNTS)) == before


def test_audit_refusals_have_the_common_shape(sealed: LogDB, ledger: FundLedger,
                                              store_url: str) -> None:
    """An unknown entry's receipt is NO_RECEIPT (exit 1), in text and in the same JSON shape as
    every other error: code, rule, field, both messages, details."""
    r = run(store_url, "receipt", "NOPE", "--county", COUNTY)
    assert_clean(r, 1, "NO_RECEIPT")
    assert "拒绝 / rejected: audit [NO_RECEIPT]" in r.output
    error = json.loads(run(store_url, "--json", "receipt", "NOPE", "--county", COUNTY).stdout)
    assert error["error"] == {
        "code": "NO_RECEIPT", "rule": "audit", "field": "entry_id",
        "message_zh": f"无法出具收据：县 {COUNTY} 没有条目 NOPE",
        "message_en": f"no receipt: county {COUNTY} of gd-2020-ecrural has no entry NOPE",
        "details": error["error"]["details"]}
    assert error["error"]["details"]["entry_id"] == "NOPE"


def test_a_proof_outside_the_log_is_a_usage_error(sealed: LogDB, store_url: str) -> None:
    """A leaf or size beyond the sealed log is a usage error (exit 2), not a missing node."""
    for args in (("--leaf", "10000"), ("--leaf", "0", "--size", "10000"), ("--from", "0")):
        r = run(store_url, "proof", *args)
        assert r.exit_code == 2 and "用法错误 / usage error" in r.output, r.output
        assert "Traceback" not in r.output and "LOG_NODE_MISSING" not in r.output


def test_a_witness_state_that_is_not_one(tmp_path: Path, sealed: LogDB, store_url: str) -> None:
    """A witness directory whose state file is not JSON, or not a state, exits 2 with
    AUDIT_FILE_UNREADABLE naming the file."""
    wdir = tmp_path / "w"
    wdir.mkdir()
    for content in ("{not json", '{"format": "other"}', "[1, 2]"):
        (wdir / "state.json").write_text(content, "utf-8")
        r = run(store_url, "witness", "cosign", "--dir", str(wdir))
        assert_clean(r, 2, "AUDIT_FILE_UNREADABLE")
        assert str(wdir / "state.json") in r.output


def test_an_event_retyped_as_text_is_a_finding_not_a_crash(ledger: FundLedger,
                                                           store_url: str) -> None:
    """An event whose state was rewritten as TEXT with other content (SQLite lets whoever holds
    the file): `verify` reports it and `seal` refuses it (exit 1), with no internal error and
    no traceback from a cursor closed after its connection."""
    if not store_url.startswith("sqlite"):
        pytest.skip("a PostgreSQL bytea column holds no text")
    execute(store_url, "UPDATE stored_events SET state = replace(CAST(state AS TEXT), "
                       "'\"business_date\":\"2020-05-03\"', '\"business_date\":\"2020-05-04\"') "
                       "WHERE rowid = (SELECT max(rowid) FROM stored_events WHERE "
                       "CAST(state AS TEXT) LIKE '%\"business_date\":\"2020-05-03\"%')")
    before = event_count(ledger)
    verified = run(store_url, "verify")
    assert verified.exit_code == 1 and "BROKEN" in verified.output, verified.output
    sealed = run(store_url, "seal")
    assert_clean(sealed, 1, "SEAL_REFUSED")
    assert "Traceback" not in verified.output and "internal error" not in verified.output
    assert event_count(ledger) == before
