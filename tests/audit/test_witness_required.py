"""`--witness W` means W must have cosigned: the latest checkpoint (a receipt's checkpoint) without
a valid cosignature of every witness named (or of `--quorum` of them) fails `fundledger verify`,
`fundledger-verify BUNDLE` and `fundledger-verify receipt.json`, exit 1 naming the witness."""

from __future__ import annotations

import json
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from click.testing import CliRunner

from api.cli import cli
from audit import witness
from audit.chains import decode_row
from audit.db import LogDB
from audit.errors import WitnessRefused
from audit.offline import main as offline_main
from audit.sealer import seal
from audit.signing import sign_latest
from ledger.application import FundLedger
from ledger.chain import event_hash
from tests.audit.conftest import LogKey, events_table, execute, nid
from tests.conftest import COUNTY, event_count

CITY, AUDIT = "city.test/meizhou", "audit.test/gd"


def verify(url: str, *args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, ["--db", url, "verify", *args], catch_exceptions=False)
    return r.exit_code, r.output


def offline(*args: str) -> tuple[int, str]:
    out = StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as done:
        offline_main(list(args))
    return int(done.value.code or 0), out.getvalue()


def export_and_receipt(url: str, tmp_path: Path, tag: str) -> tuple[Path, Path]:
    """A full bundle and the receipt of entry D4, as the ledger gives them now."""
    bundle, receipt = tmp_path / f"bundle-{tag}", tmp_path / f"receipt-{tag}.json"
    runner = CliRunner()
    assert runner.invoke(cli, ["--db", url, "export", "--out", str(bundle)]).exit_code == 0
    r = runner.invoke(cli, ["--db", url, "receipt", "D4", "--county", COUNTY, "--out",
                            str(receipt)])
    assert r.exit_code == 0, r.output
    return bundle, receipt


@pytest.fixture
def witnessed(sealed: LogDB, log_key: LogKey, tmp_path: Path) -> dict[str, str]:
    """Two witnesses (the city bureau and an audit department) cosign the latest checkpoint."""
    keys = {}
    for name in (CITY, AUDIT):
        wdir = tmp_path / name.replace("/", "_")
        keys[name] = witness.init(wdir, name, log_key.vkey)
        witness.cosign_latest(sealed, wdir)
    return keys


def test_every_verifier_passes_when_the_witnesses_cosigned(
        witnessed: dict[str, str], log_key: LogKey, store_url: str, tmp_path: Path) -> None:
    """The baseline the attacks below break: both witnesses required, all three verifiers pass."""
    w = ["--witness", witnessed[CITY], "--witness", witnessed[AUDIT]]
    assert verify(store_url, "--key", log_key.vkey, *w)[0] == 0
    bundle, receipt = export_and_receipt(store_url, tmp_path, "ok")
    for path in (bundle, receipt):
        code, out = offline(str(path), "--key", log_key.vkey, *w)
        assert code == 0 and "VERIFIED" in out, out


def test_deleted_cosignatures_fail_every_verifier_given_the_witness(
        witnessed: dict[str, str], log_key: LogKey, store_url: str, tmp_path: Path,
        ledger: FundLedger) -> None:
    """A superuser deletes every cosignature row: with --witness the store, a bundle and a
    receipt exported afterwards all fail, naming the witness; nothing else notices."""
    before = event_count(ledger)
    execute(store_url, "DELETE FROM fundledger_log_cosignatures")
    assert execute(store_url, "SELECT COUNT(*) FROM fundledger_log_cosignatures")[0][0] == 0
    assert verify(store_url, "--key", log_key.vkey)[0] == 0  # without --witness: unnoticed
    code, out = verify(store_url, "--key", log_key.vkey, "--witness", witnessed[CITY])
    assert code == 1 and "BROKEN: first at checkpoint #1" in out
    assert f"not cosigned by the witness {CITY}" in out
    bundle, receipt = export_and_receipt(store_url, tmp_path, "deleted")
    code, out = offline(str(bundle), "--key", log_key.vkey, "--witness", witnessed[CITY])
    assert code == 1 and "[witnesses] checkpoint (size" in out
    assert f"not cosigned by the witness {CITY}" in out
    code, out = offline(str(receipt), "--key", log_key.vkey, "--witness", witnessed[AUDIT])
    assert code == 1 and f"[witnesses] receipt: not cosigned by the witness {AUDIT}" in out
    assert event_count(ledger) == before


