"""The audit bundle: everything needed to verify the ledger offline, written to one directory.

A full bundle holds the first k events of the log (k = the checkpoint's size, or fewer with
`until`) with their leaves, so a verifier rebuilds the whole tree; a scoped bundle (one
programme or county) holds that scope's streams with an inclusion proof per event against the
checkpoint. Both carry every stored checkpoint up to the latest with its cosignatures and a
consistency proof to the latest, the key history, the statements as the ledger reports them
(its read models, as of the bundle's last event; `audit.reconcile`) — or, without read models,
recomputed from the bundled events — and a manifest of SHA-256s. Formats: `audit.formats` and
docs/audit.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import IO, Any

from audit import formats as FMT
from audit import log, merkle
from audit.chains import decode_row
from audit.db import COSIGNATURES, Cursor, EventRow, LogDB, stream_id_of
from audit.errors import NoCheckpoint
from audit.log import LeafRow, StoredCheckpoint
from audit.statements import StatementBuilder
from ledger.chain import canonical_bytes, hash_document

# The statements the ledger reports for a scope, as of a log position (a notification id).
LedgerStatements = Callable[["Scope", int], dict[str, Any]]


@dataclass(frozen=True)
class Scope:
    programme: str | None = None
    county: str | None = None
    until: dt.date | None = None

    @property
    def cutoff(self) -> str | None:
        """The first timestamp (fixed UTC format) after DATE's end in China Standard Time."""
        return None if self.until is None else FMT.until_cutoff(self.until)


@dataclass
class _Out:
    events: IO[bytes]
    leaves: IO[bytes]
    proofs: IO[bytes] | None
    builder: StatementBuilder = field(default_factory=StatementBuilder)
    count: int = 0
    streams: set[str] = field(default_factory=set)
    position: int = 0  # the notification id of the last event of the log's prefix
    boundary: dict[str, Any] | None = None  # the first event after `until` (boundary.json)


def _selected_streams(db: LogDB, cur: Cursor, scope: Scope) -> set[str] | None:
    """The scope's stream ids, or None when the scope is the whole log."""
    firsts = [EventRow(*r) for r in cur.all(
        f"SELECT {db.event_columns()} FROM {db.events_table} WHERE originator_version = 1")]
    if scope.programme is None and scope.county is None:
        return None
    chosen: set[str] = set()
    programmes: set[str] = set()
    opened = [(e, _data_or_empty(e)) for e in firsts]
    for event, data in opened:
        if (event.topic.endswith(":CountyFund.FundOpened")
                and scope.programme in (None, data.get("programme"))
                and scope.county in (None, data.get("county_code"))):
            chosen.add(stream_id_of(event.originator_id))
            programmes.add(str(data.get("programme")))
    if scope.county is None and scope.programme is not None:
        programmes.add(scope.programme)
    for event, data in opened:  # a county's programme stream carries its rules: it comes along
        if event.topic.endswith(":Programme.Opened") and data.get("programme") in programmes:
            chosen.add(stream_id_of(event.originator_id))
    return None if len(chosen) == len(firsts) else chosen


def _data_or_empty(row: EventRow) -> dict[str, Any]:
    try:
        return decode_row(row)[4]
    except ValueError:
        return {}  # an undecodable stream start selects nothing; the verifier reports it


def _positions(db: LogDB, cur: Cursor, n: int,
               page: int) -> Iterator[tuple[int, EventRow | None, LeafRow | None]]:
    """(position, event, leaf) for the first n places of the log: the i-th event by
    notification order beside leaf i; either is None where the store has fewer."""
    events = db.all_events(cur, 0, page)
    leaves = log.stream_leaves(cur)
    for i, (row, leaf) in enumerate(zip_longest(events, leaves)):
        if i >= n:
            return
        yield i, row, leaf


def _write_events(db: LogDB, cur: Cursor, out: _Out, selected: set[str] | None, n: int,
                  cutoff: str | None, checkpoint: StoredCheckpoint, page: int) -> int:
    """Write the scope's events, leaves and (scoped) proofs; return the prefix size k."""
    for i, row, leaf in _positions(db, cur, n, page):
        if row is None:  # fewer events than leaves: the leaves still go in a full bundle
            if selected is None and leaf is not None:
                out.leaves.write(FMT.leaf_line(*leaf))
            continue
        sid = stream_id_of(row.originator_id)
        if selected is not None and sid not in selected and cutoff is None:
            out.position = row.id
            continue
        try:
            event_type, timestamp, prev_hash, _, data = decode_row(row)
        except ValueError as e:  # written as stored, for the verifier to report
            event_type, timestamp, prev_hash, data = "", "", "", {"undecodable": str(e)}
        if cutoff is not None and timestamp >= cutoff:
            if leaf is not None:
                out.boundary = _boundary(cur, hash_document(
                    sid, row.originator_version, event_type, timestamp, prev_hash, data),
                    leaf, checkpoint.size)
            return i
        out.position = row.id
        if selected is not None and sid not in selected:
            continue
        doc = hash_document(sid, row.originator_version, event_type, timestamp, prev_hash, data)
        out.events.write(canonical_bytes(doc) + b"\n")
        if event_type:
            out.builder.add(doc)
        out.count += 1
        out.streams.add(sid)
        if leaf is None:
            continue
        out.leaves.write(FMT.leaf_line(*leaf))
        if out.proofs is not None:
            proof = _inclusion(cur, leaf[0], checkpoint.size)
            out.proofs.write(FMT.proof_line(leaf[0], proof))
    return n


