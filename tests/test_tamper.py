"""Tampering with the stored events, directly in the database, is caught by `fundledger verify`.

The attacker has write access to the store: on SQLite the file, on PostgreSQL a superuser that
switches the append-only trigger off. Every attack must make verify exit 1 and name the place.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

import psycopg
import pytest
from click.testing import CliRunner

from api.cli import cli
from audit.chains import iter_rows, verify_chains
from ledger.application import FundLedger
from ledger.county import county_stream_id
from ledger.stores import is_postgres
from tests.conftest import COUNTY, COUNTY_ACTOR, PROGRAMME, PROVINCE, cmd

STREAM = county_stream_id(PROGRAMME, COUNTY)


def _populate(app: FundLedger) -> None:
    app.execute(cmd("appropriation", entry_id="A1", batch=1, amount="5000000",
                    document_no="X1", business_date="2020-04-01"), PROVINCE)
    app.execute(cmd("project", project_code="P1", name="县级电商公共服务中心",
                    category="public_services", budget="3000000", responsible_person="张三",
                    implementing_unit="县商务局", start_date="2020-04-01",
                    end_date="2021-06-30", business_date="2020-04-02"), COUNTY_ACTOR)
    for i in range(1, 6):
        app.execute(cmd("disbursement", entry_id=f"D{i}", project_code="P1",
                        amount=f"{1000 * i}.25", payee="某公司", voucher_no=f"V{i}",
                        business_date="2020-04-03"), COUNTY_ACTOR)


@pytest.fixture
def ledger(app: FundLedger, store_url: str) -> str:
    """The store of a small ledger: county 441423 with 8 events in its stream."""
    _populate(app)
    app.close()
    return store_url


@contextmanager
def attacker(url: str) -> Iterator[tuple[Any, str, str]]:
    """A raw connection with write access: (connection, events table, placeholder)."""
    if is_postgres(url):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("SET session_replication_role = replica")  # triggers off
            yield conn, "fundledger_events", "%s"
    else:
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            yield conn, "stored_events", "?"
            conn.commit()
        finally:
            conn.close()


def _sid(url: str, stream: UUID) -> Any:
    return stream if is_postgres(url) else stream.hex


def read_state(url: str, version: int) -> bytes:
    with attacker(url) as (conn, table, ph):
        row = conn.execute(f"SELECT state FROM {table} WHERE originator_id = {ph} AND "
                           f"originator_version = {ph}", (_sid(url, STREAM), version)).fetchone()
    return bytes(row[0])


def write_state(url: str, version: int, state: bytes) -> None:
    with attacker(url) as (conn, table, ph):
        conn.execute(f"UPDATE {table} SET state = {ph} WHERE originator_id = {ph} AND "
                     f"originator_version = {ph}", (state, _sid(url, STREAM), version))


def verify(url: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["--db", url, "--json", "verify"], catch_exceptions=False)
    return result.exit_code, json.loads(result.output)


def first_finding(url: str) -> tuple[int, dict[str, Any]]:
    code, report = verify(url)
    return code, (report["findings"][0] if report["findings"] else {})


def test_untouched_store_verifies(ledger: str) -> None:
    """An untouched store: exit 0, every event counted."""
    code, report = verify(ledger)
    assert code == 0 and report["intact"] and report["events"] == 2 + 8
    assert report["streams"] == 2


def test_changed_amount_is_caught_at_its_event(ledger: str) -> None:
    """Changing a disbursement's amount (still valid JSON) breaks that event's hash."""
    state = read_state(ledger, 5)
    doc = json.loads(state)
    doc["amount_fen"] += 100
    write_state(ledger, 5, json.dumps(doc, ensure_ascii=False).encode())
    code, finding = first_finding(ledger)
    assert code == 1
    assert finding["stream_id"] == str(STREAM) and finding["version"] == 5
    assert "content" in finding["problem_en"]


def test_changed_payee_with_recomputed_hash_is_caught_by_the_successor(ledger: str) -> None:
    """Rewriting one event and its own hash still breaks the next event's prev_hash."""
    from audit.chains import decode_row
    from ledger.chain import event_hash

    state = json.loads(read_state(ledger, 4))
    state["payee"] = "另一家公司"
    fake = type("Row", (), {"id": 0, "originator_id": STREAM, "originator_version": 4,
                            "topic": "ledger.county:CountyFund.DisbursementRecorded",
                            "state": json.dumps(state).encode()})
    etype, ts, prev, _, data = decode_row(fake)  # type: ignore[arg-type]
    state["event_hash"] = event_hash(str(STREAM), 4, etype, ts, prev, data)
    write_state(ledger, 4, json.dumps(state, ensure_ascii=False).encode())
    code, finding = first_finding(ledger)
    assert code == 1 and finding["version"] == 5 and "prev_hash" in finding["problem_en"]


