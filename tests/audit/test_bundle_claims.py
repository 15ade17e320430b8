"""A bundle proves what its manifest claims: a cut-short full bundle, a held checkpoint beyond
what a bundle covers, a changed README.txt and a county bundle relabelled to another county are
each caught by `fundledger-verify`, exit 1 naming the place (on bundles exported from SQLite
and from PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from audit import witness
from audit.bundle import Scope, export
from audit.db import LogDB
from audit.offline import main as offline_main
from audit.sealer import seal
from audit.signing import sign_latest
from ledger.application import FundLedger
from tests.audit.conftest import SECOND, LogKey, entries
from tests.conftest import COUNTY, PROGRAMME, PROVINCE

CITY = "city.test/meizhou"


def offline(*args: str) -> tuple[int, str]:
    out = StringIO()
    with redirect_stdout(out), pytest.raises(SystemExit) as done:
        offline_main(list(args))
    return int(done.value.code or 0), out.getvalue()


def manifest_of(bundle: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((bundle / "manifest.json").read_text("utf-8"))
    return doc


def rewrite_manifest(bundle: Path, change: Any = None) -> None:
    """As a forger would: apply the change, then list every file's true SHA-256 and size."""
    manifest = manifest_of(bundle)
    if change is not None:
        change(manifest)
    for name in list(manifest["files"]):
        data = (bundle / name).read_bytes()
        manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(),
                                   "bytes": len(data)}
    (bundle / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), "utf-8")


@pytest.fixture
def grown(ledger: FundLedger, db: LogDB, log_key: LogKey, tmp_path: Path) -> dict[str, Any]:
    """A log signed at two sizes, a full bundle exported at each, the newer checkpoint cosigned
    by a witness and held outside (as an auditor would), and the witness's key."""
    seal(db)
    sign_latest(db, log_key.name, log_key.key)
    export(db, tmp_path / "old", Scope())
    ledger.admit_county(PROGRAMME, SECOND, "平远县", 8_000_000_00, "doc-2", PROVINCE,
                        dt.date(2020, 3, 20))
    ledger.import_entries(entries(SECOND, n=4))
    seal(db)
    sign_latest(db, log_key.name, log_key.key)
    wvkey = witness.init(tmp_path / "w", CITY, log_key.vkey)
    cp, _ = witness.cosign_latest(db, tmp_path / "w")
    from audit import log

    with db.snapshot() as cur:
        note = log.cosigned_note(cp.note, log.cosignatures(cur, cp.seq))
    held = tmp_path / "held.txt"
    held.write_text(note, "utf-8")
    export(db, tmp_path / "new", Scope())
    return {"old": tmp_path / "old", "new": tmp_path / "new", "held": str(held),
            "witness": wvkey, "size": cp.size}


def _truncate(new: Path, old: Path, out: Path) -> int:
    """The attack of issue 7: the newest events of a full bundle dropped, the older statements
    copied, prefix_size and prefix_consistency_proof set from checkpoints.jsonl, the manifest's
    counts and SHA-256s rewritten. Returns the prefix kept."""
    shutil.copytree(new, out)
    older = json.loads((out / "checkpoints.jsonl").read_text("utf-8").splitlines()[0])
    k = older["size"]
    for name in ("events.jsonl", "leaves.jsonl"):
        lines = (out / name).read_bytes().splitlines(keepends=True)
        (out / name).write_bytes(b"".join(lines[:k]))
    shutil.copy(old / "statements.json", out / "statements.json")
    streams = len({json.loads(x)["stream_id"] for x in
                   (out / "leaves.jsonl").read_text("utf-8").splitlines()})

    def change(m: dict[str, Any]) -> None:
        m.update(prefix_size=k, prefix_consistency_proof=older["consistency_proof"], events=k,
                 streams=streams)

    rewrite_manifest(out, change)
    return k


def test_a_cut_short_full_bundle_fails(grown: dict[str, Any], log_key: LogKey,
                                       tmp_path: Path) -> None:
    """The untouched bundle verifies with --key --witness --since; the cut-short one fails,
    naming the manifest's prefix_size and the held checkpoint it cannot show."""
    args = ["--key", log_key.vkey, "--witness", grown["witness"], "--since", grown["held"]]
    code, out = offline(str(grown["new"]), *args)
    assert code == 0 and "VERIFIED" in out, out
    k = _truncate(grown["new"], grown["old"], tmp_path / "cut")
    assert 0 < k < grown["size"]
    code, out = offline(str(tmp_path / "cut"), *args)
    assert code == 1 and "VERIFIED" not in out, out
    assert f"[bundle] manifest.json prefix_size: the bundle holds the log's first {k} " \
           f"leaves of the checkpoint's {grown['size']}" in out
    assert f"[held] held checkpoint (size {grown['size']}): the held checkpoint covers" in out
    code, out = offline(str(tmp_path / "cut"), "--key", log_key.vkey)  # nothing held: still
    assert code == 1 and "it was cut short" in out


@pytest.mark.parametrize("until", ["2999-01-01", "2000-01-01"])
def test_a_cut_short_bundle_relabelled_until_a_date_fails(
        grown: dict[str, Any], log_key: LogKey, tmp_path: Path, until: str) -> None:
    """The forger also states an `until` date: no boundary.json proves where the date ends
    (a far date), or the events were recorded after it (an early one)."""
    _truncate(grown["new"], grown["old"], tmp_path / "cut")
    rewrite_manifest(tmp_path / "cut", lambda m: m["scope"].update(until=until))
    code, out = offline(str(tmp_path / "cut"), "--key", log_key.vkey)
    assert code == 1, out
    if until == "2999-01-01":
        assert "[bundle] boundary.json: the bundle stops at leaf" in out
    else:
        assert "events were recorded after the `until` date" in out


