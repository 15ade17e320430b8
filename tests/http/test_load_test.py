"""The server's side tables on one pool of connections (api.sidetables.side_pool), the
idempotency record kept in one transaction, and scripts/load_test.py: a short run passes its
checks, and its checks fail when an acknowledged write is missing."""

from __future__ import annotations

import datetime as dt
import importlib
import subprocess
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from api.http.idempotency import IdempotencyStore
from api.http.problems import Problem
from api.sidetables import side_pool
from api.tokens import TokenStore
from tests.conftest import create_pg_database, drop_pg_database

ROOT = Path(__file__).parents[2]
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)


def test_the_side_tables_share_one_pool_and_open_no_connection_per_use(
        app: Any, store_url: str) -> None:
    pool = side_pool(store_url)
    if store_url.startswith("sqlite"):
        assert pool is None  # a SQLite connection is cheap: one per use, as before
        return
    try:
        token, record = TokenStore(store_url).issue("county", "张三", "441423", None, NOW)
        tokens, keys = TokenStore(store_url, pool), IdempotencyStore(store_url, pool)
        for i in range(30):
            assert tokens.authenticate(token, NOW.date()) == record
            keys.keep(record.token_id, f"k{i}", "d", 201, b"{}")
            assert keys.find(record.token_id, f"k{i}", "d") is not None
        stats = pool.get_stats()
        assert stats["requests_num"] == 90  # every use went through the pool...
        assert stats["connections_num"] <= 2  # ...and reused its connection
    finally:
        pool.close()


def test_a_failed_block_on_a_pooled_connection_keeps_nothing(app: Any, store_url: str) -> None:
    pool = side_pool(store_url)
    keys = IdempotencyStore(store_url, pool)
    try:
        with pytest.raises(RuntimeError), keys.cursor(create=True) as cur:
            assert cur is not None
            cur.execute("INSERT INTO fundledger_http_idempotency VALUES (?, ?, ?, ?, ?, ?)",
                        ("tok", "k", "d", 201, "{}", "now"))
            raise RuntimeError("the request failed after the insert")
        assert keys.find("tok", "k", "d") is None
        assert keys.keep("tok", "k", "d", 201, b'{"a": 1}').body == b'{"a": 1}'
    finally:
        if pool is not None:
            pool.close()


def test_concurrent_twins_keep_one_answer_and_another_body_is_a_conflict(
        app: Any, store_url: str) -> None:
    pool = side_pool(store_url)
    keys = IdempotencyStore(store_url, pool)
    keys.keep("tok", "warm-up", "d", 201, b"{}")  # the table exists before the race
    answers: list[Any] = []

    def keep(i: int) -> None:
        digest = "same" if i % 2 else "other"
        try:
            answers.append((digest, keys.keep("tok", "k", digest, 201, f"[{i}]".encode())))
        except Problem as e:
            answers.append((digest, e.code))

    try:
        threads = [threading.Thread(target=keep, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        if pool is not None:
            pool.close()
    kept = [a for _, a in answers if not isinstance(a, str)]
    assert len(answers) == 8 and len({a.body for a in kept}) == 1  # one answer for all
    winner = next(d for d, a in answers if not isinstance(a, str))
    assert all(a == "IDEMPOTENCY_KEY_REUSED" for d, a in answers if d != winner)


@pytest.fixture
def pg_url(pg_available: bool) -> Any:
    if not pg_available:
        pytest.skip("PostgreSQL unreachable (developer machine; CI fails instead)")
    url = create_pg_database()
    yield url
    drop_pg_database(url)


def load_test() -> ModuleType:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        return importlib.import_module("load_test")
    finally:
        sys.path.remove(str(ROOT / "scripts"))


@pytest.mark.postgres
def test_the_load_test_reports_a_lost_or_unstored_write(pg_url: str) -> None:
    lt = load_test()
    counties = lt.county_codes(2)
    lt.set_up(pg_url, counties)
    before = lt.events_per_county(pg_url, counties)
    tally = lt.Tally(acked=[(counties[0], "LT-0-0")])  # acknowledged, never stored
    results = {name: ok for name, ok, _ in lt.checks(pg_url, counties, before, tally, 0)}
    assert not results["acknowledged entries all stored (none lost)"]
    assert not results["SQL events per county = before + projects + acknowledged"]
    assert results["`fundledger verify` exits 0"]


@pytest.mark.postgres
def test_a_short_load_test_with_a_worker_killed_passes_its_checks(pg_available: bool) -> None:
    if not pg_available:
        pytest.skip("PostgreSQL unreachable (developer machine; CI fails instead)")
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "load_test.py"), "--clients",
                          "4", "--counties", "2", "--seconds", "4", "--bare-events", "50",
                          "--kill-worker"], capture_output=True, text=True, timeout=300,
                         check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("[ok]") == 6 and "FAIL" not in run.stdout
    assert "API writes/s" in run.stdout and "restarted as" in run.stdout


def test_workers_making_the_idempotency_table_at_once_all_keep_their_answer(
        app: Any, store_url: str) -> None:
    """The first writes of several workers each make the table: none may fail for it (on
    PostgreSQL two concurrent CREATE TABLE IF NOT EXISTS collide in the catalog), since the
    ledger has already recorded the entry whose answer is being kept."""
    barrier, errors = threading.Barrier(16), []

    def first_write(i: int) -> None:
        keys = IdempotencyStore(store_url)  # a fresh process's store: the table not yet seen
        barrier.wait()
        try:
            keys.keep("tok", f"k{i}", "d", 201, b"{}")
        except Exception as e:  # the test reports whatever escaped
            errors.append(repr(e))

    threads = [threading.Thread(target=first_write, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(IdempotencyStore(store_url).find("tok", f"k{i}", "d") for i in range(16))