def _boundary(cur: Cursor, doc: dict[str, Any], leaf: LeafRow, size: int) -> dict[str, Any]:
    """The first event left out by `until`, proven at its place: the prefix is the longest."""
    return {"event": doc, "event_hash": hashlib.sha256(canonical_bytes(doc)).hexdigest(),
            "leaf_index": leaf[0], "inclusion_proof": FMT.b64_list(_inclusion(cur, leaf[0], size))}


def _inclusion(cur: Cursor, index: int, size: int) -> list[bytes]:
    if index >= size:
        return []
    return log.with_nodes(cur, lambda r: merkle.inclusion_proof(r, index, size))


def _consistency(cur: Cursor, old: int, new: int) -> list[bytes]:
    return log.with_nodes(cur, lambda r: merkle.consistency_proof(r, old, new))


def _checkpoint_lines(cur: Cursor, latest: StoredCheckpoint) -> list[dict[str, Any]]:
    lines = []
    for cp in log.iter_checkpoints(cur):
        if cp.size > latest.size:
            continue
        proof: list[bytes] = []
        if 0 < cp.size < latest.size:
            try:
                proof = _consistency(cur, cp.size, latest.size)
            except log.MissingNode:
                # The store lacks nodes the proof needs (tampered): the bundle still goes out,
                # with no proof, and the verifier reports this checkpoint as not shown
                # consistent with the latest.
                proof = []
        note = log.cosigned_note(cp.note, log.cosignatures(cur, cp.seq))
        lines.append({"seq": cp.seq, "size": cp.size, "note": note,
                      "consistency_to": latest.size, "consistency_proof": FMT.b64_list(proof)})
    lines.sort(key=lambda x: (x["size"], x["seq"]))
    return lines


def _keys_doc(cur: Cursor) -> dict[str, Any]:
    origin, records = log.key_records(cur)
    witnesses = sorted({(str(w), str(v)) for w, v in cur.all(
        f"SELECT witness, vkey FROM {COSIGNATURES}")})
    return {"origin": origin, "log_keys": [r.to_dict() for r in records],
            "witnesses": [{"name": w, "vkey": v} for w, v in witnesses]}


def export(db: LogDB, directory: Path, scope: Scope, page: int = 5000,
           ledger_statements: LedgerStatements | None = None) -> dict[str, Any]:
    """Write the bundle into a new (or empty) directory; return its manifest.

    `ledger_statements` gives the statements the ledger reports (its read models) for the scope
    as of the bundle's last event; without it statements.json is recomputed from the events."""
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise FileExistsError(f"{directory} is not empty")
    with db.snapshot() as cur:
        latest = log.latest_checkpoint(cur) if db.has_log(cur) else None
        if latest is None:
            raise NoCheckpoint.of("checkpoint", which_zh="可据以导出的", which_en="")
        selected = _selected_streams(db, cur, scope)
        with (directory / FMT.EVENTS).open("wb") as ev, (directory / FMT.LEAVES).open("wb") \
                as lv:
            proofs = (directory / FMT.PROOFS).open("wb") if selected is not None else None
            out = _Out(ev, lv, proofs)
            try:
                k = _write_events(db, cur, out, selected, latest.size, scope.cutoff, latest,
                                  page)
            finally:
                if proofs is not None:
                    proofs.close()
        consistency: list[bytes] = []
        if 0 < k < latest.size:
            consistency = log.with_nodes(cur, lambda r: merkle.consistency_proof(
                r, k, latest.size))
        checkpoints = _checkpoint_lines(cur, latest)
        keys = _keys_doc(cur)
    _write_json_lines(directory / FMT.CHECKPOINTS, checkpoints)
    if out.boundary is not None:
        _write_json(directory / FMT.BOUNDARY, out.boundary)
    _write_json(directory / FMT.KEYS, keys)
    if ledger_statements is not None:
        _write_json(directory / FMT.STATEMENTS, ledger_statements(scope, out.position))
    else:
        _resolve_statements(directory / FMT.EVENTS, out.builder)
        _write_json(directory / FMT.STATEMENTS, out.builder.result())
    (directory / FMT.README).write_text(FMT.README_TEXT, "utf-8")
    manifest = {
        "format": FMT.BUNDLE_FORMAT, "origin": keys["origin"],
        "created": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "scope": {"programme": scope.programme, "county": scope.county,
                  "until": scope.until.isoformat() if scope.until else None,
                  "full": selected is None},
        "checkpoint_size": latest.size, "prefix_size": k,
        "prefix_consistency_proof": FMT.b64_list(consistency),
        "events": out.count, "streams": len(out.streams),
        "files": {p.name: _file_digest(p) for p in sorted(directory.iterdir())},
    }
    _write_json(directory / FMT.MANIFEST, manifest)
    return manifest


def _resolve_statements(events: Path, builder: StatementBuilder) -> None:
    if not builder.needs_second_pass:
        return
    with events.open("rb") as f:
        for line in f:
            if builder.wants(line):
                builder.resolve(json.loads(line))


def _write_json(path: Path, doc: Any) -> None:
    path.write_bytes(json.dumps(doc, ensure_ascii=False, indent=1, sort_keys=True).encode()
                     + b"\n")


def _write_json_lines(path: Path, docs: list[dict[str, Any]]) -> None:
    with path.open("wb") as f:
        for doc in docs:
            f.write(json.dumps(doc, ensure_ascii=False, sort_keys=True).encode() + b"\n")


def _file_digest(path: Path) -> dict[str, Any]:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return {"sha256": h.hexdigest(), "bytes": path.stat().st_size}
