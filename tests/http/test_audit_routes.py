"""The signed log over HTTP: the checkpoint, an entry's receipt (verified offline as the
auditor would), inclusion and consistency proofs, leaves; refusals as problems."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from audit.db import LogDB
from audit.keyfile import create_key_file, log_vkey
from audit.sealer import seal
from audit.signing import sign_latest
from tests.conftest import COUNTY, PROGRAMME
from tests.http.conftest import Api
from tests.http.test_writes import DISBURSEMENT, _funded

ORIGIN = "fundledger.test/log"


def _get(api: Api, who: str, path: str, **params: Any) -> Any:
    return api.client.get(path, params=params,
                          headers={"Authorization": f"Bearer {api.tokens[who]}"})


@pytest.fixture
def signed(api: Api, store_url: str, tmp_path: Path) -> tuple[Api, str]:
    """A county officer's entries, sealed and signed; (api, the log's verifier key)."""
    _funded(api)
    assert api.post("county", "/disbursements", DISBURSEMENT).status_code == 201
    key = create_key_file(tmp_path / "log.key", ORIGIN)
    with LogDB(store_url) as db:
        seal(db)
        sign_latest(db, ORIGIN, key)
    return api, log_vkey(ORIGIN, key)


def test_a_receipt_fetched_over_http_verifies_offline(signed: tuple[Api, str],
                                                      tmp_path: Path) -> None:
    api, vkey = signed
    r = _get(api, "county", "/v1/audit/receipts/D1", programme=PROGRAMME, county=COUNTY)
    assert r.status_code == 200, r.text
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(r.json()), "utf-8")
    out = subprocess.run([sys.executable, "-m", "audit.offline", str(path), "--key", vkey],
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert _get(api, "other_county", "/v1/audit/receipts/D1", programme=PROGRAMME,
                county=COUNTY).status_code == 403


def test_checkpoint_proofs_and_leaves(signed: tuple[Api, str]) -> None:
    api, _ = signed
    r = _get(api, "auditor", "/v1/audit/checkpoint")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    lines = r.text.splitlines()
    assert lines[0] == ORIGIN and lines[1].isdigit() and "— " + ORIGIN in r.text
    size = int(lines[1])
    doc = _get(api, "reviewer", "/v1/audit/proofs/inclusion", index=0, size=size).json()
    assert doc["tree_size"] == size and isinstance(doc["proof"], list)
    doc = _get(api, "reviewer", "/v1/audit/proofs/consistency", **{"from": 1, "to": size})
    assert doc.status_code == 200 and doc.json()["from_size"] == 1
    leaves = _get(api, "auditor", "/v1/audit/leaves", start=0, end=size).json()["leaves"]
    assert [x["leaf_index"] for x in leaves] == list(range(size))
    assert all(len(x["event_hash"]) == 64 for x in leaves)


@pytest.mark.parametrize(("path", "params", "status", "code"), [
    ("/v1/audit/proofs/inclusion", {"index": 10_000}, 422, "PROOF_OUT_OF_RANGE"),
    ("/v1/audit/proofs/inclusion", {"index": -1}, 422, None),
    ("/v1/audit/proofs/consistency", {"from": 10_000}, 422, "PROOF_OUT_OF_RANGE"),
    ("/v1/audit/leaves", {"start": 5, "end": 5}, 422, "LEAVES_RANGE_INVALID"),
    ("/v1/audit/leaves", {"start": 0, "end": 5000}, 422, "LEAVES_RANGE_INVALID"),
    ("/v1/audit/receipts/NOPE", {"programme": PROGRAMME, "county": COUNTY}, 404, "NO_RECEIPT"),
])
def test_bad_audit_reads_are_problems(signed: tuple[Api, str], path: str,
                                      params: dict[str, Any], status: int,
                                      code: str | None) -> None:
    api, _ = signed
    r = _get(api, "auditor", path, **params)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    if code:
        assert r.json()["code"] == code


def test_before_any_checkpoint(api: Api) -> None:
    r = _get(api, "auditor", "/v1/audit/checkpoint")
    assert r.status_code == 404 and r.json()["code"] == "NO_CHECKPOINT"
    r = _get(api, "county", "/v1/audit/receipts/A1", programme=PROGRAMME, county=COUNTY)
    assert r.status_code == 404 and r.json()["code"] == "NO_RECEIPT"


def test_an_exported_bundle_verifies_offline(signed: tuple[Api, str], tmp_path: Path) -> None:
    """GET /v1/audit/export streams a tar.gz of the county's bundle; fundledger-verify checks
    it offline with the log's key; a county token gets only its own county."""
    api, vkey = signed
    r = _get(api, "county", "/v1/audit/export", programme=PROGRAMME, county=COUNTY)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/gzip"
    archive = tmp_path / "b.tar.gz"
    archive.write_bytes(r.content)
    with tarfile.open(archive) as tar:
        tar.extractall(tmp_path / "x", filter="data")
    out = subprocess.run([sys.executable, "-m", "audit.offline", str(tmp_path / "x" / "bundle"),
                          "--key", vkey], capture_output=True, text=True, timeout=120,
                         check=False)
    assert out.returncode == 0 and "VERIFIED" in out.stdout, out.stdout + out.stderr
    assert _get(api, "county", "/v1/audit/export").status_code == 403  # the whole log
    assert _get(api, "other_county", "/v1/audit/export", county=COUNTY).status_code == 403
    assert _get(api, "auditor", "/v1/audit/export", county="441499").status_code == 404
    assert _get(api, "auditor", "/v1/audit/export", until="2020-13-01").status_code == 422
