"""`fundledger keys init` never leaves a partial or empty key file: the key is written to a
temporary file, synced, and linked into place; a failure at any step leaves nothing behind and
says so in Chinese and English (exit 2). An existing file is never overwritten."""

from __future__ import annotations

import errno
import os
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from api.cli import cli
from audit.keyfile import KeyFileError, create_key_file, load_key_file

ORIGIN = "fundledger.test/log"


def keys_init(out: Path) -> Any:
    return CliRunner().invoke(cli, ["--db", "sqlite:///unused.db", "keys", "init", "--out",
                                    str(out), "--origin", ORIGIN])


def full_disk(*_: Any) -> int:
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def assert_refused_cleanly(r: Any, directory: Path) -> None:
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
    assert "无法写入密钥文件" in r.output and "cannot write the key file" in r.output
    assert "no file was left" in r.output
    assert list(directory.iterdir()) == [], "a partial or temporary key file was left"


def test_keys_init_writes_a_complete_private_key(tmp_path: Path) -> None:
    """The normal case: one file, mode 0600, that loads; no temporary file beside it."""
    out = tmp_path / "log.key"
    r = keys_init(out)
    assert r.exit_code == 0, r.output
    assert [p.name for p in tmp_path.iterdir()] == ["log.key"]
    assert out.stat().st_mode & 0o777 == 0o600
    name, _ = load_key_file(out)
    assert name == ORIGIN and r.stdout.strip().startswith(ORIGIN + "+")


def test_disk_full_on_write_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ENOSPC on the first write: exit 2, both languages, no key file, no temporary file."""
    monkeypatch.setattr(os, "write", full_disk)
    r = keys_init(tmp_path / "log.key")
    monkeypatch.undo()
    assert_refused_cleanly(r, tmp_path)
    assert "No space left" in r.output


def test_disk_full_half_way_leaves_no_file(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A short first write (half the key) and ENOSPC on the rest: nothing is left."""
    real_write = os.write
    calls: list[int] = []

    def short_then_full(fd: int, data: Any) -> int:
        calls.append(fd)
        if len(calls) == 1:
            return real_write(fd, bytes(data[: len(data) // 2]))
        return full_disk()

    monkeypatch.setattr(os, "write", short_then_full)
    r = keys_init(tmp_path / "log.key")
    monkeypatch.undo()
    assert len(calls) == 2
    assert_refused_cleanly(r, tmp_path)


def test_failed_sync_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An I/O error when syncing the key to disk: the key was never published."""
    def io_error(*_: Any) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "fsync", io_error)
    r = keys_init(tmp_path / "log.key")
    monkeypatch.undo()
    assert_refused_cleanly(r, tmp_path)


def test_file_size_limit_from_the_kernel_leaves_no_file(tmp_path: Path) -> None:
    """A real failing write, in a fresh process: the file-size limit set to 0 bytes makes the
    kernel refuse the write (EFBIG; Python ignores SIGXFSZ). Exit 2, nothing left."""
    out = tmp_path / "log.key"

    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))

    proc = subprocess.run(
        [sys.executable, "-m", "api.cli", "keys", "init", "--out", str(out)],
        capture_output=True, text=True, check=False, timeout=60, preexec_fn=limit_file_size,
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "无法写入密钥文件" in proc.stderr and "cannot write the key file" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    """Even an empty file (what a full disk left behind before this fix) is refused, in both
    languages, and left as it is."""
    out = tmp_path / "log.key"
    out.write_bytes(b"")
    r = keys_init(out)
    assert r.exit_code == 2
    assert "已存在" in r.output and "never overwritten" in r.output
    assert out.read_bytes() == b"" and [p.name for p in tmp_path.iterdir()] == ["log.key"]
    with pytest.raises(KeyFileError, match="never overwritten"):
        create_key_file(out, ORIGIN)


def test_a_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    """--out in a directory that does not exist: exit 2, both languages, no traceback."""
    r = keys_init(tmp_path / "nope" / "log.key")
    assert r.exit_code == 2 and "cannot write the key file" in r.output
    assert "无法写入密钥文件" in r.output and not (tmp_path / "nope").exists()
