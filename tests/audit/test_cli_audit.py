"""The audit commands as a user runs them: keys, seal, checkpoint, witness, receipt, export,
verify and `fundledger-verify`, with their exit codes (0 / 1 / 2)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from api.cli import cli
from audit.offline import main as offline_main
from ledger.application import FundLedger
from tests.audit.conftest import ORIGIN, events_table, execute, nid


def run(db: str, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)


def offline(*args: str) -> tuple[int, str]:
    from contextlib import redirect_stdout
    from io import StringIO

    out = StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as done:
        offline_main(list(args))
    return int(done.value.code or 0), out.getvalue()


def test_keys_init_and_a_readable_key_file(tmp_path: Path, ledger: FundLedger,
                                           store_url: str) -> None:
    """`keys init` prints the vkey and writes a 0600 file; a key file others can read is
    refused (exit 2); the key is never overwritten."""
    key = tmp_path / "log.key"
    r = run(store_url, "keys", "init", "--out", str(key), "--origin", ORIGIN)
    assert r.exit_code == 0 and r.stdout.startswith(f"{ORIGIN}+")
    assert key.stat().st_mode & 0o777 == 0o600
    assert run(store_url, "keys", "init", "--out", str(key)).exit_code == 2
    os.chmod(key, 0o640)
    r = run(store_url, "seal", "--key", str(key))
    assert r.exit_code == 2 and "chmod 600" in r.output


def test_the_audit_commands_end_to_end(tmp_path: Path, ledger: FundLedger,
                                       store_url: str) -> None:
    """Seal and sign, cosign, hold the checkpoint, verify, receipt, export, verify offline;
    then tamper: verify and the offline verifier exit 1; an unreadable bundle exits 2."""
    key = tmp_path / "log.key"
    vkey = run(store_url, "keys", "init", "--out", str(key), "--origin", ORIGIN).stdout.strip()
    sealed = json.loads(run(store_url, "--json", "seal", "--key", str(key)).stdout)
    assert sealed["sealed"] > 20 and sealed["checkpoint"]["size"] == sealed["sealed"]
    wvkey = run(store_url, "witness", "init", "--dir", str(tmp_path / "w"), "--name",
                "city.test/w", "--log-key", vkey).stdout.strip()
    assert run(store_url, "witness", "cosign", "--dir", str(tmp_path / "w")).exit_code == 0
    note = run(store_url, "checkpoint").stdout
    assert note.count("\n— ") == 2 and "— city.test/w " in note
    held = tmp_path / "held.txt"
    held.write_text(note, "utf-8")
    r = run(store_url, "verify", "--key", vkey, "--since", str(held), "--witness", wvkey)
    assert r.exit_code == 0 and "intact" in r.stdout and "held checkpoint" in r.stdout
    r = run(store_url, "receipt", "D4", "--county", "441423", "--out", str(tmp_path / "r.json"))
    assert r.exit_code == 0
    assert offline(str(tmp_path / "r.json"), "--key", vkey)[0] == 0
    assert run(store_url, "export", "--out", str(tmp_path / "b")).exit_code == 0
    code, out = offline(str(tmp_path / "b"), "--key", vkey, "--since", str(held),
                        "--witness", wvkey)
    assert code == 0 and "VERIFIED" in out and "trusted witness city.test/w" in out
    table = events_table(store_url)
    execute(store_url, f"UPDATE {table} SET state = ? WHERE {nid(store_url)} = "
                       f"(SELECT MAX({nid(store_url)}) FROM {table})", (b"{}",))
    r = run(store_url, "verify", "--key", vkey, "--since", str(held))
    assert r.exit_code == 1 and "BROKEN: first at county 441423" in r.stderr
    assert "(stream " in r.stderr and "does not match its Merkle leaf" in r.stderr
    assert run(store_url, "export", "--out", str(tmp_path / "t")).exit_code == 0
    assert offline(str(tmp_path / "t"), "--key", vkey)[0] == 1
    assert offline(str(tmp_path / "nothing"))[0] == 2
    assert offline(str(tmp_path / "b"), "--key", "not-a-vkey")[0] == 2


def test_verify_before_any_checkpoint(ledger: FundLedger, store_url: str) -> None:
    """Sealed but never signed: chains and leaves are checked, no checkpoint verified, exit 0;
    the JSON report keeps intact, events, streams and findings."""
    assert run(store_url, "seal").exit_code == 0
    r = run(store_url, "verify")
    assert r.exit_code == 0 and "no checkpoint verified" in r.stdout
    doc = json.loads(run(store_url, "--json", "verify").stdout)
    assert doc["intact"] and doc["findings"] == [] and doc["streams"] == 2
    assert doc["log"]["leaves"] == doc["events"] and doc["log"]["latest"] is None


def test_refusals_exit_1(ledger: FundLedger, store_url: str, tmp_path: Path) -> None:
    """No checkpoint to print, cosign or export against; a receipt of an unsealed entry."""
    assert run(store_url, "checkpoint").exit_code == 1
    assert run(store_url, "export", "--out", str(tmp_path / "b")).exit_code == 1
    assert run(store_url, "receipt", "D1", "--county", "441423").exit_code == 1
    key = tmp_path / "k"
    vkey = run(store_url, "keys", "init", "--out", str(key)).stdout.strip()
    run(store_url, "witness", "init", "--dir", str(tmp_path / "w"), "--name", "w.test/w",
        "--log-key", vkey)
    assert run(store_url, "witness", "cosign", "--dir", str(tmp_path / "w")).exit_code == 1
