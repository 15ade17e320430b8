"""The corpus of bad inputs (tests/data/bad_inputs.jsonl) through the `fundledger` command line:
each ends with the documented exit code, a message in Chinese and English, no traceback, and
the store's event count unchanged. All of it on SQLite; the cases marked `pg` on PostgreSQL."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from api.cli import cli
from ledger.application import FundLedger
from ledger.stores import store_env
from tests.conftest import create_pg_database, drop_pg_database, event_count

DATA = Path(__file__).parent / "data"
CASES = [json.loads(line) for line in (DATA / "bad_inputs.jsonl").read_text("utf-8").splitlines()]
PG_CASES = [c for c in CASES if c.get("pg")]
ROOT = Path(__file__).parent.parent
UNREACHABLE_PG = "postgresql://postgres@127.0.0.1:1/x"
CJK_RE = re.compile("[\u4e00-\u9fff]")
ENGLISH_RE = re.compile(r"\b[A-Za-z]{2,} [A-Za-z]{2,}\b")  # two English words in a row
PROV = ["--actor-id", "p1", "--role", "province", "--scope", "440000"]
CTY = ["--actor-id", "c1", "--role", "county", "--scope", "441423"]


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("make_bad_inputs", DATA / "make_bad_inputs.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cli(db: str, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)


def build_base(db: str) -> None:
    """Programme, county 441423 (10 million), appropriation A1, project P1, disbursement D1."""
    steps = [
        ["init", "--total", "100000000", "--date", "2020-03-01", *PROV],
        ["admit", "--county", "441423", "--name", "丰顺县", "--allocation", "10000000",
         "--document-no", "粤商务建字〔2020〕1号", "--date", "2020-03-02", *PROV],
        ["record", "appropriation", "--county", "441423", "--entry-id", "A1", "--batch", "1",
         "--amount", "4000000", "--document-no", "X1", "--date", "2020-04-01", *PROV],
        ["record", "project", "--county", "441423", "--project", "P1", "--name", "公共服务中心",
         "--category", "public_services", "--budget", "3000000", "--responsible-person", "张三",
         "--implementing-unit", "县商务局", "--start-date", "2020-04-01", "--end-date",
         "2021-06-30", "--date", "2020-04-02", *CTY],
        ["record", "disbursement", "--county", "441423", "--entry-id", "D1", "--project", "P1",
         "--amount", "1000", "--payee", "某公司", "--voucher-no", "V1", "--date", "2020-04-03",
         *CTY],
    ]
    for args in steps:
        r = _cli(db, *args)
        assert r.exit_code == 0, r.output


class Store:
    """A store with the base content, and an app that counts its events."""

    def __init__(self, url: str) -> None:
        self.url = url
        build_base(url)
        self.app = FundLedger(store_env(url))

    def count(self) -> int:
        return event_count(self.app)


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: Any) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('bad') / 'ledger.db'}")
    yield store
    store.app.close()


@pytest.fixture(scope="module")
def pg_store(pg_available: bool) -> Iterator[Store]:
    if not pg_available:
        pytest.skip("PostgreSQL unreachable (developer machine; CI fails instead)")
    url = create_pg_database()
    store = Store(url)
    try:
        yield store
    finally:
        store.app.close()
        drop_pg_database(url)


def _value(part: Any) -> str | bytes:
    if isinstance(part, str):
        return part
    if "b64" in part:
        return base64.b64decode(part["b64"])
    return str(part["t"]) * int(part["n"])


def _file_bytes(parts: list[dict[str, Any]]) -> bytes:
    return b"".join(base64.b64decode(p["b64"]) * p["n"] if "b64" in p
                    else (p["t"] * p["n"]).encode() for p in parts)


def _args(case: dict[str, Any], tmp_path: Path) -> list[Any]:
    path = tmp_path / "input"
    if "file" in case:
        path.write_bytes(_file_bytes(case["file"]))
    out: list[Any] = []
    for arg in map(_value, case["args"]):
        out.append(arg.replace("{file}", str(path)).replace("{tmp}", str(tmp_path))
                   if isinstance(arg, str) else arg)
    return out


def _db(case: dict[str, Any], store: Store, tmp_path: Path) -> tuple[str, Store | None]:
    """The store URL the case runs on, and a store to count on if not the shared one."""
    db = case.get("db")
    if db == "unreachable":
        return UNREACHABLE_PG, None
    if db == "directory":
        return f"sqlite:///{tmp_path}", None
    if db == "missing":
        return f"sqlite:///{tmp_path / 'none.db'}", None
    if db:
        return db, None
    if case.get("fsize"):  # a copy: the writes of this case are made to fail
        copy = tmp_path / "copy.db"
        with sqlite3.connect(store.url.removeprefix("sqlite:///")) as src, \
                sqlite3.connect(copy) as dst:
            src.backup(dst)
        copied = Store.__new__(Store)
        copied.url, copied.app = f"sqlite:///{copy}", FundLedger(store_env(f"sqlite:///{copy}"))
        return copied.url, copied
    return store.url, None


def _limit_file_size(size: int) -> Any:
    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    return limit


def _run(case: dict[str, Any], db: str, args: list[Any]) -> tuple[int, str]:
    env = case.get("env", {})
    needs_process = case.get("fsize") or any(isinstance(a, bytes) for a in args) or any(
        isinstance(v, dict) for v in env.values())
    if not needs_process:
        r = CliRunner().invoke(cli, ["--db", db, *args], env=env, catch_exceptions=False)
        return r.exit_code, r.output
    environ = dict(os.environb)
    environ[b"PYTHONPATH"] = str(ROOT).encode()
    for k, v in env.items():
        environ[k.encode()] = _value(v) if isinstance(v, dict) else v.encode()  # type: ignore[assignment]
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "--db", db, *args], env=environ, cwd=ROOT,
        capture_output=True, check=False, timeout=60,
        # preexec_fn only sets a resource limit (no locks, no threads touched)
        preexec_fn=_limit_file_size(case["fsize"]) if case.get("fsize") else None,
    )
    return done.returncode, (done.stdout + done.stderr).decode("utf-8", "replace")


def check_case(case: dict[str, Any], store: Store, tmp_path: Path) -> None:
    args = _args(case, tmp_path)
    db, own = _db(case, store, tmp_path)
    counted = own or store
    try:
        before = counted.count()
        code, output = _run(case, db, args)
        after = counted.count()
    finally:
        if own is not None:
            own.app.close()
    assert "Traceback" not in output, output
    assert code == case["exit"], f"exit {code}, expected {case['exit']}: {output}"
    assert CJK_RE.search(output), f"no Chinese in: {output}"
    assert ENGLISH_RE.search(output), f"no English in: {output}"
    if "code" in case:
        assert case["code"] in output, output
    assert after == before, f"{after - before} events recorded by a refused input"


def test_corpus_is_large_and_generated() -> None:
    """At least 150 cases, unique ids, and the file is what the generator writes."""
    assert len(CASES) >= 150 and len({c["id"] for c in CASES}) == len(CASES)
    lines = "".join(json.dumps(c, ensure_ascii=True) + "\n" for c in _generator().cases())
    assert lines == (DATA / "bad_inputs.jsonl").read_text("utf-8")


def test_templates_are_accepted(tmp_path: Path) -> None:
    """Each template the corpus changes is recorded as it stands: a case is refused for the one
    thing it changes, not for a mistake in the template."""
    gen = _generator()
    db = f"sqlite:///{tmp_path / 'ok.db'}"
    build_base(db)
    for name, args in gen.TEMPLATES.items():
        r = _cli(db, *args)
        assert r.exit_code == 0, (name, r.output)
    for name, doc in gen.JSON_TEMPLATES.items():
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")
        r = _cli(db, "record", "json", str(path), *CTY)
        assert r.exit_code == 0, (name, r.output)
    path = tmp_path / "import.jsonl"
    path.write_text(json.dumps({**gen.JSON_TEMPLATES["disbursement"], "entry_id": "DI",
                                "actor": gen.JSON_ACTOR["county"]}, ensure_ascii=False) + "\n")
    r = _cli(db, "import", str(path), *CTY)  # run by a county officer, as every import is
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_bad_input_sqlite(case: dict[str, Any], sqlite_store: Store, tmp_path: Path) -> None:
    """One bad input on SQLite: exit code, both languages, no traceback, nothing recorded."""
    check_case(case, sqlite_store, tmp_path)


@pytest.mark.postgres
@pytest.mark.parametrize("case", PG_CASES, ids=[c["id"] for c in PG_CASES])
def test_bad_input_postgres(case: dict[str, Any], pg_store: Store, tmp_path: Path) -> None:
    """One bad input on PostgreSQL: exit code, both languages, no traceback, nothing recorded."""
    check_case(case, pg_store, tmp_path)
