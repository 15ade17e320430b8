"""Check the Merkle proof verifiers against the shared RFC 6962 inclusion/consistency vectors.

The vectors (Apache-2.0, see the LICENSE beside them) live in the shared test-data tree,
found relative to this file or through FUNDLEDGER_TESTDATA. Each JSON file is one test.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path
from typing import Any

import pytest

from audit.merkle import (
    MemoryTree,
    ProofError,
    leaf_hash,
    require_consistency,
    require_inclusion,
    verify_consistency,
    verify_inclusion,
)


def _vector_dir() -> Path:
    base = os.environ.get("FUNDLEDGER_TESTDATA")
    if base:
        return Path(base) / "rfc6962"
    # A copy ships in tests/data (Apache-2.0, its LICENSE beside it), so a clone tests alone.
    return Path(__file__).resolve().parents[1] / "data" / "rfc6962"


VECTOR_DIR = _vector_dir()


def _b64(value: str | None) -> bytes:
    return b"" if value is None else base64.b64decode(value)


def _proof(vector: dict[str, Any]) -> list[bytes]:
    return [_b64(p) for p in vector["proof"] or []]


def _files(kind: str) -> list[Path]:
    found = sorted((VECTOR_DIR / kind).rglob("*.json"))
    # An empty parameter list would make pytest skip the test; a missing path fails it.
    return found or [VECTOR_DIR / kind / "MISSING.json"]


def test_vector_directory_is_present_and_complete() -> None:
    """The vectors must exist: a missing directory fails instead of skipping silently."""
    assert VECTOR_DIR.is_dir(), f"RFC 6962 vectors not found at {VECTOR_DIR}"
    assert (VECTOR_DIR / "LICENSE").is_file()
    assert len(list((VECTOR_DIR / "inclusion").rglob("*.json"))) >= 90
    assert len(list((VECTOR_DIR / "consistency").rglob("*.json"))) >= 90


@pytest.mark.parametrize("path", _files("inclusion"), ids=lambda p: str(p.relative_to(VECTOR_DIR)))
def test_inclusion_vector(path: Path) -> None:
    """Happy-path inclusion vectors verify; every corrupted one is rejected."""
    v = json.loads(path.read_text())
    args = (_b64(v["leafHash"]), v["leafIdx"], v["treeSize"], _proof(v), _b64(v["root"]))
    assert verify_inclusion(*args) is (not v["wantErr"]), v["desc"]
    if v["wantErr"]:
        with pytest.raises(ProofError):
            require_inclusion(*args)
    else:
        require_inclusion(*args)


@pytest.mark.parametrize(
    "path", _files("consistency"), ids=lambda p: str(p.relative_to(VECTOR_DIR))
)
def test_consistency_vector(path: Path) -> None:
    """Happy-path consistency vectors verify; every corrupted one is rejected."""
    v = json.loads(path.read_text())
    args = (v["size1"], v["size2"], _b64(v["root1"]), _b64(v["root2"]), _proof(v))
    assert verify_consistency(*args) is (not v["wantErr"]), v["desc"]
    if v["wantErr"]:
        with pytest.raises(ProofError):
            require_consistency(*args)
    else:
        require_consistency(*args)


# The RFC 6962 reference tree (used by CT implementations' tests): the happy-path vectors
# are proofs in the tree of these eight leaves, so our builder must reproduce them exactly.
REFERENCE_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]


def _happy_vectors(kind: str) -> list[dict[str, Any]]:
    vectors = [json.loads(p.read_text()) for p in (VECTOR_DIR / kind).rglob("*.json")]
    return [v for v in vectors if not v["wantErr"] and (v.get("treeSize") or v.get("size2"))]


def test_built_proofs_equal_happy_path_vectors() -> None:
    """Proofs built from the reference tree are byte-identical to every happy-path vector."""
    tree = MemoryTree(leaf_hash(leaf) for leaf in REFERENCE_LEAVES)
    checked = 0
    for v in _happy_vectors("inclusion"):
        if (
            v["treeSize"] <= tree.size
            and v["leafHash"] == base64.b64encode(tree.node(0, v["leafIdx"])).decode()
        ):
            assert tree.root(v["treeSize"]) == _b64(v["root"])
            assert tree.inclusion_proof(v["leafIdx"], v["treeSize"]) == _proof(v)
            checked += 1
    for v in _happy_vectors("consistency"):
        if v["size2"] <= tree.size and tree.root(v["size1"]) == _b64(v["root1"]):
            assert tree.root(v["size2"]) == _b64(v["root2"])
            assert tree.consistency_proof(v["size1"], v["size2"]) == _proof(v)
            checked += 1
    assert checked >= 8
