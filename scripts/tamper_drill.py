"""Tamper drill: every attack of the brief's table, on SQLite and on PostgreSQL, must be caught.

For each store it builds a ledger (the GD-2020 demo, or --small), seals it, signs a checkpoint,
has a witness cosign it and keeps that checkpoint outside the database (as an auditor would).
Then, for each attack, on a fresh copy of that store, it tampers with the database directly
(as someone with write access: on SQLite the file, on PostgreSQL a superuser who switches the
append-only triggers off), runs `fundledger verify --key --since --witness` and the offline
verifier on a bundle exported from the tampered store, and prints: attack, store, what caught
it, exit codes. Then it tampers with bundles exported from the untouched store (as whoever
carries a bundle to the auditor could), which only the offline verifier sees.

    python scripts/tamper_drill.py [--small] [--stores sqlite,postgres] [--markdown]

Exit 0 when every attack was detected by both verifiers, 1 otherwise.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import hmac
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from api.config import Settings
from api.wiring import Wiring
from audit import witness
from audit.chains import decode_row
from audit.keyfile import create_key_file, log_vkey
from audit.merkle import MemoryTree, leaf_hash
from audit.sealer import seal
from audit.signing import sign_latest
from audit.statements import StatementBuilder
from ledger.chain import event_hash
from ledger.stores import is_postgres

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
ORIGIN = "drill.example/fundledger"
LOG_TABLES = ("fundledger_log_leaves", "fundledger_log_nodes", "fundledger_log_checkpoints",
              "fundledger_log_cosignatures", "fundledger_log_keys")


@dataclass
class Target:
    """A tampered copy of a store, and what the operator holds (the log key)."""

    url: str
    key_name: str
    key: Any
    workdir: Path

    @property
    def pg(self) -> bool:
        return is_postgres(self.url)

    @property
    def events(self) -> str:
        return "fundledger_events" if self.pg else "stored_events"

    @property
    def nid(self) -> str:
        return "notification_id" if self.pg else "rowid"


@contextmanager
def raw(t: Target) -> Iterator[Any]:
    """A connection with the triggers off: the attacker's."""
    if t.pg:
        with psycopg.connect(t.url, autocommit=True) as conn:
            conn.execute("SET session_replication_role = replica")
            yield conn
        return
    conn = sqlite3.connect(t.url.removeprefix("sqlite:///"))
    try:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'"):
            conn.execute(f"DROP TRIGGER {name}")
        yield conn
        conn.commit()
    finally:
        conn.close()


def sql(t: Target, statement: str, params: tuple[Any, ...] = ()) -> list[Any]:
    with raw(t) as conn:
        cur = conn.execute(statement.replace("?", "%s") if t.pg else statement, params)
        return list(cur.fetchall()) if cur.description else []


@dataclass
class Row:
    id: int
    originator_id: Any
    originator_version: int
    topic: str
    state: bytes


def rows(t: Target, where: str = "", params: tuple[Any, ...] = ()) -> list[Row]:
    found = sql(t, f"SELECT {t.nid}, originator_id, originator_version, topic, state FROM "
                   f"{t.events} {where} ORDER BY {t.nid}", params)
    return [Row(int(r[0]), r[1], int(r[2]), str(r[3]), bytes(r[4])) for r in found]


def stream_of(t: Target, row: Row) -> list[Row]:
    return rows(t, "WHERE originator_id = ?", (row.originator_id,))


def set_state(t: Target, nid: int, state: bytes) -> None:
    sql(t, f"UPDATE {t.events} SET state = ? WHERE {t.nid} = ?", (state, nid))


def rehash(row: Row, state: dict[str, Any], prev: str) -> dict[str, Any]:
    """The state with `prev_hash` set and its own hash recomputed: a self-consistent event."""
    state = {**state, "prev_hash": prev}
    fake = Row(row.id, row.originator_id, row.originator_version, row.topic,
               json.dumps(state, ensure_ascii=False).encode())
    etype, ts, prev_hash, _, data = decode_row(fake)
    state["event_hash"] = event_hash(str(UUID(str(row.originator_id))),
                                     row.originator_version, etype, ts, prev_hash, data)
    return state


