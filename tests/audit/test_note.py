"""Tests of audit.note (C2SP signed notes) and audit.checkpoint (checkpoints, cosignatures).

Published vectors: the golang.org/x/mod/sumdb/note package documentation example
(PeterNeumann / EnochRoot keys and notes), the signed-note spec's example verifier key, and a
real checkpoint of the arche2025h1 staging CT log cosigned by the remora.n621.de witness.
"""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit.checkpoint import (
    MAX_TIMESTAMP,
    Checkpoint,
    CheckpointError,
    CosignatureError,
    cosign,
    cosignature_key_id,
    parse_checkpoint_body,
    sign_checkpoint,
    verify_checkpoint,
    verify_cosignature,
    verify_cosignatures,
)
from audit.note import (
    MAX_SIGNATURES,
    SIG_TYPE_COSIGNATURE_V1,
    InvalidSignatureError,
    KeyFormatError,
    MalformedNoteError,
    NoteError,
    UnverifiedNoteError,
    VerifierKey,
    format_skey,
    format_vkey,
    key_id,
    open_note,
    parse_note,
    parse_skey,
    parse_vkey,
    public_key_bytes,
    sign_note,
    signature_line,
    verify_note,
)

GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_LINE = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdng"
    "otpRZb6KE6RyyBwJnAM="
)
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
ENOCH_LINE = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox"
    "33WWd1RvMc+QQ="
)
GO_NOTE = f"{GO_TEXT}\n{PETER_LINE}\n"
SPEC_EXAMPLE_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"

REAL_LOG_VKEY = (
    "arche2025h1.staging.ct.transparency.dev+ba2f06c0+AU0vHmlGCS/PdN8b2OaGmKprLI8HKM+dJ472xgFYh15f"
)
REMORA_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
REAL_CHECKPOINT = """\
arche2025h1.staging.ct.transparency.dev
1432088532
U7WM79jrzyhGZ5/GUBTpM7NzwdyfFx61t3RovgcC4Ro=

— arche2025h1.staging.ct.transparency.dev zTM8sQAAAZ5W0WdjBAMARjBEAiBjW5IQf9pvsYLfQFX6hoGREPMHbdQ3urbllzalApkptQIgIpwtEroeW2BXaHAI4kJXFbon5Ch9MNL5zRNZ55lvGt0=
— arche2025h1.staging.ct.transparency.dev ui8GwCF1+kWqZrxGdhj4aX3gcw7XUlXQQabg/27lefwhUkzbC3NygNI75MdhL1bfTW9g8Ei59RA23oHP7Ry1k3ZFWwQ=
— transparency.dev/DEV:witness-little-garden 2AQqhwAAAABqEiEgzgFIqqhbUoDwjMWE6UP8nd8/KYTzwZ2rhIgcqoXHAwVkjZr4AscylP3v7sEodkRAErumC2q44vdgJY096st5BQ==
— witness1.smartit.nu/witness1 pIyCDwAAAABqEiEghIp82KWebrw7/oHQwlTAm3g2RKS4+eebl8eO0WH+/iEcxZ75W3u5hNI7TOQtmJbqmNWVuE0tgh0XwzdZsDsUAQ==
— remora.n621.de 2net5wAAAABqEiEgPlfF3V06o0Y+fHM+J5J9s27wgxxcOVSpZ/2g/KSiXCg9DEZI+aVCIobWX9sXTynk5XeU/zZ0WBxtqB0DrAWfBw==
— witness.stagemole.eu Z/euoAAAAABqEiEgw0i+7g2ENfDAWHmtRzCfKTHSDwYDJA2NmKeGi9Y8FtEyOUvVr+AJmIY/2TUFucgKi7lI7cUiOvKFYe/TmN9DAg==
"""  # noqa: E501 (signature lines are data and cannot be wrapped)
REAL_BODY = REAL_CHECKPOINT.split("\n\n", maxsplit=1)[0] + "\n"

ROOT = hashlib.sha256(b"root").digest()
ROOT_B64 = base64.b64encode(ROOT).decode()
URLSAFE_ROOT_B64 = base64.urlsafe_b64encode(b"\xff" * 32).decode()


