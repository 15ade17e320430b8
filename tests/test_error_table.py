"""One error model: every LedgerError class is in the one table (api.errors) with a unique code,
docs/commands.md's exit-code table is the one the table makes, lower layers' errors map to
LedgerErrors, and `except Exception` appears only at a process's (or thread's) top level."""

from __future__ import annotations

import importlib
import pkgutil
import re
import sqlite3
from pathlib import Path

import pytest

import audit.db
import audit.errors
import audit.log
from api import errors as table
from audit.merkle import ProofError
from audit.note import MalformedNoteError
from audit.offline.bundle import BundleUnreadable
from ledger import errors as E

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ledger", "projections", "audit", "api")
# Where `except Exception` may stand, and why: each is the top level of a process or thread.
TOP_LEVELS = {
    "api/cli/app.py": "the CLI process: no traceback for any input",
    "audit/offline/parallel.py": "a worker process of the offline verifier: reports the error",
    "projections/follower.py": "the view follower's thread: keeps the error for `status` and "
                               "retries, the views staying exactly-once",
}


def _all_subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _all_subclasses(sub)
    return found


def _import_every_module() -> None:
    for package in PACKAGES:
        for info in pkgutil.walk_packages([str(ROOT / package)], f"{package}."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)


def test_every_error_class_is_in_the_table_once_with_a_unique_code() -> None:
    """Every LedgerError class with a code of its own, in any module of the four packages, is
    listed in the table (a subclass that keeps its parent's code is that error to the edges,
    answered as its parent); no two listed classes share a code."""
    _import_every_module()
    classes = {c for c in _all_subclasses(E.LedgerError)
               if c.__module__.split(".")[0] in PACKAGES and "code" in vars(c)}
    classes -= set(table.ROOTS)
    missing = {c.__name__ for c in classes} - {c.__name__ for c in table.TABLE}
    assert not missing, f"not in api.errors.TABLE: {sorted(missing)}"
    codes = [c.code for c in table.TABLE]
    assert len(codes) == len(set(codes)), sorted(c for c in codes if codes.count(c) > 1)


def test_the_docs_exit_code_table_is_the_tables() -> None:
    """docs/commands.md holds exactly the table that api.errors makes."""
    docs = (ROOT / "docs" / "commands.md").read_text("utf-8")
    assert table.markdown_table() in docs


def test_exit_codes_as_documented() -> None:
    """1 for a rule violation or failed verification, 2 for what could not be read or done."""
    assert table.exit_code(E.InvalidAmount("amount", "1.234", "原因", "why")) == 1
    assert table.exit_code(audit.log.MissingNode.of("log", level=1, index=2)) == 1
    assert table.exit_code(E.StoreUrlInvalid.of("db", url="x", why_zh="z", why_en="e")) == 2
    assert table.exit_code(audit.db.StoreMissing.of("db", path="/x")) == 2
    assert table.http_status(E.NotPermitted("z", "e")) == 403
    assert table.http_status(E.StoreUnavailable.of("db", what_zh="z", what_en="e",
                                                   cause="c")) == 503


def test_lower_layer_errors_become_ledger_errors() -> None:
    """A store driver's error, a note's and a proof's each become a LedgerError with both
    languages; the number in a template's text is in its details."""
    full = table.ledger_error(sqlite3.OperationalError("database or disk is full"))
    assert isinstance(full, E.StoreUnavailable) and full.zh.startswith("存储空间已满")
    assert full.en.startswith("the disk is full") and full.field == "db"
    note = table.ledger_error(MalformedNoteError("note has no signature lines"))
    assert isinstance(note, audit.errors.NoteInvalid) and table.exit_code(note) == 2
    assert note.en.endswith("note has no signature lines") and "签名注记" in note.zh
    proof = table.ledger_error(ProofError("inclusion proof for leaf 3 of 5: too short"))
    assert isinstance(proof, audit.errors.ProofInvalid) and table.exit_code(proof) == 1
    bundle = table.ledger_error(BundleUnreadable("/b has no readable manifest.json"))
    assert isinstance(bundle, audit.errors.BundleNotReadable) and table.exit_code(bundle) == 2
    assert bundle.code == "BUNDLE_UNREADABLE" and "审计包" in bundle.zh
    missing = audit.log.MissingNode.of("log", level=4, index=7)
    assert missing.details == {"level": 4, "index": 7}
    assert "第 4 层第 7 个" in missing.zh and "level 4, index 7" in missing.en
    with pytest.raises(TypeError):
        table.ledger_error(ValueError("not a lower layer's error"))


def test_except_exception_only_at_a_top_level() -> None:
    """`except Exception` (or a bare `except:`) only where TOP_LEVELS says."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for n, line in enumerate(path.read_text("utf-8").splitlines(), start=1):
                if re.search(r"except\s*(Exception\b|:)", line):
                    found[str(path.relative_to(ROOT))] = n
    assert set(found) == set(TOP_LEVELS), found
