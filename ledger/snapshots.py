"""Authenticated snapshots: a snapshot is a cache, used only when it proves it is ours.

A snapshot is written with an HMAC-SHA256 tag under a key the application process holds and
the database role cannot read (`docs/audit.md`, "Snapshots"). Loading one checks, before the
state is used: the stored row is a snapshot of a ledger aggregate, its tag verifies, and its
head hash is the hash of the stored event at its version, and its state has the layout
(`class_version`) of the code that reads it. Anything else is ignored and the
stream is replayed from its events. Without a key, snapshots are neither written nor read.

The tag is HMAC-SHA256(key, canonical JSON of)::

    {"head_hash": "<64 hex>", "mac_format": "fundledger-snapshot-mac/1",
     "state": {...the aggregate's state...}, "stream_id": "<uuid>",
     "topic": "<aggregate class topic>", "version": <int>}

where the state's top-level timestamps are in the chain's fixed UTC format (`ledger.chain`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.domain import Snapshot
from eventsourcing.persistence import (
    AggregateRecorder,
    EventStore,
    IntegrityError,
    Mapper,
    Recording,
    StoredEvent,
)
from eventsourcing.utils import get_topic, resolve_topic

from ledger.chain import canonical_bytes, format_timestamp

MAC_FORMAT = "fundledger-snapshot-mac/1"
SNAPSHOT_KEY_BYTES = 32
SNAPSHOT_KEY_SETTING = "SNAPSHOT_KEY_HEX"  # FundLedger's env mapping: the key, 64 hex digits
SNAPSHOT_TOPIC = get_topic(Snapshot)  # the stored topic of every snapshot row
MAC_FIELD = "mac"  # the tag, 64 hex digits, beside the snapshot's topic and state


def parse_snapshot_key(key_hex: str | None) -> bytes | None:
    """The key from FundLedger's settings; ValueError unless 32 bytes in hex."""
    if not key_hex:
        return None
    key = bytes.fromhex(key_hex)
    if len(key) != SNAPSHOT_KEY_BYTES:
        msg = f"a snapshot key is {SNAPSHOT_KEY_BYTES} bytes, not {len(key)}"
        raise ValueError(msg)
    return key


def state_document(state: Mapping[str, Any]) -> dict[str, Any]:
    """The state as plain JSON: top-level timestamps (the library's) in the chain's format."""
    return {k: format_timestamp(v) if isinstance(v, dt.datetime) else
            str(v) if isinstance(v, UUID) else v for k, v in state.items()}


def canonical_state(state: Mapping[str, Any]) -> bytes:
    """The canonical encoding of a snapshot's state: what a snapshot and a replay compare."""
    return canonical_bytes(state_document(state))


def snapshot_mac(key: bytes, stream_id: UUID, version: int, head_hash: str, topic: str,
                 state: Mapping[str, Any]) -> str:
    """The tag of a snapshot (hex)."""
    doc = {"head_hash": head_hash, "mac_format": MAC_FORMAT, "state": state_document(state),
           "stream_id": str(stream_id), "topic": topic, "version": version}
    return hmac.new(key, canonical_bytes(doc), hashlib.sha256).hexdigest()


class AuthenticatedSnapshots(EventStore[UUID]):
    """The snapshot store of the ledger: tags what it writes, trusts only what verifies."""

    def __init__(self, mapper: Mapper[UUID], recorder: AggregateRecorder,
                 events: AggregateRecorder, key: bytes | None,
                 aggregate_topics: Mapping[str, int]) -> None:
        """`aggregate_topics`: the topic of each aggregate class snapshotted, with the
        `class_version` of its state's layout (1 when it has none)."""
        super().__init__(mapper, recorder)
        self.events_recorder, self.key, self.aggregate_topics = events, key, aggregate_topics
        self.used = 0  # snapshots that verified and were handed out, since start
        self.ignored = 0  # snapshots found and not trusted (the stream is replayed instead)

    def put(self, domain_events: Sequence[Any], **kwargs: Any) -> list[Recording[UUID]]:
        if self.key is None:
            return []
        for snap in domain_events:
            mac = snapshot_mac(self.key, snap.originator_id, snap.originator_version,
                               snap.state["head_hash"], snap.topic, snap.state)
            object.__setattr__(snap, MAC_FIELD, mac)  # a frozen dataclass: set, not replace
        try:
            return super().put(domain_events, **kwargs)
        except IntegrityError:
            # The version's row exists: written by a racing process, or forged. A snapshot is
            # only a cache; the events are committed, so the write stands without it.
            return []

    def get(self, originator_id: UUID, *, gt: int | None = None, lte: int | None = None,
            desc: bool = False, limit: int | None = None) -> Iterator[Any]:
        """The snapshots that verify, among those asked for (the repository asks for the
        newest one: if it does not verify, none is used and the stream is replayed)."""
        if self.key is None:
            return iter(())
        rows = self.recorder.select_events(originator_id, gt=gt, lte=lte, desc=desc,
                                           limit=limit)
        return (snap for snap in map(self._verified, rows) if snap is not None)

    def _verified(self, row: StoredEvent) -> Any:
        snap = self._decode(row)
        if snap is None or not self._head_matches(row.originator_id, row.originator_version,
                                                  snap.state.get("head_hash")):
            self.ignored += 1
            return None
        self.used += 1
        return snap

    def _decode(self, row: StoredEvent) -> Any:
        """The snapshot, if the row is a tagged snapshot of a ledger aggregate; else None.

        The tag is checked on the decoded JSON before any topic in the row is resolved."""
        doc = self._tagged(row)
        if doc is None:
            return None
        doc["originator_id"] = UUID(str(row.originator_id))
        doc["originator_version"] = row.originator_version
        snap = object.__new__(resolve_topic(SNAPSHOT_TOPIC))
        object.__setattr__(snap, "__dict__", doc)
        return snap

    def _tagged(self, row: StoredEvent) -> dict[str, Any] | None:
        """The row's decoded document, without its tag, if the tag verifies."""
        assert self.key is not None
        try:
            doc = self.mapper.transcoder.decode(row.state) if row.topic == SNAPSHOT_TOPIC \
                else None
        except (ValueError, TypeError, KeyError, RecursionError):  # not even one of ours
            return None
        if not isinstance(doc, dict):
            return None
        state, topic, tag = doc.get("state"), doc.get("topic"), doc.pop(MAC_FIELD, None)
        if not (isinstance(state, dict) and isinstance(tag, str)
                and topic in self.aggregate_topics
                and isinstance(state.get("head_hash"), str)):
            return None
        try:
            want = snapshot_mac(self.key, UUID(str(row.originator_id)), row.originator_version,
                                state["head_hash"], str(topic), state)
        except (TypeError, ValueError):  # not encodable: not one we wrote
            return None
        if not hmac.compare_digest(want, tag):
            return None
        # A snapshot of another layout of the state (written before an upgrade) is ours but
        # would be misread: it is ignored like any other, and the stream replayed.
        return doc if state.get("class_version", 1) == self.aggregate_topics[str(topic)] \
            else None

    def _head_matches(self, stream_id: Any, version: int, head_hash: Any) -> bool:
        """The stored event at the snapshot's version has the snapshot's head hash."""
        rows = self.events_recorder.select_events(stream_id, gt=version - 1, lte=version)
        if len(rows) != 1:
            return False
        try:
            stored = json.loads(rows[0].state).get("event_hash")
        except (ValueError, AttributeError, RecursionError):
            return False
        return isinstance(stored, str) and hmac.compare_digest(stored, str(head_hash))