def new_key(seed: int) -> Ed25519PrivateKey:
    """A deterministic test key."""
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


def vkey_of(name: str, key: Ed25519PrivateKey, sig_type: int = 0x01) -> VerifierKey:
    return VerifierKey(name, public_key_bytes(key), sig_type)


# ---------------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------------


def test_key_id_is_truncated_sha256_of_name_newline_type_key() -> None:
    """key ID = SHA-256(name || 0x0A || type || pubkey)[:4], for types 0x01 and 0x04."""
    pub = bytes(range(32))
    for sig_type in (0x01, 0x04):
        want = hashlib.sha256(b"example.com/log\n" + bytes([sig_type]) + pub).digest()[:4]
        assert key_id("example.com/log", pub, sig_type) == want
    assert key_id("a", pub) != key_id("a", pub, 0x04)


@pytest.mark.parametrize(
    ("vkey", "name", "hex_id", "sig_type"),
    [
        (PETER_VKEY, "PeterNeumann", "c74f20a3", 0x01),
        (ENOCH_VKEY, "EnochRoot", "af0cfe78", 0x01),
        (SPEC_EXAMPLE_VKEY, "example.com/foo", "530d903a", 0x01),
        (REMORA_VKEY, "remora.n621.de", "da77ade7", 0x04),
    ],
)
def test_published_vkeys_parse_and_reformat(
    vkey: str, name: str, hex_id: str, sig_type: int
) -> None:
    """Published verifier keys parse, their key IDs match our computation, and they reformat
    byte for byte."""
    key = parse_vkey(vkey)
    assert (key.name, key.key_id.hex(), key.sig_type) == (name, hex_id, sig_type)
    assert key_id(name, key.public_key, sig_type).hex() == hex_id
    assert format_vkey(name, key.public_key, sig_type) == vkey == key.vkey()


def test_go_example_skey_signs_the_published_note() -> None:
    """The Go sumdb/note example skey reproduces the published signed note exactly (Ed25519
    is deterministic), formats back to the same skey, and matches the published vkey."""
    name, private_key = parse_skey(PETER_SKEY)
    assert name == "PeterNeumann"
    assert format_skey(name, private_key) == PETER_SKEY
    assert format_vkey(name, public_key_bytes(private_key)) == PETER_VKEY
    assert sign_note(GO_TEXT, name, private_key) == GO_NOTE


@pytest.mark.parametrize(
    "vkey",
    [
        PETER_VKEY.replace("c74f20a3", "c74f20a4"),  # key ID does not match the key
        PETER_VKEY.replace("c74f20a3", "C74F20A3"),  # upper-case hex
        PETER_VKEY.replace("c74f20a3", "c74f20a"),  # 7 digits
        PETER_VKEY.replace("PeterNeumann", "Peter Neumann"),  # space in name
        PETER_VKEY.replace("PeterNeumann", ""),  # empty name
        "PeterNeumann+c74f20a3",  # no key
        PETER_VKEY + "=",  # bad base64
        PETER_VKEY[:-1],  # truncated base64
        format_vkey("x", bytes(32)).replace("+AQAA", "+AgAA"),  # unknown type 0x02
        "x+" + key_id("x", b"\x00" * 31).hex() + "+" + base64.b64encode(bytes(32)).decode(),
    ],
)
def test_malformed_vkeys_are_rejected(vkey: str) -> None:
    """vkeys with a wrong ID, bad hex, bad name, bad base64, unknown type or short key fail."""
    with pytest.raises(KeyFormatError):
        parse_vkey(vkey)


@pytest.mark.parametrize(
    "skey",
    [
        PETER_SKEY.removeprefix("PRIVATE+KEY+"),
        PETER_SKEY.replace("c74f20a3", "00000000"),
        PETER_SKEY.replace("PRIVATE+KEY", "PRIVATE+KYE"),
        PETER_SKEY[:-4],
    ],
)
def test_malformed_skeys_are_rejected(skey: str) -> None:
    """skeys without the prefix, with a wrong key ID or truncated key data fail."""
    with pytest.raises(KeyFormatError):
        parse_skey(skey)


