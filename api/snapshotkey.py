"""The snapshot key: 32 random bytes in a file of mode 0600 that the application process reads
and the database role cannot (docs/audit.md, "Snapshots"): made by `fundledger keys
snapshot-init`, read by `api.wiring` when it opens the ledger.

The file is written whole or not at all: the bytes go to a temporary file beside it, are
flushed to disk, and the temporary file is then linked to the final name (which must not
exist: a key is never overwritten).
"""

from __future__ import annotations

import os
import secrets
import stat
from contextlib import suppress
from pathlib import Path

from ledger.snapshots import SNAPSHOT_KEY_BYTES

KEY_FILE_MODE = 0o600


class SnapshotKeyError(OSError):
    """A snapshot key file is missing, exists already, is readable by others, or is not
    32 bytes. The message is in Chinese and English."""


def create_snapshot_key(path: Path) -> None:
    """Write a new key to `path` (mode 0600), atomically; refuse to overwrite."""
    if path.exists() or path.is_symlink():
        raise SnapshotKeyError(f"{path} 已存在，密钥从不覆盖 / {path} exists already; a key is "
                               "never overwritten")
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
        try:
            os.fchmod(fd, KEY_FILE_MODE)  # whatever the umask
            if os.write(fd, secrets.token_bytes(SNAPSHOT_KEY_BYTES)) != SNAPSHOT_KEY_BYTES:
                raise SnapshotKeyError(f"无法完整写入 {tmp} / short write to {tmp}")
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(tmp, path)  # fails if the name was taken meanwhile: never overwrite
    except FileExistsError:
        raise SnapshotKeyError(f"{path} 已存在，密钥从不覆盖 / {path} exists already; a key is "
                               "never overwritten") from None
    except SnapshotKeyError:
        raise
    except OSError as e:
        raise SnapshotKeyError(f"无法写入快照密钥 {path}：{e.strerror} / cannot write the "
                               f"snapshot key {path}: {e.strerror}") from None
    finally:
        with suppress(OSError):
            tmp.unlink()


def load_snapshot_key(path: Path) -> bytes:
    """The key in `path`, a file that only its owner can read, of exactly 32 bytes."""
    try:
        st = path.stat()
    except OSError as e:
        raise SnapshotKeyError(f"无法读取快照密钥文件 {path}：{e.strerror} / cannot read the "
                               f"snapshot key file {path}: {e.strerror}") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        mode = f"{stat.S_IMODE(st.st_mode):04o}"
        raise SnapshotKeyError(
            f"快照密钥文件 {path} 可被其他用户访问（权限 {mode}），拒绝使用：chmod 600 {path} / "
            f"{path} is accessible by group or others (mode {mode}); refusing to use it: "
            f"chmod 600 {path}")
    if not stat.S_ISREG(st.st_mode) or st.st_size != SNAPSHOT_KEY_BYTES:
        raise SnapshotKeyError(
            f"快照密钥文件 {path} 应为 {SNAPSHOT_KEY_BYTES} 字节的普通文件 / {path} is not a "
            f"snapshot key: a regular file of {SNAPSHOT_KEY_BYTES} bytes is expected")
    try:
        return path.read_bytes()
    except OSError as e:
        raise SnapshotKeyError(f"无法读取快照密钥文件 {path}：{e.strerror} / cannot read the "
                               f"snapshot key file {path}: {e.strerror}") from None
