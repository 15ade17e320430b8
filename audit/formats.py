"""File names and line formats of the audit bundle and the receipt (standard library only).

Bundle directory::

    manifest.json      format, origin, scope, checkpoint and prefix sizes, SHA-256 of each file
    events.jsonl       one event per line: the RFC 8785 canonical JSON its hash is taken of
    leaves.jsonl       {"event_hash", "leaf_index", "stream_id", "version"} per event line
    proofs.jsonl       scoped bundles: {"inclusion_proof": [base64...], "leaf_index"} per event
    checkpoints.jsonl  {"consistency_proof", "consistency_to", "note", "seq", "size"} per checkpoint
    keys.json          {"log_keys": [{"from_size", "statement", "vkey"}], "origin", "witnesses"}
    statements.json    balances, compliance, execution as the read models report them
    boundary.json      `until` bundles cut before the checkpoint: the first event left out, with
                       its inclusion proof (it proves the prefix is the longest by that date)
    README.txt         how to verify
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Sequence

BUNDLE_FORMAT = "fundledger-bundle/1"
RECEIPT_FORMAT = "fundledger-receipt/1"
MANIFEST = "manifest.json"
EVENTS = "events.jsonl"
LEAVES = "leaves.jsonl"
PROOFS = "proofs.jsonl"
CHECKPOINTS = "checkpoints.jsonl"
KEYS = "keys.json"
STATEMENTS = "statements.json"
README = "README.txt"
BOUNDARY = "boundary.json"
CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")  # "until DATE" ends at midnight, Beijing
STREAMED = frozenset({EVENTS, LEAVES, PROOFS})  # hashed while they are read, not before


def until_cutoff(until: dt.date) -> str:
    """The first event timestamp (fixed UTC format) after DATE's end in China Standard Time:
    a bundle `until` DATE holds the events of the log before the first one at or after it."""
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), CHINA_TZ)
    return end.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def b64_list(items: Sequence[bytes]) -> list[str]:
    return [base64.b64encode(x).decode("ascii") for x in items]


def leaf_line(index: int, stream_id: str, version: int, event_hash: bytes) -> bytes:
    return json.dumps({"event_hash": event_hash.hex(), "leaf_index": index,
                       "stream_id": stream_id, "version": version},
                      separators=(",", ":")).encode() + b"\n"


def proof_line(index: int, proof: Sequence[bytes]) -> bytes:
    return json.dumps({"inclusion_proof": b64_list(proof), "leaf_index": index},
                      separators=(",", ":")).encode() + b"\n"


README_TEXT = """\
fundledger audit bundle / 专项资金台账审计包

Verify it offline, with nothing but Python 3.11+ and the `cryptography` package:

    fundledger-verify THIS_DIRECTORY --key "<the log's verifier key, obtained from the ledger's
        operator through a channel you trust>" [--since CHECKPOINT_FILE_YOU_HOLD]
        [--witness "<a witness's verifier key>"]

It recomputes every event hash, every per-stream chain link, every Merkle leaf and root (or,
in a bundle of one county or programme, every inclusion proof), every checkpoint signature and
witness cosignature, the consistency of every checkpoint with the latest, the consistency with
a checkpoint you held before (--since), that every witness named with --witness has
cosigned the checkpoint (or --quorum N of them), that the bundle holds what its manifest
claims (its prefix, scope and origin), and the statements in statements.json.
Exit 0: verified; 1: a check failed (the report names the place); 2: the bundle is unreadable.
See docs/audit.md of fundledger for the formats and for what is and is not guaranteed.
"""