# ---------------------------------------------------------------------------------------------
# Notes
# ---------------------------------------------------------------------------------------------


def test_go_example_notes_verify() -> None:
    """The published single and double signed notes verify; each known signer is reported."""
    peter, enoch = parse_vkey(PETER_VKEY), parse_vkey(ENOCH_VKEY)
    assert verify_note(GO_NOTE, [peter]) == GO_TEXT
    double = f"{GO_TEXT}\n{PETER_LINE}\n{ENOCH_LINE}\n"
    assert open_note(double, [enoch, peter]) == (GO_TEXT, [peter, enoch])
    assert open_note(double, [enoch]) == (GO_TEXT, [enoch])
    assert verify_note(double.encode(), [peter]) == GO_TEXT


def test_sign_verify_round_trip_with_blank_lines_in_text() -> None:
    """A fresh key signs and verifies; text may contain blank lines (split at the last one)."""
    key = new_key(1)
    text = "first paragraph\n\nsecond paragraph — with UTF-8 中文\n"
    note = sign_note(text, "example.com/log", key)
    assert parse_note(note)[0] == text
    assert verify_note(note, [vkey_of("example.com/log", key)]) == text


def test_tampered_body_is_rejected() -> None:
    """Changing one character of the text makes the known signature fail."""
    tampered = GO_NOTE.replace("problem,", "problem;")
    with pytest.raises(InvalidSignatureError):
        verify_note(tampered, [parse_vkey(PETER_VKEY)])


def test_bad_signature_is_rejected() -> None:
    """A corrupted signature from a known key rejects the note, even beside a good one."""
    sig = parse_note(GO_NOTE)[1][0]
    bad = signature_line(sig.name, sig.key_id, bytes([sig.signature[0] ^ 1]) + sig.signature[1:])
    with pytest.raises(InvalidSignatureError):
        verify_note(f"{GO_TEXT}\n{bad}\n", [parse_vkey(PETER_VKEY)])
    with pytest.raises(InvalidSignatureError):
        verify_note(f"{GO_TEXT}\n{PETER_LINE}\n{bad}\n", [parse_vkey(PETER_VKEY)])
    short = signature_line(sig.name, sig.key_id, sig.signature[:63])
    with pytest.raises(InvalidSignatureError):
        verify_note(f"{GO_TEXT}\n{short}\n", [parse_vkey(PETER_VKEY)])


def test_only_unknown_signatures_is_rejected() -> None:
    """A note signed only by keys we do not know is rejected as unverified."""
    with pytest.raises(UnverifiedNoteError):
        verify_note(GO_NOTE, [parse_vkey(ENOCH_VKEY)])
    with pytest.raises(UnverifiedNoteError):
        verify_note(GO_NOTE, [])


def test_unknown_signatures_are_ignored_even_sharing_name_or_id() -> None:
    """Lines from unknown keys are skipped: other names, or our name with another key ID."""
    key, other = new_key(2), new_key(3)
    note = sign_note(GO_TEXT, "log", key)
    impostor = sign_note(GO_TEXT, "log", other).split("\n\n")[1]  # same name, other ID
    stranger = f"— stranger {base64.b64encode(b'1234' + bytes(64)).decode()}\n"
    combined = f"{note}{impostor}{stranger}"
    assert open_note(combined, [vkey_of("log", key)]) == (GO_TEXT, [vkey_of("log", key)])


