"""Keys, checkpoints and key rotation: C2SP signed notes the log never signs inconsistently."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from audit import log, merkle
from audit.checkpoint import parse_checkpoint_body, verify_checkpoint
from audit.db import NODES, LogDB
from audit.errors import SigningRefused
from audit.keyfile import KeyFileError, create_key_file, load_key_file, log_vkey
from audit.keyhistory import check_history
from audit.note import (
    InvalidSignatureError,
    UnverifiedNoteError,
    key_id,
    parse_note,
    parse_vkey,
    public_key_bytes,
)
from audit.sealer import seal
from audit.signing import rotate, sign_latest
from audit.verify import verify_store
from ledger.application import FundLedger
from tests.audit.conftest import ORIGIN, LogKey, entries, execute


def test_key_file_is_private_and_its_vkey_follows_the_spec(tmp_path: Path) -> None:
    """Mode 0600; the vkey is name+keyid+base64(0x01 || key), key ID = SHA-256(...)[:4]."""
    path = tmp_path / "k"
    key = create_key_file(path, ORIGIN)
    assert path.stat().st_mode & 0o777 == 0o600
    vkey = log_vkey(ORIGIN, key)
    name, kid, data = vkey.split("+", 2)
    raw = base64.b64decode(data)
    assert name == ORIGIN and raw[0] == 0x01 and raw[1:] == public_key_bytes(key)
    assert bytes.fromhex(kid) == key_id(ORIGIN, public_key_bytes(key))
    assert parse_vkey(vkey).key_id.hex() == kid
    with pytest.raises(KeyFileError, match="never overwritten"):
        create_key_file(path, ORIGIN)


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    """A key file with group or other permission bits is not used."""
    path = tmp_path / "k"
    create_key_file(path, ORIGIN)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_key_file(path)
    os.chmod(path, 0o600)
    assert load_key_file(path)[0] == ORIGIN


def test_checkpoint_is_a_spec_signed_note(sealed: LogDB, log_key: LogKey) -> None:
    """Origin, size and base64 root lines, one Ed25519 (type 0x01) signature by the log key."""
    with sealed.snapshot() as cur:
        cp = log.latest_checkpoint(cur)
        size = log.tail(cur)[0]
        root = log.with_nodes(cur, lambda r: merkle.root(r, size))
    assert cp is not None
    text, sigs = parse_note(cp.note)
    assert text == f"{ORIGIN}\n{size}\n{base64.b64encode(root).decode()}\n"
    assert [(s.name, s.key_id.hex()) for s in sigs] == [(ORIGIN, log_key.vkey.split("+")[1])]
    body = verify_checkpoint(cp.note, [parse_vkey(log_key.vkey)])
    assert (body.origin, body.size, body.root) == (ORIGIN, size, root)
    assert parse_checkpoint_body(text) == body


def test_a_bad_or_unknown_signature_is_rejected(sealed: LogDB, log_key: LogKey,
                                                tmp_path: Path) -> None:
    """A changed body fails the known key's signature; another key's note is unverified."""
    with sealed.snapshot() as cur:
        cp = log.latest_checkpoint(cur)
    assert cp is not None
    lines = cp.note.split("\n")
    lines[1] = str(int(lines[1]) - 1)  # another size under the same signature
    with pytest.raises(InvalidSignatureError):
        verify_checkpoint("\n".join(lines), [parse_vkey(log_key.vkey)])
    other = create_key_file(tmp_path / "other", ORIGIN)
    with pytest.raises(UnverifiedNoteError):
        verify_checkpoint(cp.note, [parse_vkey(log_vkey(ORIGIN, other))])


def test_no_inconsistent_checkpoint_is_signed(sealed: LogDB, store_url: str,
                                              log_key: LogKey, ledger: FundLedger) -> None:
    """With a stored node of the signed tree changed, the log refuses to sign again."""
    with sealed.snapshot() as cur:
        signed = log.tail(cur)[0]
    ledger.import_entries(entries(n=2, prefix="x-")[3:])
    seal(sealed)
    level, index = merkle.subtree_decomposition(0, signed)[0]  # under the signed root
    execute(store_url, f"UPDATE {NODES} SET hash = ? WHERE level = ? AND idx = ?",
            (bytes(32), level, index))
    with pytest.raises(SigningRefused, match="no longer has the root"):
        sign_latest(sealed, log_key.name, log_key.key)


def test_only_the_current_key_signs(sealed: LogDB, tmp_path: Path) -> None:
    """A key that is not the log's is refused (a rotation must be recorded first)."""
    stranger = create_key_file(tmp_path / "stranger", ORIGIN)
    with pytest.raises(SigningRefused, match="not the log's key"):
        sign_latest(sealed, ORIGIN, stranger)


def test_rotation_keeps_old_checkpoints_verifiable(sealed: LogDB, log_key: LogKey,
                                                  ledger: FundLedger, tmp_path: Path) -> None:
    """After a rotation the history verifies; old checkpoints verify with the old key, new ones
    with the new; the old key can sign no more; a verifier holding either key trusts both."""
    new = create_key_file(tmp_path / "new", ORIGIN)
    ledger.import_entries(entries(n=2, prefix="q-")[3:])
    seal(sealed)  # the rotation comes after the first checkpoint's size
    record = rotate(sealed, ORIGIN, log_key.key, new)
    ledger.import_entries(entries(n=2, prefix="r-")[3:])
    seal(sealed)
    cp, fresh = sign_latest(sealed, ORIGIN, new)
    assert fresh and record.from_size < cp.size
    with pytest.raises(SigningRefused, match="rotated out"):
        sign_latest(sealed, ORIGIN, log_key.key)
    with sealed.snapshot() as cur:
        _, records = log.key_records(cur)
        first = next(iter(log.iter_checkpoints(cur)))
    history, problems = check_history(records)
    assert not problems and len(history.keys) == 2
    assert history.keys_for(first.size) == [parse_vkey(log_key.vkey)]
    assert history.keys_for(cp.size) == [parse_vkey(log_vkey(ORIGIN, new))]
    for trusted in (log_key.vkey, log_vkey(ORIGIN, new)):
        chain, report = verify_store(sealed, [parse_vkey(trusted)])
        assert chain.intact and not report.findings and report.keys_trusted
        assert report.checkpoints == 2


def test_a_forged_rotation_is_not_accepted(sealed: LogDB, store_url: str, log_key: LogKey,
                                           tmp_path: Path) -> None:
    """A key added to the history without the previous key's signature breaks the history."""
    from audit.keyhistory import introduce

    forged = introduce(ORIGIN, create_key_file(tmp_path / "f", ORIGIN), 0)  # self-signed only
    execute(store_url, "INSERT INTO fundledger_log_keys (seq, origin, vkey, from_size, "
                       "statement, created) VALUES (2, ?, ?, ?, ?, 'now')",
            (ORIGIN, forged.vkey, forged.from_size, forged.statement))
    chain, report = verify_store(sealed, [parse_vkey(log_key.vkey)])
    assert chain.intact and "keys" in report.findings.checks