def test_an_until_bundle_proves_its_boundary_and_a_larger_held_checkpoint_fails(
        grown: dict[str, Any], db: LogDB, log_key: LogKey, tmp_path: Path) -> None:
    """An honest --until bundle that stops early verifies (its boundary.json proves the first
    event left out is at its place and after the date); a checkpoint held beyond it is a
    finding, not a pass; a boundary moved to another event fails."""
    manifest = export(db, tmp_path / "u", Scope(until=dt.date(2000, 1, 1)))
    assert manifest["prefix_size"] == 0 and "boundary.json" in manifest["files"]
    assert offline(str(tmp_path / "u"), "--key", log_key.vkey)[0] == 0
    code, out = offline(str(tmp_path / "u"), "--key", log_key.vkey, "--since", grown["held"])
    assert code == 1 and "[held] held checkpoint (size" in out, out
    doc = json.loads((tmp_path / "u" / "boundary.json").read_text("utf-8"))
    doc["leaf_index"] = 1
    (tmp_path / "u" / "boundary.json").write_text(json.dumps(doc), "utf-8")
    rewrite_manifest(tmp_path / "u")
    code, out = offline(str(tmp_path / "u"), "--key", log_key.vkey)
    assert code == 1 and "[bundle] boundary.json" in out, out


def test_a_changed_readme_fails(grown: dict[str, Any], log_key: LogKey) -> None:
    """README.txt's SHA-256 in the manifest is checked like every other file's."""
    readme = grown["new"] / "README.txt"
    readme.write_text(readme.read_text("utf-8").replace("--key", "--no-key"), "utf-8")
    code, out = offline(str(grown["new"]), "--key", log_key.vkey)
    assert code == 1 and "[bundle] README.txt: the file's SHA-256 does not match" in out, out


def test_a_file_the_manifest_lists_outside_the_bundle_is_refused(grown: dict[str, Any],
                                                                 log_key: LogKey) -> None:
    """A listed name that is not a file of the bundle directory is a finding, never read."""
    rewrite_manifest(grown["new"])
    manifest = manifest_of(grown["new"])
    manifest["files"]["../held.txt"] = {"sha256": "0" * 64, "bytes": 1}
    (grown["new"] / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    code, out = offline(str(grown["new"]), "--key", log_key.vkey)
    assert code == 1 and "[bundle] ../held.txt: a name in the manifest is not a file" in out


def test_a_relabelled_county_bundle_fails_and_its_false_county_is_not_shown_as_fact(
        grown: dict[str, Any], db: LogDB, log_key: LogKey, tmp_path: Path) -> None:
    """County 441426's bundle relabelled 441423 in its manifest (SHA-256s rewritten): exit 1
    naming the manifest's scope and the county its events hold."""
    bundle = tmp_path / "county"
    export(db, bundle, Scope(county=SECOND))
    code, out = offline(str(bundle), "--key", log_key.vkey)
    assert code == 0 and f"county {SECOND}" in out, out
    rewrite_manifest(bundle, lambda m: m["scope"].update(county=COUNTY))
    code, out = offline(str(bundle), "--key", log_key.vkey)
    assert code == 1, out
    assert f"[bundle] manifest.json scope: the manifest states programme - county {COUNTY}, " \
           f"but the bundle's events are of: {PROGRAMME} {SECOND}" in out
    header = out.splitlines()[0]
    assert f"county {COUNTY}" in header and "NOT what its events hold" in header
    rewrite_manifest(bundle, lambda m: m["scope"].update(county=SECOND, programme="gd-2099"))
    code, out = offline(str(bundle), "--key", log_key.vkey)
    assert code == 1 and "[bundle] manifest.json scope" in out
    rewrite_manifest(bundle, lambda m: m["scope"].update(programme=None, full=True, county=None))
    assert offline(str(bundle), "--key", log_key.vkey)[0] == 1  # not a full log either


def test_a_manifest_origin_other_than_the_logs_fails(grown: dict[str, Any],
                                                     log_key: LogKey) -> None:
    rewrite_manifest(grown["new"], lambda m: m.update(origin="other.example/log"))
    code, out = offline(str(grown["new"]), "--key", log_key.vkey)
    assert code == 1 and "[bundle] manifest.json origin" in out


@pytest.mark.parametrize("change", [{"prefix_size": None}, {"scope": []}, {"files": "x"},
                                    {"events": True}, {"scope": {"full": "yes"}}])
def test_a_manifest_member_of_the_wrong_type_is_unreadable_not_a_crash(
        grown: dict[str, Any], log_key: LogKey, change: dict[str, Any]) -> None:
    """Exit 2 with a message naming the member, never a traceback."""
    manifest = manifest_of(grown["new"])
    manifest.update(change)
    (grown["new"] / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    code, _ = offline(str(grown["new"]), "--key", log_key.vkey)
    assert code == 2


def test_a_county_bundle_until_before_its_admission_verifies(
        grown: dict[str, Any], db: LogDB, log_key: LogKey, tmp_path: Path) -> None:
    """Honest exports whose scope holds no county stream yet are not findings."""
    ts = [json.loads(x)["timestamp"] for x in
          (grown["new"] / "events.jsonl").read_text("utf-8").splitlines()]
    day = dt.date.fromisoformat(ts[0][:10]) - dt.timedelta(days=1)
    for scope in (Scope(county=SECOND, until=day), Scope(county="449999")):
        bundle = tmp_path / f"b-{scope.county}"
        export(db, bundle, scope)
        code, out = offline(str(bundle), "--key", log_key.vkey)
        assert code == 0, out