@pytest.mark.parametrize(
    "note",
    [
        GO_TEXT + PETER_LINE + "\n",  # no blank line
        GO_NOTE[:-1],  # no final newline
        GO_TEXT + "\n",  # no signature lines
        GO_NOTE + "\n",  # blank line after the signatures
        GO_NOTE.replace("—", "-"),  # hyphen instead of em dash
        GO_NOTE.replace("— ", "—"),  # no space after the dash
        GO_NOTE.replace("PeterNeumann x08", "PeterNeumann  x08"),  # double space
        GO_NOTE.replace("PeterNeumann x08", "Peter+Neumann x08"),  # '+' in name
        GO_NOTE.replace("x08go/", "x08go*"),  # not base64
        GO_NOTE.replace("nAM=\n", "nAN=\n"),  # non-canonical base64 (spare bits)
        GO_NOTE.replace("nAM=\n", "nAM\n"),  # missing padding
        f"{GO_TEXT}\n— PeterNeumann AAAAAA==\n",  # key ID with no signature bytes
        GO_NOTE.replace("problem,", "problem,\r"),  # control character
        GO_NOTE.replace("problem,", "problem,\t"),  # tab is a control character too
        GO_NOTE.replace("problem,", "problem,\ud800"),  # lone surrogate: not UTF-8
        GO_NOTE.encode().replace(b"problem,", b"problem,\xff"),  # invalid UTF-8 bytes
        GO_TEXT + "\n" + (PETER_LINE + "\n") * (MAX_SIGNATURES + 1),  # too many signatures
    ],
    ids=[
        "no-blank-line",
        "no-final-newline",
        "no-signatures",
        "trailing-blank-line",
        "hyphen-not-em-dash",
        "no-space-after-dash",
        "double-space",
        "plus-in-name",
        "not-base64",
        "non-canonical-base64",
        "unpadded-base64",
        "key-id-only",
        "carriage-return",
        "tab",
        "lone-surrogate",
        "invalid-utf8",
        "too-many-signatures",
    ],
)
def test_malformed_notes_are_rejected(note: str | bytes) -> None:
    """Syntax errors anywhere in a note raise MalformedNoteError before any verification."""
    assert note not in (GO_NOTE, GO_NOTE.encode())  # each case really changes the note
    with pytest.raises(MalformedNoteError):
        verify_note(note, [parse_vkey(PETER_VKEY)])


def test_up_to_the_signature_limit_is_accepted() -> None:
    """Exactly MAX_SIGNATURES (100, well above the spec's minimum of 16) lines still verify."""
    note = GO_TEXT + "\n" + (PETER_LINE + "\n") * MAX_SIGNATURES
    assert verify_note(note, [parse_vkey(PETER_VKEY)]) == GO_TEXT


@pytest.mark.parametrize(
    ("text", "name"), [("no newline", "log"), ("a\rb\n", "log"), ("ok\n", "bad name"), ("ok\n", "")]
)
def test_sign_note_rejects_bad_text_or_name(text: str, name: str) -> None:
    """Signing needs newline-terminated text without control characters and a valid name."""
    with pytest.raises(NoteError):
        sign_note(text, name, new_key(4))


def test_verifier_list_must_be_unambiguous_ed25519() -> None:
    """Duplicate (name, ID) verifiers and cosignature-type keys are refused by verify_note."""
    peter = parse_vkey(PETER_VKEY)
    with pytest.raises(NoteError, match="share name"):
        verify_note(GO_NOTE, [peter, peter])
    with pytest.raises(NoteError, match="type 0x04"):
        verify_note(GO_NOTE, [parse_vkey(REMORA_VKEY)])


# ---------------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------------


def test_checkpoint_format_parse_round_trip() -> None:
    """format_body gives origin/size/base64 root/extensions lines and parses back equal."""
    plain = Checkpoint("example.com/log", 42, ROOT)
    assert plain.format_body() == f"example.com/log\n42\n{ROOT_B64}\n"
    extended = Checkpoint("example.com/log", 0, ROOT, ("ext one", "— ext two"))
    for cp in (plain, extended):
        assert parse_checkpoint_body(cp.format_body()) == cp


