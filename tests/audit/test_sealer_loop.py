"""The sealing loop (`audit.sealer.follow`), proofs any edge can build (`audit.proofs`) and the
verify report as data (`audit.verify.StoreReport`), on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import threading
from typing import Any

import pytest

from audit import log, proofs
from audit.db import LogDB
from audit.merkle import leaf_hash, verify_consistency, verify_inclusion
from audit.sealer import Loop, SealerRunning, follow, seal
from audit.signing import sign_latest
from audit.verify import StoreReport, verify_store
from ledger.application import FundLedger
from tests.audit.conftest import LogKey, entries
from tests.conftest import event_count

WAIT_S = 60


def _more(ledger: FundLedger, prefix: str) -> None:
    """Two more events: a disbursement and an expenditure under new entry ids."""
    ledger.import_entries(entries(n=1, prefix=prefix)[3:5])


def _rounds(n: int) -> tuple[Any, list[int]]:
    """A stop flag raised after `n` rounds, and the rounds' counts."""
    counts: list[int] = []
    return (lambda: len(counts) >= n), counts


def test_the_loop_seals_what_is_appended_and_signs_on_stopping(
        ledger: FundLedger, db: LogDB, log_key: LogKey) -> None:
    """Events appended while the loop runs are sealed; one checkpoint of the whole log is
    signed when it stops (the interval is too long for another)."""
    stop, counts = _rounds(3)

    def on_round(sealed: int) -> None:
        counts.append(sealed)
        if len(counts) == 1:  # a write between two rounds
            _more(ledger, "L")

    loop = follow(db, stop, Loop((log_key.name, log_key.key), sign_every_s=3600,
                                 interval_s=0.01), on_round)
    total = event_count(ledger)
    assert loop.sealed == sum(counts) == total and counts[0] < total
    with db.snapshot() as cur:
        latest = log.latest_checkpoint(cur)
        assert latest is not None and latest.size == total
        assert [c.size for c in log.iter_checkpoints(cur)] == [counts[0], total]
    assert loop.unsigned == 0


def test_one_loop_per_store(ledger: FundLedger, store_url: str) -> None:
    """While one process's loop runs, another's is refused; once it stops, another may run."""
    elected, release = threading.Event(), threading.Event()

    def first() -> None:
        with LogDB(store_url) as mine:
            follow(mine, release.is_set, Loop(interval_s=0.01), lambda _: elected.set())

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert elected.wait(WAIT_S)
        with LogDB(store_url) as other, pytest.raises(SealerRunning):
            follow(other, lambda: True)
        with LogDB(store_url) as other:  # a one-off seal goes on beside the loop
            seal(other)
    finally:
        release.set()
        thread.join(WAIT_S)
    with LogDB(store_url) as other:
        assert follow(other, lambda: True).sealed == 0  # elected now; stopped at once


def test_proofs_verify_against_the_signed_checkpoint(sealed: LogDB, ledger: FundLedger,
                                                     log_key: LogKey) -> None:
    """An inclusion proof of every leaf, and a consistency proof from an older checkpoint,
    verify against the stored roots; a leaf outside the tree is a ValueError."""
    with sealed.snapshot() as cur:
        old = log.latest_checkpoint(cur)
    assert old is not None
    _more(ledger, "N")
    seal(sealed)
    new, _ = sign_latest(sealed, log_key.name, log_key.key)
    for index in (0, old.size - 1, new.size - 1):
        doc = proofs.inclusion_proof(sealed, index)
        with sealed.snapshot() as cur:
            leaf = log.leaf_at(cur, index)
        assert leaf is not None and doc["tree_size"] == new.size
        path = [base64.b64decode(p) for p in doc["proof"]]
        assert verify_inclusion(leaf_hash(leaf.event_hash), index, new.size, path, new.root)
    doc = proofs.consistency_proof(sealed, old.size)
    path = [base64.b64decode(p) for p in doc["proof"]]
    assert verify_consistency(old.size, new.size, old.root, new.root, path)
    assert not verify_consistency(old.size, new.size, new.root, new.root, path)
    with pytest.raises(ValueError):
        proofs.inclusion_proof(sealed, new.size)
    with pytest.raises(ValueError):
        proofs.consistency_proof(sealed, new.size + 1)


def test_the_verify_report_as_data(sealed: LogDB, ledger: FundLedger) -> None:
    """`StoreReport.to_dict` says intact, counts the events and describes the log."""
    doc = StoreReport(*verify_store(sealed)).to_dict()
    assert doc["intact"] is True and doc["findings"] == []
    assert doc["events"] == event_count(ledger) and doc["log"]["sealed"] is True
    assert doc["log"]["latest"]["size"] == doc["log"]["leaves"] == doc["events"]
    assert doc["log"]["checks_failed"] == []
