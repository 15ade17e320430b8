"""Tamper drill: every attack of the brief's table, on SQLite and on PostgreSQL, must be caught.

For each store it builds a ledger (the GD-2020 demo, or --small), seals it, signs a checkpoint,
has a witness cosign it and keeps that checkpoint outside the database (as an auditor would).
Then, for each attack, on a fresh copy of that store, it tampers with the database directly
(as someone with write access: on SQLite the file, on PostgreSQL a superuser who switches the
append-only triggers off), runs `fundledger verify --key --since` and the offline verifier on
a bundle exported from the tampered store, and prints: attack, store, what caught it, exit codes.

    python scripts/tamper_drill.py [--small] [--stores sqlite,postgres] [--markdown]

Exit 0 when every attack was detected by both verifiers, 1 otherwise.
"""

from __future__ import annotations

import argparse
import itertools
import json
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

from audit.chains import decode_row
from audit.db import LogDB
from audit.keyfile import create_key_file, log_vkey
from audit.sealer import seal
from audit.signing import sign_latest
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
    with LogDB(t.url) as db:
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
    with LogDB(t.url) as db:
        sign_latest(db, t.key_name, t.key)


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
    with LogDB(t.url) as db:
        sign_latest(db, t.key_name, other)


def replace_checkpoint(t: Target) -> None:
    """The latest checkpoint's root replaced (its signature line kept)."""
    seq, note = sql(t, "SELECT seq, note FROM fundledger_log_checkpoints ORDER BY seq DESC "
                       "LIMIT 1")[0]
    lines = str(note).split("\n")
    lines[2] = "A" * 43 + "="
    sql(t, "UPDATE fundledger_log_checkpoints SET note = ?, root = ? WHERE seq = ?",
        ("\n".join(lines), bytes(32), seq))


def forge_rule_breaking_event(t: Target) -> None:
    """A disbursement of 900 million yuan, far beyond the county's cash, appended to a county
    stream with a correct `prev_hash` and hash, then sealed and signed by the operator's own
    sealer: chain, log and checkpoints agree; only the rule audit sees it (issue 7, hole 3)."""
    row = money_row(t)
    head = stream_of(t, row)[-1]
    state = {**json.loads(row.state), "entry_id": "FORGED-D1", "amount_fen": 900_000_000_00}
    forged = Row(0, head.originator_id, head.originator_version + 1, row.topic, b"")
    state = rehash(forged, state, json.loads(head.state)["event_hash"])
    sql(t, f"INSERT INTO {t.events} (originator_id, originator_version, topic, state) "
           "VALUES (?, ?, ?, ?)", (head.originator_id, forged.originator_version, row.topic,
                                   json.dumps(state, ensure_ascii=False).encode()))
    with LogDB(t.url) as db:
        seal(db)
        sign_latest(db, t.key_name, t.key)


ATTACKS: list[tuple[str, Callable[[Target], None]]] = [
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
    ("append an event with a correct hash but impossible content, sealed",
     forge_rule_breaking_event),
]


# ---- running it ----------------------------------------------------------------------------------


def cli(*args: str, env_db: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli_main", "--db", env_db, *args],
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


def _small_ledger(url: str) -> None:
    """One county: an appropriation, a project, 12 disbursements, a reversal."""
    import datetime as dt

    from ledger.actors import Actor
    from ledger.application import FundLedger
    from ledger.rules import packaged_rules
    from ledger.stores import store_env

    province, county = Actor("p1", "province", "440000"), Actor("c1", "county", "441423")
    app = FundLedger(store_env(url), clock=lambda: dt.date(2022, 6, 30))
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
    with LogDB(url) as db:
        seal(db)
        sign_latest(db, ORIGIN, key)
    vkey = log_vkey(ORIGIN, key)
    for step in (["witness", "init", "--dir", str(workdir / "city"), "--name",
                  "city.example/meizhou", "--log-key", vkey],
                 ["witness", "cosign", "--dir", str(workdir / "city")]):
        if cli(*step, env_db=url).returncode != 0:
            raise SystemExit(f"{' '.join(step)} failed")
    held = workdir / "held-checkpoint.txt"
    held.write_text(cli("checkpoint", env_db=url).stdout, "utf-8")
    return Pristine(url, ORIGIN, key, vkey, held, workdir)


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


def run_attack(p: Pristine, n: int, name: str, attack: Callable[[Target], None]) -> dict[str, Any]:
    with copy_of(p, n) as url:
        attack(Target(url, p.key_name, p.key, p.workdir))
        verified = cli("--json", "verify", "--key", p.vkey, "--since", str(p.held), env_db=url)
        doc = json.loads(verified.stdout)
        bundle = p.workdir / f"bundle{n}"
        shutil.rmtree(bundle, ignore_errors=True)
        exported = cli("export", "--out", str(bundle), env_db=url)
        if exported.returncode == 0:
            off = offline(str(bundle), "--key", p.vkey, "--since", str(p.held), "--json")
            odoc = json.loads(off.stdout)
            offline_by = ", ".join(odoc["checks_failed"])
            offline_code = off.returncode
        else:
            offline_by, offline_code = f"export refused: {exported.stderr.strip()[:60]}", None
        shutil.rmtree(bundle, ignore_errors=True)
    return {"attack": name, "store": "PostgreSQL" if is_postgres(url) else "SQLite",
            "verify_by": detected_by(doc), "verify_exit": verified.returncode,
            "offline_by": offline_by, "offline_exit": offline_code}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--small", action="store_true", help="a small ledger, not the demo")
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
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
                            env_db=url)
                if clean.returncode != 0:
                    raise SystemExit(f"the untouched {store} store does not verify")
                for n, (attack_name, attack) in enumerate(ATTACKS):
                    results.append(run_attack(pristine, n, attack_name, attack))
                    print(_row(results[-1], args.markdown), flush=True)
            finally:
                if store == "postgres":
                    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    missed = [r for r in results if r["verify_exit"] != 1 or r["offline_exit"] != 1]
    print(f"\n{len(results) - len(missed)} of {len(results)} attacks detected by both "
          "`fundledger verify` and `fundledger-verify`")
    sys.exit(1 if missed else 0)


def _row(r: dict[str, Any], markdown: bool) -> str:
    cells = [r["attack"], r["store"], r["verify_by"], str(r["verify_exit"]), r["offline_by"],
             str(r["offline_exit"])]
    if markdown:
        return "| " + " | ".join(cells) + " |"
    return "  ".join(f"{c:<{w}}" for c, w in zip(cells, (52, 10, 36, 3, 36, 3), strict=True))


if __name__ == "__main__":
    main()
