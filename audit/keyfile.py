"""Key files: an Ed25519 signing key in the signed-note `PRIVATE+KEY+...` form, mode 0600.

A key file that others could read is refused: whoever reads it can sign checkpoints in the
log's (or a witness's) name.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.note import (
    SIG_TYPE_COSIGNATURE_V1,
    SIG_TYPE_ED25519,
    NoteError,
    format_skey,
    format_vkey,
    parse_skey,
    public_key_bytes,
    validate_key_name,
)

KEY_FILE_MODE = 0o600
KEY_FILE_MAX_BYTES = 4096


class KeyFileError(OSError):
    """A key file is missing, exists already, is readable by others, or is malformed."""


def create_key_file(path: Path, name: str) -> Ed25519PrivateKey:
    """Make a new Ed25519 key named `name` in a new file of mode 0600; refuse to overwrite."""
    try:
        validate_key_name(name)
    except NoteError as e:
        raise KeyFileError(f"invalid key name: {e}") from None
    key = Ed25519PrivateKey.generate()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError:
        raise KeyFileError(f"{path} exists already; a key is never overwritten") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        os.fchmod(f.fileno(), KEY_FILE_MODE)  # whatever the umask
        f.write(format_skey(name, key) + "\n")
    return key


def load_key_file(path: Path) -> tuple[str, Ed25519PrivateKey]:
    """(name, key) from a key file that only its owner can read."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise KeyFileError(f"no key file at {path}") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"{path} is accessible by group or others (mode {stat.S_IMODE(st.st_mode):04o}); "
            f"refusing to use it: chmod 600 {path}")
    if st.st_size > KEY_FILE_MAX_BYTES:
        raise KeyFileError(f"{path} is too large to be a key file")
    try:
        return parse_skey(path.read_text("ascii").strip())
    except (NoteError, UnicodeDecodeError) as e:
        raise KeyFileError(f"{path} is not a signed-note private key: {e}") from None


def log_vkey(name: str, key: Ed25519PrivateKey) -> str:
    """The verifier key of a log key (note signature type 0x01)."""
    return format_vkey(name, public_key_bytes(key), SIG_TYPE_ED25519)


def cosigner_vkey(name: str, key: Ed25519PrivateKey) -> str:
    """The verifier key of a witness key (tlog-cosignature type 0x04)."""
    return format_vkey(name, public_key_bytes(key), SIG_TYPE_COSIGNATURE_V1)
