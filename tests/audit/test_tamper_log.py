"""Every attack of the tamper drill (scripts/tamper_drill.py), done to the database directly, is
caught by the in-database verifier and by the offline verifier of a bundle exported after it,
each holding the log's key, a checkpoint kept outside the database and the witness's key; every
attack of the drill on a bundle is caught by the offline verifier."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from audit import witness
from audit.bundle import Scope, export
from audit.cpcheck import read_held
from audit.db import LogDB
from audit.errors import AuditError
from audit.note import VerifierKey, parse_vkey
from audit.offline import verify_bundle
from audit.verify import verify_store
from tests.audit.conftest import LogKey
from tests.conftest import COUNTY

ROOT = Path(__file__).resolve().parents[2]


def _drill() -> ModuleType:
    spec = importlib.util.spec_from_file_location("tamper_drill",
                                                  ROOT / "scripts" / "tamper_drill.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["tamper_drill"] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


DRILL = _drill()


def _held(db: LogDB, log_key: LogKey, tmp_path: Path) -> tuple[str, list[VerifierKey]]:
    """A witness cosigns the latest checkpoint; the cosigned note is what an auditor keeps,
    with the witness's key."""
    wdir = tmp_path / "witness"
    wvkey = witness.init(wdir, "city.test/w", log_key.vkey)
    witness.cosign_latest(db, wdir)
    return read_held(witness.load_state(wdir).checkpoint or ""), [parse_vkey(wvkey)]


@pytest.mark.parametrize("name", [name for name, _ in DRILL.ATTACKS])
def test_the_attack_is_detected(name: str, sealed: LogDB, log_key: LogKey, store_url: str,
                                tmp_path: Path) -> None:
    """The untouched store verifies; after the attack both verifiers, given the log's key, the
    witness's key and a checkpoint held outside, report findings. An attack that ends in a
    write asked of the application must see that write refused (then nothing reached the
    events for a bundle to show)."""
    trusted = [parse_vkey(log_key.vkey)]
    held, witnesses = _held(sealed, log_key, tmp_path)
    chain, report = verify_store(sealed, trusted, witnesses, held_note=held)
    assert chain.intact and not report.findings
    attack = dict(DRILL.ATTACKS)[name]
    sealed.close()
    answered = attack(DRILL.Target(store_url, log_key.name, log_key.key, tmp_path))
    assert answered is None or "refused at write" in answered, answered
    with LogDB(store_url) as db:
        chain, report = verify_store(db, trusted, witnesses, held_note=held)
        assert not chain.intact or report.findings, name
        bundle = tmp_path / "bundle"
        try:
            export(db, bundle, Scope())
        except AuditError:
            return  # the store cannot even be exported against a checkpoint: caught
    if answered is not None:
        return
    offline = verify_bundle(bundle, trusted, witnesses, held_note=held)
    assert offline.findings, name


@pytest.mark.parametrize("name", [name for name, _, _ in DRILL.BUNDLE_ATTACKS])
def test_the_bundle_attack_is_detected(name: str, sealed: LogDB, log_key: LogKey,
                                       tmp_path: Path) -> None:
    """A bundle of the untouched store verifies; after the drill's attack on it, it fails."""
    trusted = [parse_vkey(log_key.vkey)]
    held, witnesses = _held(sealed, log_key, tmp_path)
    attack, export_args = {n: (a, e) for n, a, e in DRILL.BUNDLE_ATTACKS}[name]
    bundle = tmp_path / "bundle"
    export(sealed, bundle, Scope(county=COUNTY) if "--county" in export_args else Scope())
    assert not verify_bundle(bundle, trusted, witnesses, held_note=held).findings
    attack(bundle)
    assert "bundle" in verify_bundle(bundle, trusted, witnesses, held_note=held).findings.checks