@pytest.mark.parametrize(
    "body",
    [
        f"example.com/log\n42\n{ROOT_B64}",  # no final newline
        "example.com/log\n42\n",  # no root line
        f"\n42\n{ROOT_B64}\n",  # empty origin
        f"example.com/log\n042\n{ROOT_B64}\n",  # leading zero
        f"example.com/log\n00\n{ROOT_B64}\n",  # zero spelled twice
        f"example.com/log\n+42\n{ROOT_B64}\n",  # sign
        f"example.com/log\n-1\n{ROOT_B64}\n",  # negative
        f"example.com/log\n 42\n{ROOT_B64}\n",  # space
        f"example.com/log\n4_2\n{ROOT_B64}\n",  # Python int() would accept this
        f"example.com/log\n٤٢\n{ROOT_B64}\n",  # Arabic-Indic digits: not ASCII
        f"example.com/log\n\n{ROOT_B64}\n",  # empty size
        f"example.com/log\n{2**64}\n{ROOT_B64}\n",  # beyond uint64
        f"example.com/log\n42\n{base64.b64encode(ROOT[:31]).decode()}\n",  # 31-byte root
        f"example.com/log\n42\n{ROOT_B64.rstrip('=')}\n",  # unpadded base64
        f"example.com/log\n42\n{URLSAFE_ROOT_B64}\n",  # url-safe alphabet
        f"example.com/log\n42\n{ROOT_B64}\n\n",  # empty extension line
        f"example.com/log\n42\n{ROOT_B64}\next\r\n",  # control character in extension
    ],
)
def test_checkpoint_body_strict_rejections(body: str) -> None:
    """Malformed checkpoint bodies raise CheckpointError."""
    with pytest.raises(CheckpointError):
        parse_checkpoint_body(body)


def test_checkpoint_constructor_validates_fields() -> None:
    """Checkpoint refuses a short root, negative size, empty origin or a newline in a line."""
    for args in [("o", 1, ROOT[:31]), ("o", -1, ROOT), ("", 1, ROOT), ("o\nx", 1, ROOT)]:
        with pytest.raises(CheckpointError):
            Checkpoint(*args)
    with pytest.raises(CheckpointError):
        Checkpoint("o", 1, ROOT, ("a\nb",))


def test_signed_checkpoint_round_trip() -> None:
    """A checkpoint signed by the log key verifies back to an equal Checkpoint."""
    key = new_key(5)
    cp = Checkpoint("example.com/log", 7, ROOT)
    note = sign_checkpoint(cp, "example.com/log", key)
    assert verify_checkpoint(note, [vkey_of("example.com/log", key)]) == cp


def test_real_world_checkpoint_and_cosignature_verify() -> None:
    """A published CT staging checkpoint verifies with the log's key, and its remora.n621.de
    cosignature (type 0x04) verifies with the witness's key; other witnesses are ignored."""
    cp = verify_checkpoint(REAL_CHECKPOINT, [parse_vkey(REAL_LOG_VKEY)])
    assert (cp.origin, cp.size) == ("arche2025h1.staging.ct.transparency.dev", 1432088532)
    remora = parse_vkey(REMORA_VKEY)
    assert verify_cosignatures(REAL_CHECKPOINT, [remora]) == {"remora.n621.de": 1779573024}
    line = next(x for x in REAL_CHECKPOINT.splitlines() if x.startswith("— remora"))
    assert verify_cosignature(REAL_BODY, line, remora.name, remora.public_key) == 1779573024
    with pytest.raises(InvalidSignatureError):
        verify_cosignature(
            REAL_BODY.replace("1432088532", "1432088533"), line, remora.name, remora.public_key
        )


# ---------------------------------------------------------------------------------------------
# Cosignatures
# ---------------------------------------------------------------------------------------------

BODY = Checkpoint("example.com/log", 1234, ROOT).format_body()
WITNESS = "witness.example/w1"


def test_cosignature_round_trip_and_wire_format() -> None:
    """A cosignature line is keyid(type 0x04) || u64 BE time || Ed25519 over the spec message
    "cosignature/v1\\ntime <t>\\n" + body, and verify_cosignature returns the time."""
    key = new_key(6)
    pub = public_key_bytes(key)
    line = cosign(BODY, WITNESS, key, 1679315147)
    assert verify_cosignature(BODY, line, WITNESS, pub) == 1679315147
    name, encoded = line.removeprefix("— ").split(" ")
    raw = base64.b64decode(encoded)
    assert name == WITNESS and len(raw) == 4 + 8 + 64
    assert raw[:4] == cosignature_key_id(WITNESS, pub) == key_id(WITNESS, pub, 0x04)
    assert struct.unpack(">Q", raw[4:12]) == (1679315147,)
    message = f"cosignature/v1\ntime 1679315147\n{BODY}".encode()
    Ed25519PublicKey.from_public_bytes(pub).verify(raw[12:], message)  # raises if wrong


