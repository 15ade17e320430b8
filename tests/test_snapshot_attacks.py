"""Poisoned snapshots (issue 7, hole 1): a snapshot planted in the store is never used for a
write decision, and `fundledger verify` names it.

The attacker is the least-privilege PostgreSQL role of docs/operations.md (SELECT and INSERT
only: it inserts a new snapshot row) or, on SQLite, whoever can write the file. The attacker
builds the row the way the library would, from the true state plus the poison, and tags it
with a key of its own (it cannot read the application's).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import os
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from eventsourcing.application import project_aggregate
from eventsourcing.domain import Snapshot

from api.cli import cli
from ledger import errors as E
from ledger.application import FundLedger
from ledger.county import county_stream_id
from ledger.rules import packaged_rules
from ledger.snapshots import SNAPSHOT_KEY_SETTING, canonical_state, snapshot_mac
from ledger.stores import is_postgres, store_env
from tests.conftest import (
    ALLOCATION_FEN,
    COUNTY,
    COUNTY_ACTOR,
    PROGRAMME,
    PROVINCE,
    TODAY,
    cmd,
    event_count,
)
from tests.test_pg_roles import GRANTS

STREAM = county_stream_id(PROGRAMME, COUNTY)
EXTRA_CASH_FEN = 10_000_000_00  # 10,000,000 yuan
Factory = Callable[..., FundLedger]


@pytest.fixture
def keyed(store_url: str) -> Iterator[Factory]:
    """FundLedger instances on the test's store, with the snapshot key (or `key=None`)."""
    key = os.urandom(32)
    apps: list[FundLedger] = []

    def make(key: bytes | None = key) -> FundLedger:
        env = store_env(store_url)
        if key is not None:
            env[SNAPSHOT_KEY_SETTING] = key.hex()
        app = FundLedger(env, clock=lambda: TODAY)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.close()


def county_with_cash(app: FundLedger, close_2020: bool = False) -> None:
    """County 441423: 1,000,000 yuan received, 60,000 disbursed: a true cash of 940,000."""
    app.open_programme(packaged_rules(PROGRAMME), 100_000_000_00, PROVINCE, dt.date(2020, 3, 1))
    app.admit_county(PROGRAMME, COUNTY, "丰顺县", ALLOCATION_FEN, "粤商务建字〔2020〕1号",
                     PROVINCE, dt.date(2020, 3, 2))
    app.execute(cmd("appropriation", entry_id="A1", batch=1, amount="1000000",
                    document_no="X1", business_date="2020-04-01"), PROVINCE)
    app.execute(cmd("project", project_code="P1", name="县级电商公共服务中心",
                    category="public_services", budget="3000000", responsible_person="张三",
                    implementing_unit="县商务局", start_date="2020-04-01",
                    end_date="2021-06-30", business_date="2020-04-02"), COUNTY_ACTOR)
    for i in (1, 2, 3):
        app.execute(disbursement(f"D{i}", "20000", "2020-04-03"), COUNTY_ACTOR)
    if close_2020:
        app.execute(cmd("year_close", entry_id="C2020", year=2020,
                        business_date="2021-01-05"), PROVINCE)
    assert app.county(PROGRAMME, COUNTY).cash_fen == 940_000_00


def disbursement(entry_id: str, amount: str, date: str) -> dict[str, Any]:
    return cmd("disbursement", entry_id=entry_id, project_code="P1", amount=amount,
               payee="某公司", voucher_no=f"V-{entry_id}", business_date=date)


# ---- the attacker --------------------------------------------------------------------------


