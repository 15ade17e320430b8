"""C2SP signed notes (c2sp.org/signed-note) with Ed25519 keys: key IDs, vkeys, sign, verify.

A note is text ending in a newline, a blank line, and signature lines ``— <name> <base64>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = [
    "ED25519_KEY_SIZE",
    "ED25519_SIG_SIZE",
    "MAX_SIGNATURES",
    "SIG_TYPE_COSIGNATURE_V1",
    "SIG_TYPE_ED25519",
    "InvalidSignatureError",
    "KeyFormatError",
    "MalformedNoteError",
    "NoteError",
    "NoteSignature",
    "UnverifiedNoteError",
    "VerifierKey",
    "decode_base64",
    "format_skey",
    "format_vkey",
    "key_id",
    "open_note",
    "parse_note",
    "parse_signature_line",
    "parse_skey",
    "parse_vkey",
    "public_key_bytes",
    "sign_note",
    "signature_line",
    "validate_key_name",
    "verify_ed25519",
    "verify_note",
]

SIG_TYPE_ED25519 = 0x01
SIG_TYPE_COSIGNATURE_V1 = 0x04  # c2sp.org/tlog-cosignature, Ed25519 with a timestamp
ED25519_KEY_SIZE = 32
ED25519_SIG_SIZE = 64
# The spec asks verifiers to cap signatures (and accept at least 16); Go's note package uses 100.
MAX_SIGNATURES = 100

_SIG_PREFIX = "\u2014 "  # em dash, space
_SKEY_PREFIX = "PRIVATE+KEY+"
_KEY_ID_SIZE = 4
_ED25519_TYPES = (SIG_TYPE_ED25519, SIG_TYPE_COSIGNATURE_V1)


class NoteError(ValueError):
    """Base class of every signed-note failure; the message says what was wrong (in English,
    after the specification). A plain standard-library error on purpose: the offline verifier
    uses this module and imports nothing of the application; online edges map it to
    `audit.errors.NoteInvalid` (see that module's docstring)."""


class MalformedNoteError(NoteError):
    """The note (or a signature line) does not follow the signed-note format."""


class KeyFormatError(NoteError):
    """A vkey or skey string is malformed or its key ID does not match the key."""


class InvalidSignatureError(NoteError):
    """A signature from a known key failed to verify, so the whole note is rejected."""


class UnverifiedNoteError(NoteError):
    """No signature in the note is from a known key (unknown signatures are ignored)."""


@dataclass(frozen=True)
class VerifierKey:
    """A named public key of one signature type; the (name, key ID) pair identifies it."""

    name: str
    public_key: bytes
    sig_type: int = SIG_TYPE_ED25519

    def __post_init__(self) -> None:
        validate_key_name(self.name)
        if self.sig_type not in _ED25519_TYPES:
            raise KeyFormatError(f"unsupported signature type 0x{self.sig_type:02x}")
        if len(self.public_key) != ED25519_KEY_SIZE:
            raise KeyFormatError(f"Ed25519 public key must be 32 bytes, not {len(self.public_key)}")

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID: SHA-256(name || 0x0A || type || public key)[:4]."""
        return key_id(self.name, self.public_key, self.sig_type)

    def vkey(self) -> str:
        """The ``name+hex(key ID)+base64(type || public key)`` text form."""
        return format_vkey(self.name, self.public_key, self.sig_type)


@dataclass(frozen=True)
class NoteSignature:
    """One parsed signature line: key name, 4-byte key ID and the signature bytes after it."""

    name: str
    key_id: bytes
    signature: bytes

    @property
    def line(self) -> str:
        """The signature line as it appears in a note, without its newline."""
        return signature_line(self.name, self.key_id, self.signature)


# ---------------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------------


def validate_key_name(name: str) -> None:
    """Raise ``KeyFormatError`` unless ``name`` is non-empty with no Unicode space or '+'."""
    if not name:
        raise KeyFormatError("key name is empty")
    for ch in name:
        # Control characters are banned anywhere in a note; spaces and '+' delimit fields.
        if ch.isspace() or ch == "+" or ord(ch) < 0x20:
            raise KeyFormatError(f"key name {name!r} contains the forbidden character {ch!r}")


def key_id(name: str, pubkey: bytes, sig_type: int = SIG_TYPE_ED25519) -> bytes:
    """Return SHA-256(name || 0x0A || sig_type || pubkey)[:4], the recommended key ID."""
    if not 0 <= sig_type <= 0xFF:
        raise ValueError(f"signature type {sig_type} is not a byte")
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + pubkey).digest()
    return digest[:_KEY_ID_SIZE]


def public_key_bytes(private_key: Ed25519PrivateKey) -> bytes:
    """Return the raw 32-byte Ed25519 public key of ``private_key``."""
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def decode_base64(text: str, what: str) -> bytes:
    """Decode standard padded base64, refusing any other spelling of the same bytes.

    Only the canonical encoding is accepted so that one value has exactly one text form.
    """
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise MalformedNoteError(f"{what} is not valid base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise MalformedNoteError(f"{what} is not canonical base64")
    return raw


def format_vkey(name: str, pubkey: bytes, sig_type: int = SIG_TYPE_ED25519) -> str:
    """Return the verifier key text ``name+<8 hex key ID>+base64(sig_type || pubkey)``."""
    key = VerifierKey(name, pubkey, sig_type)
    encoded = base64.b64encode(bytes([sig_type]) + pubkey).decode("ascii")
    return f"{name}+{key.key_id.hex()}+{encoded}"


def _split_key_text(text: str, what: str) -> tuple[str, bytes, int, bytes]:
    """Split ``name+hexid+base64`` into (name, key ID, type, key material), checking syntax."""
    parts = text.split("+", 2)
    if len(parts) != 3:
        raise KeyFormatError(f"{what} must be name+keyid+key")
    name, hex_id, encoded = parts
    validate_key_name(name)
    # Lower-case hex only, as every implementation writes it, so a key has one spelling.
    if len(hex_id) != 8 or any(c not in "0123456789abcdef" for c in hex_id):
        raise KeyFormatError(f"{what} key ID {hex_id!r} is not 8 lower-case hex digits")
    try:
        raw = decode_base64(encoded, f"{what} key data")
    except MalformedNoteError as exc:
        raise KeyFormatError(str(exc)) from None
    if len(raw) < 2:
        raise KeyFormatError(f"{what} key data is too short")
    return name, bytes.fromhex(hex_id), raw[0], raw[1:]


def parse_vkey(vkey: str) -> VerifierKey:
    """Parse a verifier key (type 0x01 or 0x04), checking its key ID against the key."""
    name, kid, sig_type, pubkey = _split_key_text(vkey, "vkey")
    try:
        key = VerifierKey(name, pubkey, sig_type)
    except KeyFormatError as exc:
        raise KeyFormatError(f"vkey: {exc}") from None
    if key.key_id != kid:
        raise KeyFormatError(f"vkey key ID {kid.hex()} does not match the key ({key.key_id.hex()})")
    return key


def format_skey(name: str, private_key: Ed25519PrivateKey) -> str:
    """Return ``PRIVATE+KEY+name+<hex key ID>+base64(0x01 || seed)`` for an Ed25519 key."""
    validate_key_name(name)
    kid = key_id(name, public_key_bytes(private_key))
    seed = private_key.private_bytes_raw()
    encoded = base64.b64encode(bytes([SIG_TYPE_ED25519]) + seed).decode("ascii")
    return f"{_SKEY_PREFIX}{name}+{kid.hex()}+{encoded}"


def parse_skey(skey: str) -> tuple[str, Ed25519PrivateKey]:
    """Parse a signer key into (name, private key); its key ID must match the public key."""
    if not skey.startswith(_SKEY_PREFIX):
        raise KeyFormatError("skey must start with PRIVATE+KEY+")
    name, kid, sig_type, seed = _split_key_text(skey[len(_SKEY_PREFIX) :], "skey")
    if sig_type != SIG_TYPE_ED25519 or len(seed) != ED25519_KEY_SIZE:
        raise KeyFormatError("skey must hold type 0x01 and a 32-byte Ed25519 seed")
    private_key = Ed25519PrivateKey.from_private_bytes(seed)
    # The ID names the public key, which only exists once derived from the seed.
    if key_id(name, public_key_bytes(private_key)) != kid:
        raise KeyFormatError("skey key ID does not match the key")
    return name, private_key


# ---------------------------------------------------------------------------------------------
# Notes
# ---------------------------------------------------------------------------------------------


def _check_note_chars(text: str, what: str) -> None:
    bad = next((ch for ch in text if ord(ch) < 0x20 and ch != "\n"), None)
    if bad is not None:
        raise MalformedNoteError(f"{what} contains the control character {bad!r}")


def signature_line(name: str, kid: bytes, signature: bytes) -> str:
    """Return ``— name base64(kid || signature)`` (no trailing newline)."""
    validate_key_name(name)
    if len(kid) != _KEY_ID_SIZE or not signature:
        raise ValueError("a signature needs a 4-byte key ID and at least one signature byte")
    return f"{_SIG_PREFIX}{name} {base64.b64encode(kid + signature).decode('ascii')}"


def parse_signature_line(line: str) -> NoteSignature:
    """Parse one signature line (without its newline) into a ``NoteSignature``."""
    if not line.startswith(_SIG_PREFIX):
        raise MalformedNoteError(f"signature line {line[:40]!r} does not start with '— '")
    name, sep, encoded = line[len(_SIG_PREFIX) :].partition(" ")
    if not sep:
        raise MalformedNoteError("signature line has no space between name and signature")
    try:
        validate_key_name(name)
    except KeyFormatError as exc:
        raise MalformedNoteError(f"signature line: {exc}") from None
    raw = decode_base64(encoded, f"signature of {name!r}")
    if len(raw) <= _KEY_ID_SIZE:
        raise MalformedNoteError(f"signature of {name!r} is shorter than a key ID plus 1 byte")
    return NoteSignature(name, raw[:_KEY_ID_SIZE], raw[_KEY_ID_SIZE:])


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise MalformedNoteError("note text must end with a newline")
    _check_note_chars(text, "note text")


def parse_note(note: str | bytes) -> tuple[str, list[NoteSignature]]:
    """Split a signed note into its text (with final newline) and its signature lines.

    Checks syntax only; nothing is verified. The text ends at the last blank line.
    """
    try:
        # Round-trip through UTF-8 so a str with lone surrogates is refused as well.
        raw = note if isinstance(note, bytes) else note.encode("utf-8")
        note = raw.decode("utf-8")
    except UnicodeError as exc:
        raise MalformedNoteError("note is not valid UTF-8") from exc
    _check_note_chars(note, "note")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise MalformedNoteError("note needs text, a blank line and newline-ended signatures")
    text, lines = note[: split + 1], note[split + 2 : -1].split("\n")
    if lines == [""]:
        raise MalformedNoteError("note has no signature lines")
    if len(lines) > MAX_SIGNATURES:
        raise MalformedNoteError(f"note has {len(lines)} signatures, more than {MAX_SIGNATURES}")
    return text, [parse_signature_line(line) for line in lines]


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """Return ``text`` signed by an Ed25519 key as a one-signature note."""
    _check_text(text)
    kid = key_id(name, public_key_bytes(private_key))
    line = signature_line(name, kid, private_key.sign(text.encode("utf-8")))
    return f"{text}\n{line}\n"


def _index_verifiers(verifiers: Iterable[VerifierKey]) -> dict[tuple[str, bytes], VerifierKey]:
    known: dict[tuple[str, bytes], VerifierKey] = {}
    for key in verifiers:
        if key.sig_type != SIG_TYPE_ED25519:
            raise NoteError(
                f"key {key.name!r} has type 0x{key.sig_type:02x}; verify cosignatures with "
                "audit.checkpoint.verify_cosignature"
            )
        if (key.name, key.key_id) in known:
            raise NoteError(f"two verifier keys share name {key.name!r} and ID {key.key_id.hex()}")
        known[(key.name, key.key_id)] = key
    return known


def verify_ed25519(public_key: bytes, signature: bytes, message: bytes) -> bool:
    """Return whether ``signature`` is a valid Ed25519 signature of ``message``."""
    if len(signature) != ED25519_SIG_SIZE:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, message)
    except InvalidSignature:
        return False
    return True


def open_note(note: str | bytes, verifiers: Iterable[VerifierKey]) -> tuple[str, list[VerifierKey]]:
    """Verify a note; return its text and the known keys whose signatures verified.

    Signatures whose (name, key ID) match no known key are ignored, as the spec requires.
    Every line from a known key is checked and any failure rejects the note (the spec's
    SHOULD); so does having no verified known signature at all (its MUST).
    """
    text, signatures = parse_note(note)
    known = _index_verifiers(verifiers)
    message = text.encode("utf-8")
    signed_by: list[VerifierKey] = []
    for sig in signatures:
        key = known.get((sig.name, sig.key_id))
        if key is None:
            continue
        if not verify_ed25519(key.public_key, sig.signature, message):
            raise InvalidSignatureError(f"invalid signature by {key.name}+{key.key_id.hex()}")
        if key not in signed_by:
            signed_by.append(key)
    if not signed_by:
        raise UnverifiedNoteError("note has no signature from a known key")
    return text, signed_by


def verify_note(note: str | bytes, verifiers: Iterable[VerifierKey]) -> str:
    """Return the text of ``note`` once a known key's signature verifies (see ``open_note``)."""
    return open_note(note, verifiers)[0]
