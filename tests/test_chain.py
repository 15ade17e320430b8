"""The hash chain's encoding: the documented vectors, and the fast encoder against RFC 8785."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.chain import (
    GENESIS_HASH,
    TIMESTAMP_FORMAT,
    _stdlib_canonical,
    canonical_bytes,
    check_subset,
    event_hash,
    format_timestamp,
    hash_document,
    reference_canonical_bytes,
)

VECTORS = json.loads((Path(__file__).parent / "data" / "chain_vectors.json").read_text("utf-8"))
DOC = (Path(__file__).parents[1] / "docs" / "chain.md").read_text("utf-8")


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v["input"]["event_type"])
def test_vector_bytes_and_hash(vector: dict[str, Any]) -> None:
    """Each vector's canonical bytes and SHA-256 are reproduced, by both encoders."""
    doc = hash_document(**vector["input"])
    assert doc == vector["canonical"]
    expected = bytes.fromhex(vector["canonical_utf8_hex"])
    assert canonical_bytes(doc) == expected == reference_canonical_bytes(doc)
    assert hashlib.sha256(expected).hexdigest() == vector["sha256"]
    assert event_hash(**vector["input"]) == vector["sha256"]


def test_vectors_are_the_documented_ones_and_chain() -> None:
    """docs/chain.md shows exactly these bytes and hashes, and the vectors form one chain."""
    assert VECTORS[0]["input"]["prev_hash"] == GENESIS_HASH
    for before, after in itertools.pairwise(VECTORS):
        assert after["input"]["prev_hash"] == before["sha256"]
    for v in VECTORS:
        assert v["sha256"] in DOC
        assert bytes.fromhex(v["canonical_utf8_hex"]).decode() in DOC


def test_any_field_change_changes_the_hash() -> None:
    """Changing the amount, the stream, the version or the timestamp gives another hash."""
    base = dict(VECTORS[1]["input"])
    h = event_hash(**base)
    variants = [
        {**base, "data": {**base["data"], "amount_fen": base["data"]["amount_fen"] + 1}},
        {**base, "stream_id": "00000000-0000-0000-0000-000000000000"},
        {**base, "version": base["version"] + 1},
        {**base, "timestamp": base["timestamp"].replace("345678", "345679")},
        {**base, "prev_hash": GENESIS_HASH},
        {**base, "event_type": "CountyFund.ExpenditureRecorded"},
    ]
    assert all(event_hash(**v) != h for v in variants)


def test_subset_rejects_floats_big_integers_and_non_ascii_keys() -> None:
    """The schema subset: no floats, integers below 2**53, ASCII keys."""
    for bad in ({"a": 1.5}, {"a": 2**53}, {"键": 1}, {"a": [object()]}):
        with pytest.raises(ValueError):
            check_subset(bad)
    check_subset({"a": [1, "x", None, True, {"b": -(2**53) + 1}]})


_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**53) + 1, 2**53 - 1), st.text(max_size=40)
)
_keys = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12)
_docs = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(_keys, children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(_docs)
def test_fast_encoders_equal_rfc8785_on_the_subset(doc: Any) -> None:
    """orjson (sorted keys) and the stdlib form give RFC 8785's bytes on any subset document."""
    expected = reference_canonical_bytes(doc)
    assert canonical_bytes(doc) == expected
    assert _stdlib_canonical(doc) == expected


@settings(max_examples=200, deadline=None)
@given(st.datetimes(
    min_value=dt.datetime(1001, 1, 1), max_value=dt.datetime(9998, 12, 31),
    timezones=st.builds(dt.timezone, st.timedeltas(min_value=-dt.timedelta(hours=23),
                                                   max_value=dt.timedelta(hours=23))),
))
def test_timestamps_have_the_fixed_utc_form(when: dt.datetime) -> None:
    """Timestamps are always YYYY-MM-DDTHH:MM:SS.ffffffZ in UTC, whatever the input zone."""
    text = format_timestamp(when)
    assert len(text) == 27 and text.endswith("Z")
    assert text == when.astimezone(dt.UTC).strftime(TIMESTAMP_FORMAT)
    assert dt.datetime.fromisoformat(text) == when