def test_deleted_middle_event_is_caught(ledger: str) -> None:
    """Deleting version 4 leaves a gap and a broken link at version 5."""
    with attacker(ledger) as (conn, table, ph):
        conn.execute(f"DELETE FROM {table} WHERE originator_id = {ph} AND originator_version = 4",
                     (_sid(ledger, STREAM),))
    code, finding = first_finding(ledger)
    assert code == 1 and finding["version"] == 5 and "gap" in finding["problem_en"]


def test_swapped_payloads_are_caught(ledger: str) -> None:
    """Swapping two events' stored payloads: the hash covers stream id and version."""
    a, b = read_state(ledger, 4), read_state(ledger, 6)
    write_state(ledger, 4, b)
    write_state(ledger, 6, a)
    code, finding = first_finding(ledger)
    assert code == 1 and finding["version"] == 4


def test_every_single_byte_edit_is_caught(ledger: str) -> None:
    """Flipping any one byte of a stored event's payload is detected at that event."""
    original = read_state(ledger, 5)
    positions = range(len(original)) if not is_postgres(ledger) else range(0, len(original), 7)
    app = FundLedger(__import__("ledger.stores", fromlist=["x"]).store_env(ledger))
    try:
        for i in positions:
            tampered = bytearray(original)
            tampered[i] ^= 0x01
            write_state(ledger, 5, bytes(tampered))
            report = verify_chains(iter_rows(app.recorder))
            assert not report.intact, f"byte {i} edit not detected"
            assert report.findings[0].version == 5, f"byte {i}: {report.findings[0]}"
        write_state(ledger, 5, original)
        assert verify_chains(iter_rows(app.recorder)).intact
    finally:
        app.close()


def test_broken_output_names_the_stream_and_version(ledger: str) -> None:
    """Without --json, exit 1 and a message naming the stream, its county and the version."""
    with attacker(ledger) as (conn, table, ph):
        conn.execute(f"DELETE FROM {table} WHERE originator_id = {ph} AND originator_version = 3",
                     (_sid(ledger, STREAM),))
    result = CliRunner().invoke(cli, ["--db", ledger, "verify"])
    assert result.exit_code == 1
    assert str(STREAM) in result.output and "version 4" in result.output
    assert "county 441423" in result.output


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgres"], indirect=True)
def test_postgres_refuses_update_delete_truncate(ledger: str) -> None:
    """On PostgreSQL the application's role cannot UPDATE, DELETE or TRUNCATE the events."""
    assert is_postgres(ledger)
    with psycopg.connect(ledger, autocommit=True) as conn:
        for sql in ("UPDATE fundledger_events SET state = state",
                    "DELETE FROM fundledger_events WHERE originator_version = 2",
                    "TRUNCATE fundledger_events"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                conn.execute(sql)
        count = conn.execute("SELECT COUNT(*) FROM fundledger_events").fetchone()
    assert count is not None and count[0] == 10
    assert verify(ledger)[0] == 0


def test_read_models_refuse_an_inconsistent_store_clearly(app: FundLedger, store_url: str,
                                                          tmp_path: Any) -> None:
    """A deleted disbursement that a reversal names: `status` exits 1 with STORE_INCONSISTENT
    in both languages, and `export` still writes a bundle (statements recomputed) to examine."""
    _populate(app)
    app.execute(cmd("reversal", entry_id="R1", target_entry_id="D2", amount="1",
                    reason="错", business_date="2020-04-04"), COUNTY_ACTOR)
    app.close()
    runner = CliRunner()
    key = tmp_path / "log.key"
    assert runner.invoke(cli, ["--db", store_url, "keys", "init", "--out", str(key)]).exit_code == 0
    assert runner.invoke(cli, ["--db", store_url, "seal", "--key", str(key)]).exit_code == 0
    with attacker(store_url) as (conn, table, ph):
        conn.execute(f"DELETE FROM {table} WHERE originator_id = {ph} AND originator_version = 5",
                     (_sid(store_url, STREAM),))
    status = runner.invoke(cli, ["--db", store_url, "--json", "status", "--county", COUNTY])
    assert status.exit_code == 1
    error = json.loads(status.output)["error"]
    assert error["code"] == "STORE_INCONSISTENT" and error["message_zh"] and error["message_en"]
    exported = runner.invoke(cli, ["--db", store_url, "export", "--out", str(tmp_path / "b")])
    assert exported.exit_code == 0, exported.output
    assert "WARNING" in exported.output and (tmp_path / "b" / "statements.json").exists()
