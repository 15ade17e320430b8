"""Sealing: every stored event becomes a leaf once, in order, on SQLite and PostgreSQL; the
stored nodes serve the same roots and proofs as an in-memory tree."""

from __future__ import annotations

import threading

import psycopg
import pytest

from audit import log, merkle
from audit.db import LogDB
from audit.errors import SealRefused
from audit.sealer import seal
from audit.verify import verify_store
from ledger.application import FundLedger
from ledger.stores import is_postgres
from tests.audit.conftest import entries, events_table, execute
from tests.conftest import event_count


def _leaves(db: LogDB) -> list[log.Leaf]:
    with db.snapshot() as cur:
        return list(log.iter_leaves(cur, 1000))


def test_every_event_is_sealed_once_in_notification_order(ledger: FundLedger,
                                                          db: LogDB) -> None:
    """Leaf i is the i-th stored event (stream, version, hash); sealing again adds nothing."""
    assert seal(db) == event_count(ledger)
    assert seal(db) == 0
    leaves = _leaves(db)
    with db.snapshot() as cur:
        rows = list(db.all_events(cur))
    assert [x.index for x in leaves] == list(range(len(rows)))
    for leaf, row in zip(leaves, rows, strict=True):
        assert (leaf.notification_id, leaf.version) == (row.id, row.originator_version)
        assert leaf.event_hash.hex() == __import__("json").loads(row.state)["event_hash"]


def test_stored_nodes_give_the_in_memory_tree_roots_and_proofs(ledger: FundLedger,
                                                               db: LogDB) -> None:
    """Roots, inclusion and consistency proofs read from the store equal MemoryTree's."""
    seal(db)
    tree = merkle.MemoryTree(merkle.leaf_hash(x.event_hash) for x in _leaves(db))
    n = tree.size
    with db.snapshot() as cur:
        for size in range(1, n + 1):
            assert log.with_nodes(cur, lambda r, s=size: merkle.root(r, s)) == tree.root(size)
            assert log.with_nodes(cur, lambda r, s=size: merkle.consistency_proof(r, s, n)) \
                == tree.consistency_proof(size, n)
        for index in range(n):
            assert log.with_nodes(cur, lambda r, i=index: merkle.inclusion_proof(r, i, n)) \
                == tree.inclusion_proof(index, n)


def test_sealing_while_writing_with_concurrent_sealers(ledger: FundLedger, store_url: str) -> None:
    """Three sealers racing a writer: each event is appended exactly once, in order."""
    stop = threading.Event()
    errors: list[BaseException] = []

    def sealer() -> None:
        try:
            with LogDB(store_url) as own:
                while not stop.is_set():
                    seal(own, page=7)
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=sealer) for _ in range(3)]
    for t in threads:
        t.start()
    for k in range(4):
        ledger.import_entries(entries(n=3, prefix=f"w{k}-")[3:])  # disbursements onward
    stop.set()
    for t in threads:
        t.join()
    assert not errors
    with LogDB(store_url) as db:
        seal(db)
        leaves = _leaves(db)
        assert len(leaves) == event_count(ledger)
        assert len({(x.stream_id, x.version) for x in leaves}) == len(leaves)
        chain, report = verify_store(db)
    assert chain.intact and not report.findings


@pytest.mark.postgres
def test_gaps_in_notification_ids_do_not_matter(ledger: FundLedger, store_url: str) -> None:
    """Rolled-back sequence values leave gaps in notification ids; leaf index = count."""
    if not is_postgres(store_url):
        pytest.skip("PostgreSQL sequences")
    with psycopg.connect(store_url, autocommit=True) as conn:
        for _ in range(5):
            conn.execute("SELECT nextval('fundledger_events_notification_id_seq')")
    ledger.import_entries(entries(n=2, prefix="g-")[3:])
    with LogDB(store_url) as db:
        seal(db)
        leaves = _leaves(db)
        ids = [x.notification_id for x in leaves]
        assert ids[-1] - ids[0] + 1 > len(leaves)  # there is a gap
        assert [x.index for x in leaves] == list(range(len(leaves)))
        chain, report = verify_store(db)
    assert chain.intact and not report.findings


def test_the_sealer_refuses_a_tampered_event(ledger: FundLedger, store_url: str,
                                             db: LogDB) -> None:
    """An event whose content no longer matches its hash is not sealed, nor those after it."""
    table = events_table(store_url)
    nid = "notification_id" if is_postgres(store_url) else "rowid"
    target = execute(store_url, f"SELECT {nid}, state FROM {table} ORDER BY {nid} "
                                "LIMIT 1 OFFSET 9")[0]
    state = bytes(target[1]).replace(b'"business_date":"20', b'"business_date":"19', 1)
    execute(store_url, f"UPDATE {table} SET state = ? WHERE {nid} = ?", (state, target[0]))
    with pytest.raises(SealRefused, match="refusing to seal") as refused:
        seal(db)
    assert refused.value.sealed == 9 and len(_leaves(db)) == 9


@pytest.mark.postgres
def test_log_tables_are_append_only_on_postgres(sealed: LogDB, store_url: str) -> None:
    """The application's role cannot UPDATE, DELETE or TRUNCATE the log's tables."""
    if not is_postgres(store_url):
        pytest.skip("PostgreSQL triggers")
    columns = {"fundledger_log_leaves": "version", "fundledger_log_nodes": "idx",
               "fundledger_log_checkpoints": "seq", "fundledger_log_keys": "seq"}
    with psycopg.connect(store_url, autocommit=True) as conn:
        for table, column in columns.items():
            for sql in (f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}",
                        f"TRUNCATE {table}"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                    conn.execute(sql)
