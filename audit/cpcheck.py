"""Checking signed checkpoints and their cosignatures against the log's key history.

Shared by the in-database verifier and the offline verifier (standard library and
`cryptography` only). A checkpoint of size s verifies only with a key the history allows at
s; a cosignature only with its witness's type-0x04 key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from audit.checkpoint import (
    Checkpoint,
    parse_checkpoint_body,
    verify_checkpoint,
    verify_cosignature,
)
from audit.keyhistory import KeyHistory
from audit.note import SIG_TYPE_COSIGNATURE_V1, NoteError, VerifierKey, parse_note, parse_vkey


@dataclass(frozen=True)
class CosignatureEntry:
    """A stored cosignature: the witness's name, its verifier key and its signature line."""

    witness: str
    vkey: str
    line: str


def body_of(note: str) -> Checkpoint:
    """The unverified checkpoint body of a note (to learn its size before verifying)."""
    return parse_checkpoint_body(parse_note(note)[0])


def check_checkpoint(note: str, history: KeyHistory,
                     extra_keys: Sequence[VerifierKey] = ()) -> Checkpoint:
    """Verify a log checkpoint with the keys the history allows at its size; NoteError if not."""
    size = body_of(note).size
    keys = [*history.keys_for(size), *(k for k in extra_keys if k not in history.keys)]
    if not keys:
        raise NoteError(f"no log key is valid for a checkpoint of size {size}")
    cp = verify_checkpoint(note, keys)
    if history.origin and cp.origin != history.origin:
        raise NoteError(f"origin {cp.origin!r} is not the log's origin {history.origin!r}")
    return cp


def check_cosignatures(
    note: str, entries: Iterable[CosignatureEntry], trusted: Sequence[VerifierKey],
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """([{witness, vkey, timestamp, trusted}], problems) for a checkpoint's cosignatures."""
    body = parse_note(note)[0]
    trusted_by_name = {k.name: k for k in trusted}
    done: list[dict[str, Any]] = []
    problems: list[tuple[str, str]] = []
    for e in entries:
        try:
            key = parse_vkey(e.vkey)
            if key.sig_type != SIG_TYPE_COSIGNATURE_V1 or key.name != e.witness:
                raise NoteError("the witness key is not a type-0x04 key of that name")
            expected = trusted_by_name.get(e.witness)
            if expected is not None and expected != key:
                raise NoteError("the cosignature is not by the witness's trusted key")
            stamp = verify_cosignature(body, e.line, key.name, key.public_key)
        except NoteError as err:
            problems.append((f"见证人 {e.witness} 的副署无效：{err}",
                             f"cosignature by {e.witness} is invalid: {err}"))
            continue
        done.append({"witness": e.witness, "vkey": e.vkey, "timestamp": stamp,
                     "trusted": expected is not None})
    return done, problems


def required_witnesses(witnesses: Sequence[VerifierKey],
                       quorum: int | None = None) -> tuple[list[VerifierKey], int]:
    """The distinct witnesses named (`--witness`) and how many of them must have cosigned:
    every one, or `quorum` of them. ValueError if the quorum cannot be met by those named."""
    named = list(dict.fromkeys(witnesses))
    for k in named:
        if k.sig_type != SIG_TYPE_COSIGNATURE_V1:
            raise ValueError(f"见证人公钥不是副署公钥（类型 0x04）/ the witness key {k.vkey()} "
                             "is not a cosigner key (type 0x04)")
    need = len(named) if quorum is None else quorum
    if quorum is not None and not 1 <= quorum <= len(named):
        raise ValueError(f"--quorum {quorum} 应在 1 与 --witness 指定的见证人数 {len(named)} "
                         f"之间 / --quorum {quorum} must be between 1 and the {len(named)} "
                         "witnesses named with --witness")
    return named, need


def missing_cosigners(done: Iterable[dict[str, Any]], witnesses: Sequence[VerifierKey],
                      quorum: int | None = None) -> list[tuple[str, str]]:
    """The problems, one per named witness without a valid cosignature, when fewer than the
    quorum (default: every named witness) have cosigned; [] when enough have.

    `done` is the first result of `check_cosignatures`: only verified cosignatures count."""
    named, need = required_witnesses(witnesses, quorum)
    signed = set()
    for d in done:
        try:
            signed.add(parse_vkey(str(d["vkey"])))
        except NoteError:
            continue
    missing = [k for k in named if k not in signed]
    if len(named) - len(missing) >= need:
        return []
    have = len(named) - len(missing)
    return [(f"缺少见证人 {k.name}（{k.vkey()}）的有效副署：{len(named)} 个指定见证人中"
             f"只有 {have} 个副署，要求 {need} 个",
             f"not cosigned by the witness {k.name} ({k.vkey()}): {have} of the "
             f"{len(named)} witnesses named have cosigned, {need} required")
            for k in missing]


def read_held(text: str) -> str:
    """A checkpoint held outside: a signed note, or a receipt (JSON) that carries one."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            doc = json.loads(stripped)
        except ValueError as e:
            raise NoteError(f"not a checkpoint note nor a receipt: {e}") from None
        note = doc.get("checkpoint") if isinstance(doc, dict) else None
        if not isinstance(note, str):
            raise NoteError("the JSON document carries no checkpoint")
        return note
    return text
