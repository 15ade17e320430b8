"""A new SQLite store and its -wal/-shm files are readable by their owner only (mode 0600),
whatever the umask. (PostgreSQL keeps its files in the server's own data directory.)"""

from __future__ import annotations

import datetime as dt
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from api.cli import cli
from ledger.application import FundLedger
from ledger.errors import UnknownProgramme
from ledger.stores import store_env
from tests.conftest import PROGRAMME, PROVINCE

PROV = ["--actor-id", "p1", "--role", "province", "--scope", "440000"]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o002, 0o000])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The usual umask, a group-writable one, and none at all."""
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def test_init_creates_a_private_store_with_private_wal(tmp_path: Path, umask: int) -> None:
    """`fundledger init` makes ledger.db 0600; while a writer has it open, -wal and -shm are
    0600 too; no other local user can read the ledger."""
    db = tmp_path / "ledger.db"
    r = CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", "init", "--total", "100000000",
                                 "--date", "2020-03-01", *PROV], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert mode(db) == 0o600
    app = FundLedger(store_env(f"sqlite:///{db}"))
    try:
        app.admit_county(PROGRAMME, "441423", "丰顺县", 10_000_000_00, "文号1", PROVINCE,
                         dt.date(2020, 3, 2))
        wal, shm = Path(f"{db}-wal"), Path(f"{db}-shm")
        assert wal.exists() and shm.exists()
        assert (mode(db), mode(wal), mode(shm)) == (0o600, 0o600, 0o600)
        group_or_other = stat.S_IRWXG | stat.S_IRWXO
        assert not any(p.stat().st_mode & group_or_other for p in (db, wal, shm))
    finally:
        app.close()


def test_a_store_opened_by_the_library_directly_is_private(tmp_path: Path, umask: int) -> None:
    """Any opener that goes through the store URL (scripts, tests, the projections) gets the
    same: the file is created by the store layer before SQLite sees it."""
    db = tmp_path / "sub.db"
    app = FundLedger(store_env(f"sqlite:///{db}"))
    try:
        assert mode(db) == 0o600
        with pytest.raises(UnknownProgramme):
            app.programme(PROGRAMME)  # a read: connects, finds no programme
        assert mode(db) == 0o600 and mode(Path(f"{db}-wal")) == 0o600
    finally:
        app.close()


def test_an_existing_store_keeps_its_mode(tmp_path: Path) -> None:
    """An existing file is opened, not recreated: its content and mode are the operator's."""
    db = tmp_path / "old.db"
    app = FundLedger(store_env(f"sqlite:///{db}"))
    app.close()
    db.chmod(0o640)
    app = FundLedger(store_env(f"sqlite:///{db}"))
    try:
        assert mode(db) == 0o640
    finally:
        app.close()


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="needs root to act as another local user")
def test_another_local_user_cannot_read_the_store(umask: int) -> None:
    """The attack itself: a local user (`nobody`) in a world-readable directory tries to read
    the ledger, its WAL and its shared memory while a writer has them open: refused."""
    directory = Path(tempfile.mkdtemp(prefix="fl-perm-", dir="/tmp"))
    directory.chmod(0o755)  # the directory does not protect the files: their mode must
    db = directory / "ledger.db"
    app = FundLedger(store_env(f"sqlite:///{db}"))  # holds the WAL open while others write
    try:
        CliRunner().invoke(cli, ["--db", f"sqlite:///{db}", "init", "--total", "100000000",
                                 "--date", "2020-03-01", *PROV], catch_exceptions=False)
        paths = [db, Path(f"{db}-wal"), Path(f"{db}-shm")]
        assert all(p.exists() for p in paths)
        probe = ('for p; do if head -c1 "$p" >/dev/null 2>&1; then echo READ; '
                 'else echo DENIED; fi; done')
        out = subprocess.run(["/bin/sh", "-c", probe, "sh", *map(str, paths)], check=True,
                             capture_output=True, text=True, timeout=60, cwd="/",
                             preexec_fn=_as_nobody).stdout.split("\n")
        assert [line.split()[0] for line in out if line] == ["DENIED"] * 3, out
    finally:
        app.close()
        shutil.rmtree(directory)


def _as_nobody() -> None:
    nobody = pwd.getpwnam("nobody")
    os.setgroups([])
    os.setgid(nobody.pw_gid)
    os.setuid(nobody.pw_uid)
