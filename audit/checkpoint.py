"""C2SP transparency-log checkpoints (c2sp.org/tlog-checkpoint) and Ed25519 cosignatures.

A checkpoint is the signed-note text ``origin\\nsize\\nbase64(root)\\n`` plus optional extension
lines; a cosignature (c2sp.org/tlog-cosignature, type 0x04) is a timestamped witness signature.
"""

from __future__ import annotations

import base64
import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.merkle import HASH_SIZE, MAX_TREE_SIZE
from audit.note import (
    ED25519_SIG_SIZE,
    SIG_TYPE_COSIGNATURE_V1,
    InvalidSignatureError,
    MalformedNoteError,
    NoteError,
    NoteSignature,
    VerifierKey,
    decode_base64,
    key_id,
    open_note,
    parse_note,
    parse_signature_line,
    public_key_bytes,
    sign_note,
    signature_line,
    verify_ed25519,
)

__all__ = [
    "COSIGNATURE_HEADER",
    "MAX_TIMESTAMP",
    "Checkpoint",
    "CheckpointError",
    "CosignatureError",
    "cosign",
    "cosignature_key_id",
    "cosignature_message",
    "parse_checkpoint_body",
    "sign_checkpoint",
    "verify_checkpoint",
    "verify_cosignature",
    "verify_cosignatures",
]

COSIGNATURE_HEADER = "cosignature/v1"
MAX_TIMESTAMP = 2**63 - 1  # the spec caps the u64 timestamp at 2^63 - 1
# ASCII digits only: str.isdigit() would also accept other scripts' digits.
_SIZE_RE = re.compile(r"0|[1-9][0-9]*", re.ASCII)
_COSIG_SIZE = 4 + 8 + ED25519_SIG_SIZE  # key ID || u64 timestamp || Ed25519 signature


class CheckpointError(NoteError):
    """A checkpoint body is malformed; the message names the offending line."""


class CosignatureError(NoteError):
    """A cosignature line is malformed, from another key, or does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    """The tree head a log commits to: origin, tree size, root hash, extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_line(self.origin, "origin")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointError(f"tree size {self.size} is not a uint64")
        if len(self.root) != HASH_SIZE:
            raise CheckpointError(f"root hash must be {HASH_SIZE} bytes, not {len(self.root)}")
        for line in self.extensions:
            _check_line(line, "extension line")

    def format_body(self) -> str:
        """Return the note text: origin, size, base64 root and extensions, each + newline."""
        root_b64 = base64.b64encode(self.root).decode("ascii")
        lines = (self.origin, str(self.size), root_b64, *self.extensions)
        return "".join(f"{line}\n" for line in lines)


def _check_line(line: str, what: str) -> None:
    """Body lines must be non-empty and free of newlines and control characters."""
    if not line:
        raise CheckpointError(f"{what} is empty")
    if any(ord(ch) < 0x20 for ch in line):
        raise CheckpointError(f"{what} {line[:40]!r} contains a control character")


def parse_checkpoint_body(text: str) -> Checkpoint:
    """Parse and strictly validate a checkpoint note text (as returned by ``verify_note``)."""
    if not text.endswith("\n"):
        raise CheckpointError("checkpoint body must end with a newline")
    lines = text[:-1].split("\n")
    if len(lines) < 3:
        raise CheckpointError("checkpoint body needs origin, size and root lines")
    origin, size_text, root_text, *extensions = lines
    if not _SIZE_RE.fullmatch(size_text):
        raise CheckpointError(f"tree size {size_text[:40]!r} is not a decimal without leading 0")
    try:
        root = decode_base64(root_text, "root hash")
    except MalformedNoteError as exc:
        raise CheckpointError(str(exc)) from None
    return Checkpoint(origin, int(size_text), root, tuple(extensions))


def sign_checkpoint(checkpoint: Checkpoint, name: str, private_key: Ed25519PrivateKey) -> str:
    """Return the checkpoint as a note signed by the log's Ed25519 key (type 0x01)."""
    return sign_note(checkpoint.format_body(), name, private_key)