def test_a_quorum_counts_only_the_witnesses_that_cosigned(
        witnessed: dict[str, str], log_key: LogKey, store_url: str, tmp_path: Path) -> None:
    """One witness's cosignature removed: --quorum 1 of the two passes, the default (both) and
    --quorum 2 fail naming the missing one; a quorum above the witnesses named is a usage
    error (exit 2)."""
    execute(store_url, "DELETE FROM fundledger_log_cosignatures WHERE witness = ?", (AUDIT,))
    w = ["--key", log_key.vkey, "--witness", witnessed[CITY], "--witness", witnessed[AUDIT]]
    bundle, receipt = export_and_receipt(store_url, tmp_path, "quorum")
    assert verify(store_url, *w, "--quorum", "1")[0] == 0
    for args in ([], ["--quorum", "2"]):
        code, out = verify(store_url, *w, *args)
        assert code == 1 and f"not cosigned by the witness {AUDIT}" in out, out
        assert CITY + " (" not in out  # the witness that cosigned is not named
        for path in (bundle, receipt):
            code, out = offline(str(path), *w, *args)
            assert code == 1 and f"not cosigned by the witness {AUDIT}" in out, out
    for path in (bundle, receipt):
        assert offline(str(path), *w, "--quorum", "1")[0] == 0
    assert verify(store_url, *w, "--quorum", "3")[0] == 2
    assert offline(str(bundle), *w, "--quorum", "3")[0] == 2


def _rehashed_newest(store_url: str) -> None:
    """The operator changes the newest event's amount and recomputes its hash (it is the head of
    its stream, so no later link breaks): a self-consistent, different history."""
    table, n = events_table(store_url), nid(store_url)
    row_id, originator, version, topic, state = execute(
        store_url, f"SELECT {n}, originator_id, originator_version, topic, state FROM {table} "
                   f"ORDER BY {n} DESC LIMIT 1")[0]
    doc = json.loads(bytes(state))
    # Down, not up: the newest event is a reversal of 100 yuan, and a larger one would break
    # rule R6, which the verifiers' rule audit reports; the fork must be one that keeps every
    # rule, so that only the witness can tell.
    doc["amount_fen"] -= 50_00

    class Row:  # what decode_row reads
        pass

    row: Any = Row()
    row.originator_id, row.originator_version, row.topic = originator, version, topic
    row.state = json.dumps(doc, ensure_ascii=False).encode()
    etype, ts, prev, _, data = decode_row(row)
    doc["event_hash"] = event_hash(str(UUID(str(originator))), version, etype, ts, prev, data)
    execute(store_url, f"UPDATE {table} SET state = ? WHERE {n} = ?",
            (json.dumps(doc, ensure_ascii=False).encode(), row_id))


def test_a_fork_the_witness_refused_fails_every_verifier_given_the_witness(
        witnessed: dict[str, str], sealed: LogDB, log_key: LogKey, store_url: str,
        tmp_path: Path, ledger: FundLedger) -> None:
    """The operator rewrites the newest event, rebuilds the log, drops the old checkpoints and
    their cosignatures, and signs the fork with the real key. The witness refuses to cosign it;
    with --key alone every verifier passes, with --witness each fails naming the witness."""
    before = event_count(ledger)
    _rehashed_newest(store_url)
    for table in ("nodes", "leaves", "cosignatures", "checkpoints"):
        execute(store_url, f"DELETE FROM fundledger_log_{table}")
    seal(sealed)
    sign_latest(sealed, log_key.name, log_key.key)
    with pytest.raises(WitnessRefused, match="the log forked"):
        witness.cosign_latest(sealed, tmp_path / CITY.replace("/", "_"))
    assert verify(store_url, "--key", log_key.vkey)[0] == 0  # the fork is self-consistent
    code, out = verify(store_url, "--key", log_key.vkey, "--witness", witnessed[CITY])
    assert code == 1 and f"not cosigned by the witness {CITY}" in out, out
    bundle, receipt = export_and_receipt(store_url, tmp_path, "fork")
    for path in (bundle, receipt):
        assert offline(str(path), "--key", log_key.vkey)[0] == 0
        code, out = offline(str(path), "--key", log_key.vkey, "--witness", witnessed[CITY])
        assert code == 1 and f"not cosigned by the witness {CITY}" in out, out
    assert event_count(ledger) == before


def test_a_witness_named_on_a_log_never_signed_is_a_finding(ledger: FundLedger,
                                                            store_url: str, tmp_path: Path,
                                                            log_key: LogKey) -> None:
    """No checkpoint at all: nothing can carry the witness's cosignature."""
    vkey = witness.init(tmp_path / "w", CITY, log_key.vkey)
    code, out = verify(store_url, "--witness", vkey)
    assert code == 1 and "no verified checkpoint" in out
