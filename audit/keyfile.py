"""Key files: an Ed25519 signing key in the signed-note `PRIVATE+KEY+...` form, mode 0600.

A key file that others could read is refused: whoever reads it can sign checkpoints in the
log's (or a witness's) name.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from contextlib import suppress
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
from ledger.errors import LedgerError

KEY_FILE_MODE = 0o600
KEY_FILE_MAX_BYTES = 4096


class KeyFileError(LedgerError):
    """A key file is missing, exists already, is readable by others, is malformed, or cannot be
    written; or the key's name is not a valid signed-note key name. An I/O error."""

    code = "KEY_FILE_UNUSABLE"
    rule = "io"
    template_zh = "{why_zh}"  # each names the file `path` where it reads best
    template_en = "{why_en}"


def create_key_file(path: Path, name: str) -> Ed25519PrivateKey:
    """Make a new Ed25519 key named `name` in a new file of mode 0600; refuse to overwrite.

    The key is written to a temporary file (mode 0600) in the same directory, synced to disk,
    then linked to `path` in one step, which fails if `path` exists: a failure at any point
    (a full disk, say) leaves no file at `path` and no temporary file, never a partial key.
    """
    try:
        validate_key_name(name)
    except NoteError as e:
        raise KeyFileError.of("name", path=str(path), why_zh=f"密钥名称无效：{e}",
                              why_en=f"invalid key name: {e}") from None
    if os.path.lexists(path):
        raise _exists(path)
    key = Ed25519PrivateKey.generate()
    content = (format_skey(name, key) + "\n").encode("ascii")
    directory = path.parent if str(path.parent) else Path(".")
    tmp = ""
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, KEY_FILE_MODE)  # mkstemp makes it 0600 already; whatever the umask
            _write_all(fd, content)
            os.fsync(fd)
        finally:
            os.close(fd)
        _publish(tmp, path)
        _sync_directory(directory)
    except KeyFileError:
        raise
    except OSError as e:
        cause = e.strerror or str(e)
        raise KeyFileError.of("key", path=str(path), why_zh=f"无法写入密钥文件 {path}：{cause}；"
                                                           "未留下任何文件",
                              why_en=f"cannot write the key file {path}: {cause}; no file "
                                     "was left",
                              cause=cause) from None
    finally:
        if tmp:
            with suppress(FileNotFoundError):
                os.unlink(tmp)
    return key


def _exists(path: Path) -> KeyFileError:
    return KeyFileError.of("key", path=str(path), why_zh=f"{path} 已存在，密钥从不覆盖",
                           why_en=f"{path} exists already; a key is never overwritten")


def _write_all(fd: int, content: bytes) -> None:
    view = memoryview(content)
    while view:
        view = view[os.write(fd, view):]


def _publish(tmp: str, path: Path) -> None:
    """Give the complete temporary file its final name, never replacing an existing file."""
    try:
        os.link(tmp, path)  # atomic, and fails if `path` exists (rename would replace it)
    except FileExistsError:
        raise _exists(path) from None
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
            raise
        # A file system without hard links: check, then rename (a narrow race, not a partial
        # file: the rename itself is atomic).
        if os.path.lexists(path):
            raise _exists(path) from None
        os.rename(tmp, path)


def _sync_directory(directory: Path) -> None:
    """Make the new name durable (a crash after this keeps the file)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return  # not every platform opens directories; the file itself is synced
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the file itself is synced
    finally:
        os.close(fd)


def load_key_file(path: Path) -> tuple[str, Ed25519PrivateKey]:
    """(name, key) from a key file that only its owner can read."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise KeyFileError.of("key", path=str(path), why_zh=f"没有密钥文件 {path}",
                              why_en=f"no key file at {path}") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        mode = f"{stat.S_IMODE(st.st_mode):04o}"
        raise KeyFileError.of("key", path=str(path), mode=mode,
                              why_zh=f"{path} 可被同组或其他用户访问（权限 {mode}），拒绝使用："
                                     f"chmod 600 {path}",
                              why_en=f"{path} is accessible by group or others (mode {mode}); "
                                     f"refusing to use it: chmod 600 {path}")
    if st.st_size > KEY_FILE_MAX_BYTES:
        raise KeyFileError.of("key", path=str(path), size_bytes=st.st_size,
                              max_bytes=KEY_FILE_MAX_BYTES,
                              why_zh=f"{path} 有 {st.st_size} 字节，超过密钥文件上限 "
                                     f"{KEY_FILE_MAX_BYTES} 字节",
                              why_en=f"{path} is too large to be a key file ({st.st_size} "
                                     f"bytes, at most {KEY_FILE_MAX_BYTES})")
    try:
        return parse_skey(path.read_text("ascii").strip())
    except (NoteError, UnicodeDecodeError) as e:
        raise KeyFileError.of("key", path=str(path), why_zh=f"{path} 不是签名注记格式的私钥：{e}",
                              why_en=f"{path} is not a signed-note private key: {e}") from None


def log_vkey(name: str, key: Ed25519PrivateKey) -> str:
    """The verifier key of a log key (note signature type 0x01)."""
    return format_vkey(name, public_key_bytes(key), SIG_TYPE_ED25519)


def cosigner_vkey(name: str, key: Ed25519PrivateKey) -> str:
    """The verifier key of a witness key (tlog-cosignature type 0x04)."""
    return format_vkey(name, public_key_bytes(key), SIG_TYPE_COSIGNATURE_V1)