@pytest.fixture
def attacker_url(store_url: str) -> Iterator[str]:
    """Where the attacker writes from: the least-privilege role on PostgreSQL (SELECT and
    INSERT, as docs/operations.md grants), the file itself on SQLite."""
    if not is_postgres(store_url):
        yield store_url
        return
    FundLedger(store_env(store_url)).close()  # the owner creates the tables
    db = store_url.rsplit("/", 1)[1]
    role = f"fl_app_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(store_url, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(GRANTS.format(db=db, role=role))
    try:
        yield f"postgresql://{role}@{store_url.split('@', 1)[1]}"
    finally:
        with psycopg.connect(store_url, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")


def plant(reader: FundLedger, url: str, poison: Callable[[dict[str, Any]], None],
          key: bytes | None = None) -> int:
    """Insert a snapshot of the county's true state at its head version, poisoned; its
    version. The attacker tags it with a key of its own; with `key`, the row is tagged as the
    ledger tags its own (a snapshot the ledger wrote)."""
    agg: Any = project_aggregate(None, reader.events.get(STREAM))
    snap = Snapshot.take(agg)
    poison(snap.state)
    forged_key = os.urandom(32)
    mac = hmac.new(forged_key, canonical_state(snap.state), hashlib.sha256).hexdigest() \
        if key is None else snapshot_mac(key, STREAM, agg.version, snap.state["head_hash"],
                                         snap.topic, snap.state)
    object.__setattr__(snap, "mac", mac)
    stored = reader.mapper.to_stored_event(snap)
    row = (stored.originator_id, stored.originator_version, stored.topic, stored.state)
    if is_postgres(url):
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("INSERT INTO fundledger_snapshots (originator_id, originator_version, "
                         "topic, state) VALUES (%s, %s, %s, %s)", row)
    else:
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        with conn:
            conn.execute("INSERT INTO stored_snapshots (originator_id, originator_version, "
                         "topic, state) VALUES (?, ?, ?, ?)", (row[0].hex, *row[1:]))
        conn.close()
    return int(agg.version)


def add_cash(state: dict[str, Any]) -> None:
    state["appropriated_fen"] += EXTRA_CASH_FEN
    state["by_batch"]["1"] += EXTRA_CASH_FEN
    state["cash_days"]["2020-04-01"] += EXTRA_CASH_FEN


def verify(url: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(cli, ["--db", url, "--json", "verify"], catch_exceptions=False)
    return result.exit_code, json.loads(result.output)


def assert_snapshot_finding(url: str, version: int) -> None:
    code, report = verify(url)
    assert code == 1 and not report["intact"]
    found = [f for f in report["findings"] if f.get("check") == "snapshots"]
    assert len(found) == 1, report["findings"]
    assert found[0]["stream_id"] == str(STREAM) and found[0]["version"] == version
    assert f"county {COUNTY}" in found[0]["place"] and f"version {version}" in found[0]["place"]
    assert "poisoned" in found[0]["problem_en"] and found[0]["problem_zh"]


# ---- the attacks -----------------------------------------------------------------------------


@pytest.mark.parametrize("with_key", [True, False], ids=["key", "no-key"])
def test_planted_cash_does_not_pass_r4_and_verify_names_it(
        keyed: Factory, store_url: str, attacker_url: str, with_key: bool) -> None:
    """10,000,000 yuan of cash planted in a new snapshot row: a 2,000,000 yuan disbursement
    against a true cash of 940,000 is refused (R4), nothing is recorded, and verify exits 1
    naming the county and the snapshot's version."""
    county_with_cash(keyed())
    version = plant(keyed(), attacker_url, add_cash)
    app = keyed() if with_key else keyed(key=None)  # a new process: nothing cached
    before = event_count(app)
    with pytest.raises(E.InsufficientCash) as refused:
        app.execute(disbursement("D-BIG", "2000000", "2020-04-05"), COUNTY_ACTOR)
    assert refused.value.details["cash_fen"] == 940_000_00
    assert event_count(app) == before
    assert app.county(PROGRAMME, COUNTY).cash_fen == 940_000_00
    assert app.snapshots is not None
    if with_key:
        assert app.snapshots.ignored >= 1 and app.snapshots.used == 0  # type: ignore[attr-defined]
    assert_snapshot_finding(store_url, version)


def _forget_d1(state: dict[str, Any]) -> None:
    """Entry D1 erased from the planted state (a retry must not be recorded twice)."""
    state["entries"].pop("D1")


def _alter_d1(state: dict[str, Any]) -> None:
    """D1's remembered content changed (an honest retry must not be refused as a conflict)."""
    state["entries"]["D1"]["fingerprint"] = "0" * 64


@pytest.mark.parametrize("poison", [_forget_d1, _alter_d1], ids=["forgotten", "altered"])
def test_planted_snapshot_cannot_change_how_a_retry_is_answered(
        keyed: Factory, store_url: str, attacker_url: str,
        poison: Callable[[dict[str, Any]], None]) -> None:
    """D1 forgotten or altered in the planted state: retrying D1 is still a replay answered with
    the original, neither recorded twice nor refused as a conflict."""
    county_with_cash(keyed())
    version = plant(keyed(), attacker_url, poison)
    app = keyed()
    before = event_count(app)
    result = app.execute(disbursement("D1", "20000", "2020-04-03"), COUNTY_ACTOR)
    assert result.replayed and result.version == 4
    assert event_count(app) == before
    assert_snapshot_finding(store_url, version)


def test_planted_snapshot_cannot_reopen_a_closed_year(
        keyed: Factory, store_url: str, attacker_url: str) -> None:
    """2020 closed; the planted state forgets it: an entry dated 2020 is still refused (R7)."""
    county_with_cash(keyed(), close_2020=True)
    version = plant(keyed(), attacker_url, lambda s: s["closed_years"].clear())
    app = keyed()
    before = event_count(app)
    with pytest.raises(E.PeriodClosed):
        app.execute(disbursement("D-LATE", "1000", "2020-12-01"), COUNTY_ACTOR)
    assert event_count(app) == before
    assert_snapshot_finding(store_url, version)


def test_planted_snapshot_beyond_the_head_is_ignored_and_named(
        keyed: Factory, store_url: str, attacker_url: str) -> None:
    """A row planted for a version the stream has not reached: ignored, and named by verify
    (it would otherwise take the slot of the honest snapshot of that version)."""
    county_with_cash(keyed())

    def ahead(state: dict[str, Any]) -> None:
        add_cash(state)

    reader = keyed()
    agg: Any = project_aggregate(None, reader.events.get(STREAM))
    agg._version += 1  # the attacker claims the next version
    snap = Snapshot.take(agg)
    ahead(snap.state)
    stored = reader.mapper.to_stored_event(snap)
    if is_postgres(attacker_url):
        with psycopg.connect(attacker_url, autocommit=True) as conn:
            conn.execute("INSERT INTO fundledger_snapshots VALUES (%s, %s, %s, %s)",
                         (stored.originator_id, stored.originator_version, stored.topic,
                          stored.state))
    else:
        with sqlite3.connect(attacker_url.removeprefix("sqlite:///")) as conn:
            conn.execute("INSERT INTO stored_snapshots VALUES (?, ?, ?, ?)",
                         (stored.originator_id.hex, stored.originator_version, stored.topic,
                          stored.state))
        conn.close()
    app = keyed()
    with pytest.raises(E.InsufficientCash):
        app.execute(disbursement("D-BIG", "2000000", "2020-04-05"), COUNTY_ACTOR)
    # The next entry takes that version: its honest snapshot cannot be stored, and need not be.
    assert not app.execute(disbursement("D4", "1000", "2020-04-05"), COUNTY_ACTOR).replayed
    code, report = verify(store_url)
    assert code == 1
    assert [f["version"] for f in report["findings"] if f.get("check") == "snapshots"] == \
        [agg.version]


@pytest.mark.parametrize("garbage", [b"\xff{not json", b'{"state":' + b"[" * 100_000],
                         ids=["not-json", "deep"])
def test_a_garbage_snapshot_row_is_ignored_and_named(
        keyed: Factory, store_url: str, attacker_url: str, garbage: bytes) -> None:
    """A row that is not even JSON (or nests too deep to decode), planted at the head version:
    the ledger replays, and verify names the county and version (exit 1)."""
    county_with_cash(keyed())
    head = keyed().county(PROGRAMME, COUNTY).version
    if is_postgres(attacker_url):
        with psycopg.connect(attacker_url, autocommit=True) as conn:
            conn.execute("INSERT INTO fundledger_snapshots VALUES (%s, %s, %s, %s)",
                         (STREAM, head, "eventsourcing.domain:Snapshot", garbage))
    else:
        with sqlite3.connect(attacker_url.removeprefix("sqlite:///")) as conn:
            conn.execute("INSERT INTO stored_snapshots VALUES (?, ?, ?, ?)",
                         (STREAM.hex, head, "eventsourcing.domain:Snapshot", garbage))
        conn.close()
    app = keyed()
    assert app.county(PROGRAMME, COUNTY).cash_fen == 940_000_00
    assert app.snapshots is not None
    assert app.snapshots.ignored == 1  # type: ignore[attr-defined]
    assert_snapshot_finding(store_url, head)


# ---- honest snapshots ------------------------------------------------------------------------


def long_county(app: FundLedger, disbursements: int) -> None:
    county_with_cash(app)
    items = [(disbursement(f"E{i}", "1", "2020-04-04"), COUNTY_ACTOR)
             for i in range(disbursements)]
    app.import_entries(items)


def test_honest_snapshots_with_the_key_are_used_and_verify(keyed: Factory,
                                                           store_url: str) -> None:
    """With the key: a county past the interval loads from its snapshot (it verifies), to
    the same state a full replay gives; verify checks it and exits 0."""
    long_county(keyed(), 600)
    app = keyed()
    loaded = app.county(PROGRAMME, COUNTY)
    assert app.snapshots is not None
    assert (app.snapshots.used, app.snapshots.ignored) == (1, 0)  # type: ignore[attr-defined]
    replayed: Any = project_aggregate(None, app.events.get(STREAM))
    assert canonical_state(Snapshot.take(loaded).state) == \
        canonical_state(Snapshot.take(replayed).state)
    code, report = verify(store_url)
    assert code == 0, report["findings"]
    assert any("1 snapshots held" in n for n in report["log"]["notes"])


def snapshot_rows(url: str) -> int:
    if is_postgres(url):
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT COUNT(*) FROM fundledger_snapshots").fetchone()
    else:
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            row = conn.execute("SELECT COUNT(*) FROM stored_snapshots").fetchone()
        conn.close()
    assert row is not None
    return int(row[0])


def test_without_the_key_snapshots_are_neither_written_nor_read(keyed: Factory,
                                                                store_url: str) -> None:
    """No key: no snapshot is written, and one written with the key is not read (the county
    is replayed); with a wrong key it does not verify and is ignored."""
    long_county(keyed(key=None), 600)
    assert snapshot_rows(store_url) == 0
    keyed().import_entries([(disbursement(f"F{i}", "1", "2020-04-04"), COUNTY_ACTOR)
                            for i in range(400)])
    assert snapshot_rows(store_url) == 1
    for key, counts in ((None, (0, 0)), (os.urandom(32), (0, 1))):
        app = keyed(key=key)
        loaded = app.county(PROGRAMME, COUNTY)
        assert app.snapshots is not None
        assert (app.snapshots.used, app.snapshots.ignored) == counts  # type: ignore[attr-defined]
        replayed: Any = project_aggregate(None, app.events.get(STREAM))
        assert loaded.version == replayed.version == 1006
        assert canonical_state(Snapshot.take(loaded).state) == \
            canonical_state(Snapshot.take(replayed).state)


def test_tampered_event_under_a_tagged_snapshot_makes_it_ignored(
        keyed: Factory, store_url: str) -> None:
    """A tagged snapshot whose head hash is not the stored event's at its version (the events
    were rewritten under it) is ignored: the stream is replayed."""
    long_county(keyed(), 600)
    version = 606
    table = "fundledger_events" if is_postgres(store_url) else "stored_events"
    if is_postgres(store_url):
        with psycopg.connect(store_url, autocommit=True) as conn:
            conn.execute("SET session_replication_role = replica")  # superuser: triggers off
            row = conn.execute(f"SELECT state FROM {table} WHERE originator_id = %s AND "
                               "originator_version = %s", (STREAM, version)).fetchone()
            assert row is not None
            doc = json.loads(bytes(row[0]))
            doc["event_hash"] = "f" * 64
            conn.execute(f"UPDATE {table} SET state = %s WHERE originator_id = %s AND "
                         "originator_version = %s", (json.dumps(doc).encode(), STREAM, version))
    else:
        with sqlite3.connect(store_url.removeprefix("sqlite:///")) as conn:
            row = conn.execute(f"SELECT state FROM {table} WHERE originator_id = ? AND "
                               "originator_version = ?", (STREAM.hex, version)).fetchone()
            doc = json.loads(row[0])
            doc["event_hash"] = "f" * 64
            conn.execute(f"UPDATE {table} SET state = ? WHERE originator_id = ? AND "
                         "originator_version = ?", (json.dumps(doc).encode(), STREAM.hex, version))
        conn.close()
    app = keyed()
    app.county(PROGRAMME, COUNTY)
    assert app.snapshots is not None
    assert (app.snapshots.used, app.snapshots.ignored) == (0, 1)  # type: ignore[attr-defined]


# ---- the key file --------------------------------------------------------------------------


def test_snapshot_key_file_is_made_whole_private_and_never_overwritten(tmp_path: Any) -> None:
    """`keys snapshot-init`: 32 bytes, mode 0600, no temporary file left; a second run on the
    same name exits 2 and leaves the first key as it was."""
    out = tmp_path / "snapshot.key"
    runner = CliRunner()
    made = runner.invoke(cli, ["keys", "snapshot-init", "--out", str(out)])
    assert made.exit_code == 0, made.output
    key = out.read_bytes()
    assert len(key) == 32 and (out.stat().st_mode & 0o777) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snapshot.key"]
    again = runner.invoke(cli, ["keys", "snapshot-init", "--out", str(out)])
    assert again.exit_code == 2 and "exists already" in again.output and "已存在" in again.output
    assert out.read_bytes() == key


@pytest.mark.parametrize(("mode", "size", "expected"), [
    (0o644, 32, "accessible by group or others"), (0o600, 31, "32 bytes")])
def test_a_bad_snapshot_key_file_is_refused(tmp_path: Any, mode: int, size: int,
                                            expected: str) -> None:
    """A key file that others can read, or of the wrong size: exit 2, in both languages, and
    nothing is opened."""
    out = tmp_path / "snapshot.key"
    out.write_bytes(os.urandom(size))
    out.chmod(mode)
    result = CliRunner(env={"LEDGER_SNAPSHOT_KEY_FILE": str(out)}).invoke(
        cli, ["--db", f"sqlite:///{tmp_path / 'l.db'}", "demo"])
    assert result.exit_code == 2 and expected in result.output
    assert "快照密钥" in result.output
    assert not (tmp_path / "l.db").exists()


def test_the_cli_uses_the_key_file(tmp_path: Any, store_url: str) -> None:
    """With LEDGER_SNAPSHOT_KEY_FILE, the commands' ledger writes tagged snapshots."""
    out = tmp_path / "snapshot.key"
    runner = CliRunner(env={"LEDGER_SNAPSHOT_KEY_FILE": str(out)})
    assert runner.invoke(cli, ["keys", "snapshot-init", "--out", str(out)]).exit_code == 0
    assert runner.invoke(cli, ["--db", store_url, "demo"]).exit_code == 0
    assert snapshot_rows(store_url) > 0
    code, report = verify(store_url)
    assert code == 0, report["findings"]


def old_layout(state: dict[str, Any]) -> None:
    """The state as the code before the state's `class_version` 2 wrote it: one-letter entry
    keys, one entry id per month's report, no class_version."""
    state.pop("class_version", None)
    state["entries"] = {entry_id: {"k": e["kind"], "a": e["amount_fen"], "r": e["reversed_fen"],
                                   "p": e["ref"], "v": e["version"], "f": e["fingerprint"],
                                   "d": e["business_date"]}
                        for entry_id, e in state["entries"].items()}
    state["reports"] = {month: ids[0] for month, ids in state["reports"].items()}
    state["acceptance"] = {}


def test_a_snapshot_of_an_older_state_layout_is_ignored_and_the_county_replayed(
        keyed: Factory, store_url: str) -> None:
    """A snapshot the ledger itself wrote (its tag verifies) before the state's layout changed
    is never read: a new process ignores it, replays the county, and judges on that state."""
    county_with_cash(keyed())
    writer = keyed()
    key = writer._snapshot_key
    assert key is not None
    version = plant(writer, store_url, old_layout, key=key)
    fresh = keyed()
    loaded = fresh.county(PROGRAMME, COUNTY)
    snapshots: Any = fresh.snapshots
    assert (snapshots.ignored, snapshots.used) == (1, 0)
    replayed: Any = project_aggregate(None, fresh.events.get(STREAM))
    assert loaded.version == replayed.version == version
    assert loaded.entries == replayed.entries and loaded.cash_fen == 940_000_00
    before = event_count(fresh)
    with pytest.raises(E.InsufficientCash):
        fresh.execute(disbursement("D-BIG", "940000.01", "2020-04-05"), COUNTY_ACTOR)
    assert fresh.execute(disbursement("D4", "940000", "2020-04-05"), COUNTY_ACTOR).version == \
        version + 1
    assert event_count(fresh) == before + 1
    code, report = verify(store_url)  # never used, so not a finding (a note of verify's)
    assert code == 0 and report["intact"], report["findings"]