def test_cosignature_timestamp_bounds() -> None:
    """Timestamps 0 and 2^63-1 are allowed; negative or larger ones are refused."""
    key = new_key(7)
    pub = public_key_bytes(key)
    for ts in (0, MAX_TIMESTAMP):
        assert verify_cosignature(BODY, cosign(BODY, WITNESS, key, ts), WITNESS, pub) == ts
    for ts in (-1, MAX_TIMESTAMP + 1):
        with pytest.raises(CosignatureError):
            cosign(BODY, WITNESS, key, ts)
    kid = cosignature_key_id(WITNESS, pub)
    too_late = signature_line(WITNESS, kid, struct.pack(">Q", 2**63) + bytes(64))
    with pytest.raises(CosignatureError):
        verify_cosignature(BODY, too_late, WITNESS, pub)


def test_cosignature_tampering_is_rejected() -> None:
    """Another body, timestamp, signature byte, name or key, a type-0x01 key ID, a truncated
    payload or a non-checkpoint body all fail with a NoteError."""
    key = new_key(8)
    pub = public_key_bytes(key)
    line = cosign(BODY, WITNESS, key, 1000)
    raw = base64.b64decode(line.split(" ")[2])
    kid, stamp, sig = raw[:4], raw[4:12], raw[12:]
    other_body = Checkpoint("example.com/log", 1235, ROOT).format_body()
    bad_lines = [
        signature_line(WITNESS, kid, struct.pack(">Q", 1001) + sig),
        signature_line(WITNESS, kid, stamp + bytes([sig[0] ^ 0x80]) + sig[1:]),
        signature_line(WITNESS, key_id(WITNESS, pub), stamp + sig),  # type 0x01 ID
        signature_line(WITNESS, kid, stamp + sig[:63]),
        "- " + line[2:],
    ]
    for bad in bad_lines:
        with pytest.raises(NoteError):
            verify_cosignature(BODY, bad, WITNESS, pub)
    with pytest.raises(NoteError):
        verify_cosignature(other_body, line, WITNESS, pub)
    with pytest.raises(NoteError):
        verify_cosignature(BODY, line, "witness.example/w2", pub)
    with pytest.raises(NoteError):
        verify_cosignature(BODY, line, WITNESS, public_key_bytes(new_key(9)))
    with pytest.raises(NoteError):
        verify_cosignature(BODY, line, WITNESS, pub[:31])
    with pytest.raises(CheckpointError):
        cosign("not a checkpoint\n", WITNESS, key, 1)


def test_cosigned_note_is_checked_per_key_type() -> None:
    """In a log-signed note with appended cosignatures, verify_checkpoint ignores the
    cosignature lines, verify_cosignatures returns each known witness's time, the witness key
    as a plain 0x01 key matches nothing, and one bad known cosignature rejects the note."""
    log_key, w1, w2 = new_key(10), new_key(11), new_key(12)
    cp = Checkpoint("example.com/log", 99, ROOT)
    note = sign_checkpoint(cp, "example.com/log", log_key)
    note += cosign(cp.format_body(), "w1", w1, 100) + "\n" + cosign(cp.format_body(), "w2", w2, 200)
    note += "\n"
    assert verify_checkpoint(note, [vkey_of("example.com/log", log_key)]) == cp
    cosigners = [vkey_of("w1", w1, SIG_TYPE_COSIGNATURE_V1), vkey_of("w2", w2, 0x04)]
    assert verify_cosignatures(note, cosigners) == {"w1": 100, "w2": 200}
    with pytest.raises(UnverifiedNoteError):
        verify_note(note, [vkey_of("w1", w1)])
    with pytest.raises(CosignatureError):
        verify_cosignatures(note, [vkey_of("w1", w1)])
    forged = note.replace(
        cosign(cp.format_body(), "w2", w2, 200),
        cosign(Checkpoint("example.com/log", 98, ROOT).format_body(), "w2", w2, 200),
    )
    with pytest.raises(InvalidSignatureError):
        verify_cosignatures(forged, cosigners)
