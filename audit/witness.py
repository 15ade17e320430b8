"""A witness: a second party (city bureau, audit department) that cosigns the log's checkpoints.

It keeps its own key and its own state in a directory of its own: the log's verifier keys it
trusts and the last checkpoint it cosigned. Before cosigning it verifies the log's signature
and a consistency proof from the size it cosigned last to the new checkpoint, against the root
it holds itself; an inconsistent (forked or rewritten) log is refused, and its state is kept.
"""

from __future__ import annotations

import base64
import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from audit import log, merkle
from audit.checkpoint import Checkpoint, cosign
from audit.cpcheck import check_checkpoint
from audit.db import Cursor, LogDB
from audit.errors import AuditFileUnreadable, WitnessRefused
from audit.keyfile import cosigner_vkey, create_key_file, load_key_file
from audit.keyhistory import KeyHistory, check_history, endorsed_by
from audit.log import Cosignature, StoredCheckpoint
from audit.note import NoteError, parse_note, parse_vkey

STATE_FILE = "state.json"
KEY_FILE = "witness.key"
STATE_FORMAT = "fundledger-witness/1"


@dataclass
class WitnessState:
    """What the witness holds: whom it trusts and what it last cosigned."""

    name: str
    origin: str
    log_keys: list[str]
    size: int | None = None
    root: str | None = None  # base64, as in the checkpoint
    checkpoint: str | None = None
    cosigned_at: int | None = None
    format: str = field(default=STATE_FORMAT)


def init(directory: Path, name: str, log_vkey: str) -> str:
    """Make the witness's key and state; return its cosigner verifier key (type 0x04)."""
    log_key = parse_vkey(log_vkey)
    directory.mkdir(parents=True, exist_ok=True)
    if (directory / STATE_FILE).exists():
        raise FileExistsError(f"{directory / STATE_FILE} exists: this witness is set up")
    key = create_key_file(directory / KEY_FILE, name)
    _save(directory, WitnessState(name, log_key.name, [log_vkey]))
    return cosigner_vkey(name, key)


def load_state(directory: Path) -> WitnessState:
    path = directory / STATE_FILE
    try:
        doc = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"no witness at {directory}: run `fundledger witness init`") \
            from None
    except ValueError as e:  # not UTF-8 or not JSON
        raise AuditFileUnreadable.of("dir", path=str(path), reason=str(e)) from None
    if not isinstance(doc, dict) or doc.get("format") != STATE_FORMAT:
        raise AuditFileUnreadable.of("dir", path=str(path), reason=f"not a {STATE_FORMAT} state")
    try:
        return WitnessState(**doc)
    except TypeError:  # other fields than a state's
        raise AuditFileUnreadable.of("dir", path=str(path),
                                     reason=f"not a {STATE_FORMAT} state") from None


def _save(directory: Path, state: WitnessState) -> None:
    tmp = directory / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(asdict(state), ensure_ascii=False, indent=2) + "\n", "utf-8")
    os.replace(tmp, directory / STATE_FILE)  # atomic: the state is never half written


def _history(cur: Cursor, state: WitnessState) -> KeyHistory:
    """The log's key history, if a key the witness trusts endorses it (rotations followed)."""
    _, records = log.key_records(cur)
    history, problems = check_history(records)
    if problems:
        raise WitnessRefused.of("key", why_zh=f"日志的密钥历史无效：{problems[0][0]}",
                                why_en=f"the log's key history is invalid: {problems[0][1]}")
    if not endorsed_by(history, [parse_vkey(v) for v in state.log_keys]):
        raise WitnessRefused.of("key", why_zh="日志的密钥历史中没有本见证人信任的密钥",
                                why_en="the log's key history does not hold a key this "
                                       "witness trusts")
    if history.origin != state.origin:
        raise WitnessRefused.of("origin", why_zh=f"日志来源 {history.origin!r} 不是 "
                                                 f"{state.origin!r}",
                                why_en=f"origin {history.origin!r} is not {state.origin!r}",
                                origin=history.origin, expected=state.origin)
    return history


def _check_consistent(cur: Cursor, state: WitnessState, cp: Checkpoint) -> None:
    if state.size is None or state.root is None:
        return  # the first checkpoint this witness sees: nothing to be consistent with
    old_root = base64.b64decode(state.root)
    sizes = {"cosigned_size": state.size, "size": cp.size}
    where_zh = f"从已副署的大小 {state.size} 到 {cp.size}"
    where = f"from size {state.size} (cosigned) to {cp.size}"
    if cp.size < state.size:
        raise WitnessRefused.of("checkpoint", why_zh=f"日志回退（{where_zh}）",
                                why_en=f"the log went back {where}", **sizes)
    if cp.size == state.size:
        if cp.root != old_root:
            raise WitnessRefused.of("checkpoint", why_zh=f"大小 {cp.size} 处的根不同：日志分叉",
                                    why_en=f"another root at size {cp.size}: the log forked",
                                    **sizes)
        return
    if state.size == 0:
        return
    try:
        proof = log.with_nodes(cur, lambda r: merkle.consistency_proof(r, state.size or 0,
                                                                        cp.size))
        merkle.require_consistency(state.size, cp.size, old_root, cp.root, proof)
    except (merkle.ProofError, log.MissingNode) as e:
        raise WitnessRefused.of("checkpoint", why_zh=f"与已副署的检查点不一致（{where_zh}）：{e}",
                                why_en=f"not consistent {where}: {e}", **sizes) from None


def cosign_latest(db: LogDB, directory: Path) -> tuple[StoredCheckpoint, Cosignature]:
    """Verify and cosign the log's latest checkpoint; store the cosignature; keep the state."""
    state = load_state(directory)
    name, key = load_key_file(directory / KEY_FILE)
    with db.snapshot() as cur:
        latest = log.latest_checkpoint(cur) if db.has_log(cur) else None
        if latest is None:
            raise WitnessRefused.of("checkpoint", why_zh="日志尚无可副署的检查点",
                                    why_en="the log has no checkpoint to cosign")
        history = _history(cur, state)
        try:
            cp = check_checkpoint(latest.note, history)
        except NoteError as e:
            raise WitnessRefused.of("checkpoint", why_zh=f"检查点签名无效：{e}",
                                    why_en=f"the checkpoint does not verify: {e}",
                                    size=latest.size) from None
        _check_consistent(cur, state, cp)
    stamp = int(time.time())
    line = cosign(parse_note(latest.note)[0], name, key, stamp)
    cosig = Cosignature(latest.seq, name, cosigner_vkey(name, key), stamp, line)
    with db.write() as cur:
        already = {c.vkey for c in log.cosignatures(cur, latest.seq)}
        if cosig.vkey not in already:
            log.insert_cosignature(cur, cosig)
    state.log_keys = sorted({*state.log_keys, *(k.vkey() for k in history.keys)})
    state.size, state.root = cp.size, base64.b64encode(cp.root).decode()
    state.checkpoint, state.cosigned_at = latest.note, stamp
    _save(directory, state)
    return latest, cosig


def describe(state: WitnessState) -> dict[str, Any]:
    return {k: v for k, v in asdict(state).items() if k != "checkpoint"}
