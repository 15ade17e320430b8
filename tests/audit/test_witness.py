"""Witnesses cosign (tlog-cosignature, Ed25519 type 0x04) only checkpoints consistent with the
last one they cosigned; the cosignatures are stored with the checkpoint and shown with it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from audit import log, witness
from audit.checkpoint import verify_cosignatures
from audit.db import LogDB
from audit.errors import WitnessRefused
from audit.keyfile import create_key_file, log_vkey
from audit.note import parse_vkey
from audit.sealer import seal
from audit.signing import sign_latest
from audit.verify import verify_store
from ledger.application import FundLedger
from ledger.rules import packaged_rules
from ledger.stores import store_env
from tests.audit.conftest import ORIGIN, LogKey, entries
from tests.conftest import PROGRAMME, PROVINCE, TODAY


def test_a_witness_cosigns_and_follows_the_log(sealed: LogDB, log_key: LogKey,
                                               ledger: FundLedger, tmp_path: Path) -> None:
    """The cosignature verifies with the witness's 0x04 key; a later, consistent checkpoint is
    cosigned too, and the witness's state moves on."""
    wdir = tmp_path / "city"
    vkey = witness.init(wdir, "city.test/meizhou", log_key.vkey)
    cp, cosig = witness.cosign_latest(sealed, wdir)
    key = parse_vkey(vkey)
    assert key.sig_type == 0x04
    with sealed.snapshot() as cur:
        stored = log.cosignatures(cur, cp.seq)
    note = log.cosigned_note(cp.note, stored)
    assert verify_cosignatures(note, [key]) == {"city.test/meizhou": cosig.timestamp}
    ledger.import_entries(entries(n=2, prefix="w-")[3:])
    seal(sealed)
    later, _ = sign_latest(sealed, log_key.name, log_key.key)
    assert witness.cosign_latest(sealed, wdir)[0].size == later.size > cp.size
    assert witness.load_state(wdir).size == later.size
    chain, report = verify_store(sealed, [parse_vkey(log_key.vkey)], [key])
    assert chain.intact and not report.findings
    assert report.latest is not None and report.latest["cosignatures"][0]["trusted"]


def test_a_witness_refuses_a_forked_log(sealed: LogDB, log_key: LogKey, tmp_path: Path,
                                        store_url: str) -> None:
    """The same key signing another history (a fork) is refused; the state is kept."""
    wdir = tmp_path / "audit"
    witness.init(wdir, "audit.test/gd", log_key.vkey)
    witness.cosign_latest(sealed, wdir)
    before = (wdir / witness.STATE_FILE).read_text("utf-8")
    fork_url = f"sqlite:///{tmp_path / 'fork.db'}"
    fork = FundLedger(store_env(fork_url), clock=lambda: TODAY)
    try:
        fork.open_programme(packaged_rules(PROGRAMME), 100_000_000_00, PROVINCE,
                            dt.date(2020, 3, 1))
        fork.admit_county(PROGRAMME, "441423", "丰顺县", 10_000_000_00, "另一文号", PROVINCE,
                          dt.date(2020, 3, 2))
        fork.import_entries(entries(n=12))
    finally:
        fork.close()
    with LogDB(fork_url) as forked:
        seal(forked)
        sign_latest(forked, log_key.name, log_key.key)  # the operator signs the fork
        with pytest.raises(WitnessRefused, match="not consistent"):
            witness.cosign_latest(forked, wdir)
    assert (wdir / witness.STATE_FILE).read_text("utf-8") == before
    assert json.loads(before)["size"] is not None


def test_a_witness_refuses_a_log_signed_by_a_key_it_does_not_trust(
        sealed: LogDB, tmp_path: Path) -> None:
    """A witness set up with another log's key refuses this log's checkpoint."""
    other = log_vkey(ORIGIN, create_key_file(tmp_path / "other.key", ORIGIN))
    wdir = tmp_path / "w"
    witness.init(wdir, "w.test/x", other)
    with pytest.raises(WitnessRefused, match="does not hold a key this witness trusts"):
        witness.cosign_latest(sealed, wdir)