def verify_checkpoint(note: str | bytes, log_keys: Iterable[VerifierKey]) -> Checkpoint:
    """Verify a checkpoint note against the log's keys and return the parsed checkpoint.

    Cosignature lines are ignored here (their key IDs differ); see ``verify_cosignatures``.
    """
    return parse_checkpoint_body(open_note(note, log_keys)[0])


# ---------------------------------------------------------------------------------------------
# Cosignatures (tlog-cosignature, Ed25519 "cosignature/v1", signature type 0x04)
# ---------------------------------------------------------------------------------------------


def cosignature_key_id(name: str, pubkey: bytes) -> bytes:
    """Return SHA-256(name || 0x0A || 0x04 || pubkey)[:4], the cosigner's key ID."""
    return key_id(name, pubkey, SIG_TYPE_COSIGNATURE_V1)


def cosignature_message(body_text: str, timestamp: int) -> bytes:
    """Return the signed message: ``cosignature/v1\\ntime <timestamp>\\n`` then the body."""
    parse_checkpoint_body(body_text)  # only a well-formed checkpoint may be cosigned
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise CosignatureError(f"timestamp {timestamp} is outside 0..2^63-1")
    return f"{COSIGNATURE_HEADER}\ntime {timestamp}\n{body_text}".encode()


def cosign(body_text: str, name: str, private_key: Ed25519PrivateKey, timestamp: int) -> str:
    """Return the cosignature line ``— name base64(keyid || u64 time || sig)`` for a body."""
    message = cosignature_message(body_text, timestamp)
    kid = cosignature_key_id(name, public_key_bytes(private_key))
    payload = struct.pack(">Q", timestamp) + private_key.sign(message)
    return signature_line(name, kid, payload)


def _check_cosignature(body_text: str, sig: NoteSignature, name: str, pubkey: bytes) -> int:
    """Verify one parsed cosignature by (name, pubkey); return its timestamp."""
    if sig.name != name or sig.key_id != cosignature_key_id(name, pubkey):
        raise CosignatureError(f"signature line is not from cosigner {name!r} with this key")
    if len(sig.key_id) + len(sig.signature) != _COSIG_SIZE:
        raise CosignatureError(f"cosignature by {name!r} is not {_COSIG_SIZE} bytes")
    (timestamp,) = struct.unpack(">Q", sig.signature[:8])
    message = cosignature_message(body_text, timestamp)
    if not verify_ed25519(pubkey, sig.signature[8:], message):
        raise InvalidSignatureError(f"invalid cosignature by {name!r} at time {timestamp}")
    return int(timestamp)


def verify_cosignature(body_text: str, line: str, name: str, pubkey: bytes) -> int:
    """Verify one cosignature line over a checkpoint body; return its unix timestamp.

    Raises ``CosignatureError`` (or ``InvalidSignatureError``, both ``NoteError``) on failure.
    """
    key = VerifierKey(name, pubkey, SIG_TYPE_COSIGNATURE_V1)  # validates name and key size
    try:
        sig = parse_signature_line(line.removesuffix("\n"))
    except MalformedNoteError as exc:
        raise CosignatureError(f"malformed cosignature line: {exc}") from None
    return _check_cosignature(body_text, sig, key.name, key.public_key)


def verify_cosignatures(note: str | bytes, cosigners: Iterable[VerifierKey]) -> dict[str, int]:
    """Verify the cosignatures in a checkpoint note by known cosigners (type 0x04 keys).

    Returns {cosigner name: timestamp} for those that signed (the last line wins if one
    signed twice). Other lines are ignored, but a failing known cosigner line rejects the
    note. The log's own signature is not checked here: call ``verify_checkpoint`` as well.
    """
    body, signatures = parse_note(note)
    known: dict[tuple[str, bytes], VerifierKey] = {}
    for cosigner in cosigners:
        if cosigner.sig_type != SIG_TYPE_COSIGNATURE_V1:
            raise CosignatureError(f"cosigner key {cosigner.name!r} is not of type 0x04")
        known[(cosigner.name, cosigner.key_id)] = cosigner
    stamps: dict[str, int] = {}
    for sig in signatures:
        key = known.get((sig.name, sig.key_id))
        if key is not None:
            stamps[key.name] = _check_cosignature(body, sig, key.name, key.public_key)
    return stamps
