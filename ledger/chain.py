"""The canonical encoding and hash of a chained event (hash format 1).

An event's hash is SHA-256 over the RFC 8785 canonical JSON of one object::

    {"data": {...domain fields, actor, business date...}, "hash_format": 1,
     "prev_hash": "<64 hex>", "stream_id": "<uuid>", "timestamp": "<UTC, fixed format>",
     "type": "<event type>", "version": <int>}

`docs/chain.md` gives the rules and test vectors. This module is imported by the offline
verifier, so it needs nothing but the standard library and the canonical-JSON libraries.
Schema subset: ASCII keys, strings, integers below 2**53, booleans, null, lists, objects; no
floats. On that subset `orjson` (sorted keys) and the standard `json` module produce the same
bytes as the reference `rfc8785` encoder; a property test holds them equal.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

HASH_FORMAT = 1
GENESIS_HASH = "0" * 64  # prev_hash of the first event of every stream
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # always microseconds, always UTC, always "Z"
INT_LIMIT = 2**53  # I-JSON: larger integers do not survive every JSON reader
# Fields of a stored event that are not domain data: the chain's own, and the library's.
NON_DATA_FIELDS = frozenset(
    {"originator_id", "originator_version", "originator_topic", "timestamp", "prev_hash",
     "event_hash"}
)


def _stdlib_canonical(doc: Any) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _fast_encoder() -> Callable[[Any], bytes]:
    try:
        import orjson
    except ImportError:  # the offline verifier may run without orjson
        return _stdlib_canonical
    option = orjson.OPT_SORT_KEYS

    def encode(doc: Any) -> bytes:
        return orjson.dumps(doc, option=option)

    return encode


canonical_bytes: Callable[[Any], bytes] = _fast_encoder()


def reference_canonical_bytes(doc: Any) -> bytes:
    """RFC 8785 by the reference implementation: slower, and the definition."""
    import rfc8785

    return rfc8785.dumps(doc)


def format_timestamp(ts: dt.datetime) -> str:
    """The fixed-format UTC string of an aware datetime."""
    if ts.tzinfo is None:
        msg = "timestamps must be timezone-aware"
        raise ValueError(msg)
    # isoformat with fixed microseconds is TIMESTAMP_FORMAT, and several times faster than
    # strftime on the write path; the test vectors hold the two equal.
    return ts.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def check_subset(value: Any, path: str = "data") -> None:
    """Raise ValueError where `value` leaves the schema subset the hash is defined on.

    On the write path for every event, so exact types are tested first and the path of a bad
    value is only spelled out when there is one.
    """
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return
    if kind is int:
        if not -INT_LIMIT < value < INT_LIMIT:
            raise ValueError(f"{path}: integer out of range")
        return
    if kind is list or kind is tuple:
        for i, item in enumerate(value):
            if type(item) is not str:
                check_subset(item, f"{path}[{i}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if type(key) is not str or not key.isascii():
                raise ValueError(f"{path}: keys must be ASCII strings")
            if type(item) is not str:
                check_subset(item, f"{path}.{key}")
        return
    raise ValueError(f"{path}: {kind.__name__} is not allowed (no floats, no objects)")


def hash_document(
    stream_id: str, version: int, event_type: str, timestamp: str, prev_hash: str,
    data: Mapping[str, Any],
) -> dict[str, Any]:
    """The object whose canonical JSON is hashed."""
    return {
        "data": dict(data),
        "hash_format": HASH_FORMAT,
        "prev_hash": prev_hash,
        "stream_id": stream_id,
        "timestamp": timestamp,
        "type": event_type,
        "version": version,
    }


def event_hash(
    stream_id: str, version: int, event_type: str, timestamp: str, prev_hash: str,
    data: Mapping[str, Any],
) -> str:
    """SHA-256 (hex) of the canonical encoding of an event."""
    doc = hash_document(stream_id, version, event_type, timestamp, prev_hash, data)
    return hashlib.sha256(canonical_bytes(doc)).hexdigest()


def content_fingerprint(kind: str, fields: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of a command's content: what an idempotent replay must match."""
    return hashlib.sha256(canonical_bytes({"kind": kind, "fields": dict(fields)})).hexdigest()