def rewrite_stream(t: Target, stream: list[Row], at: int, change: dict[str, Any]) -> None:
    """Change fields of the event at index `at` and re-chain every later event of its stream."""
    prev = json.loads(stream[at - 1].state)["event_hash"] if at else "0" * 64
    for i, row in enumerate(stream[at:]):
        state = json.loads(row.state)
        if i == 0:
            state.update(change)
        state = rehash(row, state, prev)
        prev = state["event_hash"]
        set_state(t, row.id, json.dumps(state, ensure_ascii=False).encode())


def money_row(t: Target, newest: bool = False) -> Row:
    """A disbursement in the middle of the log (or the newest event of a county stream)."""
    all_rows = rows(t)
    candidates = [r for r in all_rows if r.topic.endswith("DisbursementRecorded")]
    row = candidates[len(candidates) // 2]
    return stream_of(t, row)[-1] if newest else row


def drop_log(t: Target) -> None:
    with raw(t) as conn:
        conn.execute("DELETE FROM fundledger_log_nodes")
        conn.execute("DELETE FROM fundledger_log_leaves")


def reseal(t: Target) -> None:
    """Rebuild leaves and nodes from the (tampered) events with the log's own sealer."""
    drop_log(t)
    with Wiring(Settings(t.url)).log() as db:
        seal(db)


# ---- the attacks -------------------------------------------------------------------------------


def change_amount(t: Target) -> None:
    row = money_row(t)
    state = json.loads(row.state)
    state["amount_fen"] += 100_00
    set_state(t, row.id, json.dumps(state, ensure_ascii=False).encode())


def change_payee_rehashed(t: Target) -> None:
    row = money_row(t)
    state = rehash(row, {**json.loads(row.state), "payee": "另一家公司"},
                   json.loads(row.state)["prev_hash"])
    set_state(t, row.id, json.dumps(state, ensure_ascii=False).encode())


def change_date_of_newest(t: Target) -> None:
    row = money_row(t, newest=True)
    state = rehash(row, {**json.loads(row.state), "business_date": "2020-01-02"},
                   json.loads(row.state)["prev_hash"])
    set_state(t, row.id, json.dumps(state, ensure_ascii=False).encode())


def delete_middle(t: Target) -> None:
    sql(t, f"DELETE FROM {t.events} WHERE {t.nid} = ?", (money_row(t).id,))


def insert_middle(t: Target) -> None:
    """A forged, chain-consistent event appended to the stream that ended earliest, slipped into
    the middle of the global order (the later events' notification ids shifted up by one)."""
    everything = rows(t)
    newest: dict[Any, Row] = {}
    for r in everything:
        newest[r.originator_id] = r
    row = min(newest.values(), key=lambda r: r.id)
    state = json.loads(row.state)
    state["document_no"] = "FORGED"  # fields present on the events of both kinds of stream
    forged = Row(row.id + 1, row.originator_id, row.originator_version + 1, row.topic, b"")
    state = rehash(forged, state, state["event_hash"])
    with raw(t) as conn:
        mark = "%s" if t.pg else "?"
        conn.execute(f"UPDATE {t.events} SET {t.nid} = {t.nid} + 1000000000 "
                     f"WHERE {t.nid} > {row.id}")
        conn.execute(f"UPDATE {t.events} SET {t.nid} = {t.nid} - 999999999 "
                     f"WHERE {t.nid} > 1000000000")
        conn.execute(f"INSERT INTO {t.events} ({t.nid}, originator_id, originator_version, "
                     f"topic, state) VALUES ({mark}, {mark}, {mark}, {mark}, {mark})",
                     (row.id + 1, row.originator_id, forged.originator_version, row.topic,
                      json.dumps(state, ensure_ascii=False).encode()))


def reorder_middle(t: Target) -> None:
    """Two neighbouring events of different streams change places in the global order."""
    everything = rows(t)
    pairs = [(x, y) for x, y in itertools.pairwise(everything)
             if x.originator_id != y.originator_id]
    a, b = pairs[len(pairs) // 2]
    with raw(t) as conn:
        conn.execute(f"UPDATE {t.events} SET {t.nid} = -1 WHERE {t.nid} = {a.id}")
        conn.execute(f"UPDATE {t.events} SET {t.nid} = {a.id} WHERE {t.nid} = {b.id}")
        conn.execute(f"UPDATE {t.events} SET {t.nid} = {b.id} WHERE {t.nid} = -1")


def swap_payloads(t: Target) -> None:
    """Two events of the same type exchange their stored payloads (other streams if any)."""
    a = money_row(t)
    same = [r for r in rows(t) if r.topic == a.topic and r.id != a.id]
    b = next((r for r in same if r.originator_id != a.originator_id), same[0])
    set_state(t, a.id, b.state)
    set_state(t, b.id, a.state)


def delete_newest(t: Target) -> None:
    """The newest events go, with their leaves and nodes: the log looks whole, only shorter."""
    newest = rows(t)[-5:]
    with raw(t) as conn:
        mark = "%s" if t.pg else "?"
        for r in newest:
            conn.execute(f"DELETE FROM {t.events} WHERE {t.nid} = {mark}", (r.id,))
    reseal(t)


def rewrite_history(t: Target) -> None:
    """An amount changed and every later hash of its stream recomputed; leaves and nodes rebuilt.
    Without the log key, the stored checkpoints stay as they were."""
    row = money_row(t)
    stream = stream_of(t, row)
    at = next(i for i, r in enumerate(stream) if r.id == row.id)
    rewrite_stream(t, stream, at, {"amount_fen": json.loads(row.state)["amount_fen"] + 1})
    reseal(t)


def forked_by_operator(t: Target) -> None:
    """The operator rewrites history, drops the old checkpoints and signs the fork with the
    log's own key: the store is self-consistent; only a checkpoint held outside shows it."""
    rewrite_history(t)
    with raw(t) as conn:
        conn.execute("DELETE FROM fundledger_log_cosignatures")
        conn.execute("DELETE FROM fundledger_log_checkpoints")
    with Wiring(Settings(t.url)).log() as db:
        sign_latest(db, t.key_name, t.key)


def delete_cosignatures(t: Target) -> None:
    """Every witness's cosignature removed: the checkpoints still verify with the log's key."""
    sql(t, "DELETE FROM fundledger_log_cosignatures")


def _append_forged(t: Target, change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    """A forged disbursement appended to a county stream with a correct `prev_hash` and hash;
    the operator seals and signs it, and the witness cosigns (it checks consistency, not the
    programme's rules): only the verifiers' rule audit is left to catch it."""
    template = money_row(t)
    head = stream_of(t, template)[-1]
    state = change(dict(json.loads(template.state)))
    forged = Row(0, head.originator_id, head.originator_version + 1, template.topic, b"")
    state = rehash(forged, state, json.loads(head.state)["event_hash"])
    top = int(sql(t, f"SELECT MAX({t.nid}) FROM {t.events}")[0][0])
    mark = "%s" if t.pg else "?"
    with raw(t) as conn:
        conn.execute(f"INSERT INTO {t.events} ({t.nid}, originator_id, originator_version, "
                     f"topic, state) VALUES ({mark}, {mark}, {mark}, {mark}, {mark})",
                     (top + 1, head.originator_id, forged.originator_version, template.topic,
                      json.dumps(state, ensure_ascii=False).encode()))
    with Wiring(Settings(t.url)).log() as db:
        seal(db)
        sign_latest(db, t.key_name, t.key)
        if (t.workdir / "witness").exists():  # where one was set up (the drill, the log test)
            witness_dir = t.workdir / f"witness-{time.time_ns()}"  # its state moves on
            shutil.copytree(t.workdir / "witness", witness_dir)
            witness.cosign_latest(db, witness_dir)


def forge_overdraft(t: Target) -> None:
    """A disbursement of 50,000,000 yuan, more than the county's whole allocation."""
    _append_forged(t, lambda s: {**s, "entry_id": "FORGED-D1", "amount_fen": 50_000_000_00})


def forge_duplicate_entry(t: Target) -> None:
    """A second event under an entry id the county already used (1 fen: no balance breaks)."""
    _append_forged(t, lambda s: {**s, "amount_fen": 1})


def plant_snapshot(t: Target) -> str:
    """What the least-privilege role can do (it may INSERT): a snapshot of a county's true
    state plus 10,000,000 yuan of cash and of a project's budget, planted at the county's head
    and tagged with a key of the attacker's; then the application, holding its own snapshot
    key, is asked for an overdraft against it. Returns what the application said."""
    from eventsourcing.application import project_aggregate
    from eventsourcing.domain import Snapshot

    from api.snapshotkey import create_snapshot_key
    from ledger.actors import Actor
    from ledger.errors import LedgerError
    from ledger.snapshots import canonical_state

    template = money_row(t)  # a disbursement: its county, project and date
    template_state = json.loads(template.state)
    key_file = t.workdir / f"snapshot-{time.time_ns()}.key"  # the application's own key
    create_snapshot_key(key_file)
    app = Wiring(Settings(t.url, snapshot_key_file=str(key_file)),
                 clock=lambda: dt.date(2022, 6, 30)).ledger()
    try:
        agg: Any = project_aggregate(None, app.events.get(UUID(str(template.originator_id))))
        snap = Snapshot.take(agg)
        extra = 10_000_000_00
        snap.state["appropriated_fen"] += extra
        first = min(snap.state["cash_days"])
        snap.state["cash_days"][first] += extra
        snap.state["projects"][template_state["project_code"]]["budget_fen"] += extra
        object.__setattr__(snap, "mac", hmac.new(os.urandom(32), canonical_state(snap.state),
                                                 hashlib.sha256).hexdigest())
        stored = app.mapper.to_stored_event(snap)
        table = "fundledger_snapshots" if t.pg else "stored_snapshots"
        originator = stored.originator_id if t.pg else UUID(str(stored.originator_id)).hex
        mark = "%s" if t.pg else "?"
        with raw(t) as conn:
            conn.execute(f"INSERT INTO {table} (originator_id, originator_version, topic, state) "
                         f"VALUES ({mark}, {mark}, {mark}, {mark})",
                         (originator, stored.originator_version, stored.topic, stored.state))
        county = Actor("drill-officer", "county", agg.county_code)
        # On the county's newest business date: an open year (an entry in a closed year would
        # be refused for its date alone, whatever the snapshot said).
        day = max(entry["business_date"] for entry in agg.entries.values())
        try:
            app.execute({"programme": agg.programme, "county_code": agg.county_code,
                         "kind": "disbursement", "entry_id": "PLANTED-D1",
                         "project_code": template_state["project_code"],
                         "amount_fen": agg.cash_fen + 1, "payee": "某公司",
                         "voucher_no": "PLANTED", "business_date": day}, county)
        except LedgerError as e:
            return f"overdraft refused at write ({e.code})"
        return "overdraft ACCEPTED"
    finally:
        app.close()


def truncate_leaves(t: Target) -> None:
    with raw(t) as conn:
        conn.execute("DELETE FROM fundledger_log_leaves")


def resign_other_key(t: Target) -> None:
    """History rewritten and signed with a key of the attacker's, recorded as the log's key."""
    rewrite_history(t)
    with raw(t) as conn:
        for table in ("fundledger_log_cosignatures", "fundledger_log_checkpoints",
                      "fundledger_log_keys"):
            conn.execute(f"DELETE FROM {table}")
    other = create_key_file(t.workdir / f"attacker-{time.time_ns()}.key", t.key_name)
    with Wiring(Settings(t.url)).log() as db:
        sign_latest(db, t.key_name, other)


def replace_checkpoint(t: Target) -> None:
    """The latest checkpoint's root replaced (its signature line kept)."""
    seq, note = sql(t, "SELECT seq, note FROM fundledger_log_checkpoints ORDER BY seq DESC "
                       "LIMIT 1")[0]
    lines = str(note).split("\n")
    lines[2] = "A" * 43 + "="
    sql(t, "UPDATE fundledger_log_checkpoints SET note = ?, root = ? WHERE seq = ?",
        ("\n".join(lines), bytes(32), seq))


# An attack returns None, or, where it ends in a write asked of the application, what the
# application answered: a refused write leaves nothing in the events for a bundle to show.
ATTACKS: list[tuple[str, Callable[[Target], str | None]]] = [
    ("change an amount", change_amount),
    ("change a payee (own hash recomputed)", change_payee_rehashed),
    ("change a date of a stream's newest event (rehashed)", change_date_of_newest),
    ("delete an event in the middle", delete_middle),
    ("insert an event in the middle", insert_middle),
    ("reorder events in the middle", reorder_middle),
    ("swap stored payloads between rows", swap_payloads),
    ("delete the newest events (and their leaves)", delete_newest),
    ("rewrite history with fresh self-consistent hashes", rewrite_history),
    ("the operator signs a forked history", forked_by_operator),
    ("truncate the leaves table", truncate_leaves),
    ("re-sign with another key", resign_other_key),
    ("replace a checkpoint", replace_checkpoint),
    ("delete the witnesses' cosignatures", delete_cosignatures),
    ("append a forged overdraft (hash right; sealed, signed, cosigned)", forge_overdraft),
    ("append a duplicate entry id (hash right; sealed, signed, cosigned)",
     forge_duplicate_entry),
    ("plant a snapshot with extra cash, then ask for an overdraft", plant_snapshot),
]


# ---- attacks on a bundle (exported from the untouched store) ------------------------------------


def rewrite_manifest(bundle: Path, **fields: Any) -> None:
    """What a forger does last: the manifest's fields set, every file's SHA-256 made true."""
    manifest = json.loads((bundle / "manifest.json").read_text("utf-8"))
    for key, value in fields.items():
        if key == "scope":
            manifest["scope"].update(value)
        else:
            manifest[key] = value
    for name in manifest["files"]:
        data = (bundle / name).read_bytes()
        manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    (bundle / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")


def cut_bundle_short(bundle: Path, **extra: Any) -> None:
    """The newest events dropped from a full bundle, the statements recomputed for the rest, a
    consistency proof from the shorter prefix to the checkpoint computed from the leaves, and
    the manifest rewritten to match: every file agrees with every other."""
    events = (bundle / "events.jsonl").read_bytes().splitlines(keepends=True)
    leaves = (bundle / "leaves.jsonl").read_bytes().splitlines(keepends=True)
    k = len(events) - 5
    tree = MemoryTree(leaf_hash(bytes.fromhex(json.loads(x)["event_hash"])) for x in leaves)
    (bundle / "events.jsonl").write_bytes(b"".join(events[:k]))
    (bundle / "leaves.jsonl").write_bytes(b"".join(leaves[:k]))
    builder = StatementBuilder()
    for line in events[:k]:
        builder.add(json.loads(line))
    for line in events[:k]:
        if builder.needs_second_pass and builder.wants(line):
            builder.resolve(json.loads(line))
    (bundle / "statements.json").write_text(json.dumps(builder.result(), ensure_ascii=False),
                                            "utf-8")
    proof = [base64.b64encode(h).decode() for h in tree.consistency_proof(k, len(leaves))]
    streams = len({json.loads(x)["stream_id"] for x in leaves[:k]})
    rewrite_manifest(bundle, prefix_size=k, prefix_consistency_proof=proof, events=k,
                     streams=streams, **extra)


def cut_bundle_short_until(bundle: Path) -> None:
    cut_bundle_short(bundle, scope={"until": "2999-12-31"})


def change_readme(bundle: Path) -> None:
    readme = bundle / "README.txt"
    readme.write_text(readme.read_text("utf-8").replace("--key", "--no-key"), "utf-8")


def relabel_county(bundle: Path) -> None:
    """A county's bundle (exported with --county) said to be another county's."""
    rewrite_manifest(bundle, scope={"county": "441481"})


# name, attack, `fundledger export` arguments
BUNDLE_ATTACKS: list[tuple[str, Callable[[Path], None], list[str]]] = [
    ("cut a full bundle short (manifest rewritten)", cut_bundle_short, []),
    ("the same, relabelled as `until` a date", cut_bundle_short_until, []),
    ("change README.txt", change_readme, []),
    ("relabel a county bundle to another county", relabel_county, ["--county", "441423"]),
]


# ---- running it ----------------------------------------------------------------------------------


def cli(*args: str, env_db: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", "--db", env_db, *args],
                          capture_output=True, text=True, check=False, timeout=600)


def offline(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "audit.offline", *args], capture_output=True,
                          text=True, check=False, timeout=600)


@dataclass
class Pristine:
    url: str
    key_name: str
    key: Any
    vkey: str
    held: Path
    workdir: Path
    wvkey: str  # the witness's verifier key: both verifiers require its cosignature


def _small_ledger(url: str) -> None:
    """One county: an appropriation, a project, 12 disbursements, a reversal."""

    from ledger.actors import Actor
    from ledger.rules import packaged_rules

    province, county = Actor("p1", "province", "440000"), Actor("c1", "county", "441423")
    app = Wiring(Settings(url), clock=lambda: dt.date(2022, 6, 30)).ledger()
    base = {"programme": "gd-2020-ecrural", "county_code": "441423"}
    app.open_programme(packaged_rules("gd-2020-ecrural"), 100_000_000_00, province,
                       dt.date(2020, 3, 1))
    app.admit_county("gd-2020-ecrural", "441423", "丰顺县", 10_000_000_00, "doc", province,
                     dt.date(2020, 3, 2))
    items = [({**base, "kind": "appropriation", "entry_id": "A1", "batch": 1,
               "amount": "4000000", "document_no": "X1", "business_date": "2020-04-01"},
              province),
             ({**base, "kind": "project", "project_code": "P1", "name": "服务中心",
               "category": "public_services", "budget": "3000000",
               "responsible_person": "张三", "implementing_unit": "县商务局",
               "start_date": "2020-04-01", "end_date": "2021-06-30",
               "business_date": "2020-04-02"}, county)]
    items += [({**base, "kind": "disbursement", "entry_id": f"D{i}", "project_code": "P1",
                "amount": f"{1000 * i}.25", "payee": "某公司", "voucher_no": f"V{i}",
                "business_date": "2020-05-03"}, county) for i in range(1, 13)]
    items.append(({**base, "kind": "reversal", "entry_id": "R1", "target_entry_id": "D2",
                   "amount": "100", "reason": "录入错误", "business_date": "2020-06-01"},
                  county))
    app.import_entries(items)
    app.close()


def build(url: str, workdir: Path, small: bool) -> Pristine:
    """The ledger, sealed, signed, cosigned; the checkpoint kept outside the database."""
    if small:
        _small_ledger(url)
    else:
        done = cli("--json", "demo", env_db=url)
        if done.returncode != 0:
            raise SystemExit(f"demo failed: {done.stderr}")
    key_path = workdir / "log.key"
    key = create_key_file(key_path, ORIGIN)
    with Wiring(Settings(url)).log() as db:
        seal(db)
        sign_latest(db, ORIGIN, key)
    vkey = log_vkey(ORIGIN, key)
    outputs = []
    for step in (["witness", "init", "--dir", str(workdir / "witness"), "--name",
                  "city.example/meizhou", "--log-key", vkey],
                 ["witness", "cosign", "--dir", str(workdir / "witness")]):
        done = cli(*step, env_db=url)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(step)} failed")
        outputs.append(done.stdout.strip())
    held = workdir / "held-checkpoint.txt"
    held.write_text(cli("checkpoint", env_db=url).stdout, "utf-8")
    return Pristine(url, ORIGIN, key, vkey, held, workdir, outputs[0])


@contextmanager
def copy_of(p: Pristine, n: int) -> Iterator[str]:
    """A fresh copy of the pristine store, dropped afterwards."""
    if is_postgres(p.url):
        name = f"{p.url.rsplit('/', 1)[1]}_t{n}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{p.url.rsplit("/", 1)[1]}"')
        try:
            yield p.url.rsplit("/", 1)[0] + "/" + name
        finally:
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    source = sqlite3.connect(p.url.removeprefix("sqlite:///"))
    path = p.workdir / f"copy{n}.db"
    path.unlink(missing_ok=True)
    target = sqlite3.connect(path)
    source.backup(target)
    source.close()
    target.close()
    try:
        yield f"sqlite:///{path}"
    finally:
        path.unlink(missing_ok=True)


def detected_by(doc: dict[str, Any]) -> str:
    """The checks that reported findings (the findings list itself is capped)."""
    kinds = set(doc["log"]["checks_failed"])
    if any(f.get("kind") == "chain" for f in doc["findings"]):
        kinds.add("chains")
    return ", ".join(sorted(kinds))


def run_attack(p: Pristine, n: int, name: str,
               attack: Callable[[Target], str | None]) -> dict[str, Any]:
    with copy_of(p, n) as url:
        answered = attack(Target(url, p.key_name, p.key, p.workdir))
        verified = cli("--json", "verify", "--key", p.vkey, "--since", str(p.held), "--witness",
                       p.wvkey, env_db=url)
        doc = json.loads(verified.stdout)
        bundle = p.workdir / f"bundle{n}"
        shutil.rmtree(bundle, ignore_errors=True)
        exported = cli("export", "--out", str(bundle), env_db=url)
        if answered is not None and "refused" in answered:
            # Nothing reached the events: the bundle carries no snapshot and no refused write.
            offline_by, offline_code = answered, None
        elif exported.returncode == 0:
            off = offline(str(bundle), "--key", p.vkey, "--since", str(p.held), "--witness",
                          p.wvkey, "--json")
            odoc = json.loads(off.stdout)
            offline_by = ", ".join(odoc["checks_failed"])
            offline_code = off.returncode
        else:
            offline_by, offline_code = f"export refused: {exported.stderr.strip()[:60]}", None
        shutil.rmtree(bundle, ignore_errors=True)
    return {"attack": name, "store": "PostgreSQL" if is_postgres(url) else "SQLite",
            "verify_by": detected_by(doc), "verify_exit": verified.returncode,
            "offline_by": offline_by, "offline_exit": offline_code}


def run_bundle_attack(p: Pristine, n: int, name: str, attack: Callable[[Path], None],
                      export_args: list[str]) -> dict[str, Any]:
    """A bundle of the untouched store, tampered with: the store itself verifies."""
    bundle = p.workdir / f"bundle-b{n}"
    shutil.rmtree(bundle, ignore_errors=True)
    if cli("export", "--out", str(bundle), *export_args, env_db=p.url).returncode != 0:
        raise SystemExit(f"export {' '.join(export_args)} failed")
    attack(bundle)
    off = offline(str(bundle), "--key", p.vkey, "--since", str(p.held), "--witness", p.wvkey,
                  "--json")
    shutil.rmtree(bundle, ignore_errors=True)
    return {"attack": name, "store": "PostgreSQL" if is_postgres(p.url) else "SQLite",
            "verify_by": "(the store is untouched)", "verify_exit": None,
            "offline_by": ", ".join(json.loads(off.stdout)["checks_failed"]),
            "offline_exit": off.returncode}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="a small ledger, not the demo")
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    parser.add_argument("--only", default="", help="only the attacks whose name contains this")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="fundledger-drill-") as tmp:
        for store in args.stores.split(","):
            workdir = Path(tmp) / store
            workdir.mkdir()
            url = f"sqlite:///{workdir / 'pristine.db'}"
            if store == "postgres":
                name = f"fundledger_drill_{int(time.time())}"
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'CREATE DATABASE "{name}"')
                url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
            try:
                pristine = build(url, workdir, args.small)
                clean = cli("verify", "--key", pristine.vkey, "--since", str(pristine.held),
                            "--witness", pristine.wvkey, env_db=url)
                if clean.returncode != 0:
                    raise SystemExit(f"the untouched {store} store does not verify")
                for n, (attack_name, attack) in enumerate(ATTACKS):
                    if args.only not in attack_name:
                        continue
                    results.append(run_attack(pristine, n, attack_name, attack))
                    print(_row(results[-1], args.markdown), flush=True)
                for n, (attack_name, bundle_attack, export_args) in enumerate(BUNDLE_ATTACKS):
                    if args.only not in attack_name:
                        continue
                    results.append(run_bundle_attack(pristine, n, attack_name, bundle_attack,
                                                     export_args))
                    print(_row(results[-1], args.markdown), flush=True)
            finally:
                if store == "postgres":
                    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    missed = [r for r in results if r["verify_exit"] not in (1, None)
              or (r["offline_exit"] != 1 and "refused at write" not in r["offline_by"])]
    print(f"\n{len(results) - len(missed)} of {len(results)} attacks detected: those on the store "
          "by both `fundledger verify` and `fundledger-verify`, those on a bundle by "
          "`fundledger-verify`")
    sys.exit(1 if missed else 0)


def _row(r: dict[str, Any], markdown: bool) -> str:
    verify_exit = "—" if r["verify_exit"] is None else str(r["verify_exit"])
    offline_exit = "—" if r["offline_exit"] is None else str(r["offline_exit"])
    cells = [r["attack"], r["store"], r["verify_by"], verify_exit, r["offline_by"], offline_exit]
    if markdown:
        return "| " + " | ".join(cells) + " |"
    return "  ".join(f"{c:<{w}}" for c, w in zip(cells, (52, 10, 36, 3, 36, 3), strict=True))


if __name__ == "__main__":
    main()
