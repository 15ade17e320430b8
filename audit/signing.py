"""Signing checkpoints and rotating the log's key.

A checkpoint is signed only after the stored tree is shown consistent with the latest stored
checkpoint (its root recomputed from the stored nodes, and a consistency proof verified), so
the log never signs two inconsistent checkpoints. The key must be the current key of the
recorded key history; the first key used is recorded as the history's first.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import log, merkle
from audit.checkpoint import Checkpoint, sign_checkpoint, verify_checkpoint
from audit.db import Cursor, LogDB
from audit.errors import SigningRefused
from audit.keyhistory import KeyHistory, KeyRecord, check_history, introduce
from audit.log import StoredCheckpoint
from audit.note import NoteError, VerifierKey, public_key_bytes


def _history(cur: Cursor) -> tuple[str, list[KeyRecord], KeyHistory]:
    origin, records = log.key_records(cur)
    history, problems = check_history(records)
    if problems:
        zh, en = problems[0]
        raise SigningRefused.of("key", why_zh=f"密钥历史无效：{zh}",
                                why_en=f"the key history is invalid: {en}")
    return origin, records, history


def _require_current(history: KeyHistory, key: VerifierKey) -> None:
    if history.current == key:
        return
    current = history.current.vkey() if history.current else "none"
    if history.has(key):
        raise SigningRefused.of("key", why_zh=f"该密钥已被轮换，日志现在的密钥是 {current}",
                                why_en=f"this key was rotated out; the log's key is now "
                                       f"{current}", current=current)
    raise SigningRefused.of("key", why_zh=f"不是本日志的密钥（日志的密钥是 {current}）；换密钥请用 "
                                          "`fundledger keys rotate`",
                            why_en=f"this is not the log's key (the log's key is {current}); "
                                   "change keys with `fundledger keys rotate`", current=current)


def _check_consistent(cur: Cursor, history: KeyHistory, latest: StoredCheckpoint, size: int,
                      root: bytes) -> None:
    """The stored tree at `size` extends the latest checkpoint, or refuse."""
    try:
        cp = verify_checkpoint(latest.note, history.keys_for(latest.size))
    except NoteError as e:
        raise SigningRefused.of("checkpoint",
                                why_zh=f"最新检查点（大小 {latest.size}）签名无效：{e}",
                                why_en=f"the latest checkpoint (size {latest.size}) does not "
                                       f"verify: {e}", size=latest.size) from None
    if (cp.size, cp.root) != (latest.size, latest.root) or latest.size > size:
        raise SigningRefused.of("checkpoint",
                                why_zh=f"最新检查点（大小 {latest.size}）与 {size} 个叶子的"
                                       "日志不符",
                                why_en=f"the latest checkpoint (size {latest.size}) does not "
                                       f"match the log of {size} leaves",
                                size=latest.size, leaves=size)
    old_root = log.with_nodes(cur, lambda r: merkle.root(r, latest.size))
    if old_root != latest.root:
        raise SigningRefused.of("checkpoint",
                                why_zh=f"存储的树已不再有检查点（大小 {latest.size}）的根",
                                why_en=f"the stored tree no longer has the root of checkpoint "
                                       f"size {latest.size}", size=latest.size)
    if 0 < latest.size < size:
        proof = log.with_nodes(cur, lambda r: merkle.consistency_proof(r, latest.size, size))
        try:
            merkle.require_consistency(latest.size, size, latest.root, root, proof)
        except merkle.ProofError as e:
            raise SigningRefused.of("checkpoint", why_zh=f"一致性证明失败：{e}",
                                    why_en=f"not consistent: {e}", size=latest.size,
                                    leaves=size) from None


def sign_latest(db: LogDB, name: str, key: Ed25519PrivateKey) -> tuple[StoredCheckpoint, bool]:
    """Sign a checkpoint of the whole sealed log; (checkpoint, whether it is new).

    Nothing new is signed when the latest checkpoint already has this size and key.
    """
    db.ensure_log()
    vk = VerifierKey(name, public_key_bytes(key))
    with db.write() as cur:
        origin, records, history = _history(cur)
        size, _ = log.tail(cur)
        if not records:
            origin = name
            log.insert_key(cur, origin, introduce(origin, key, 0))
            history = KeyHistory(origin, (vk,), (0,))
        _require_current(history, vk)
        root = log.with_nodes(cur, lambda r: merkle.root(r, size))
        latest = log.latest_checkpoint(cur)
        if latest is not None:
            _check_consistent(cur, history, latest, size, root)
            if latest.size == size and latest.key_id == vk.key_id.hex():
                return latest, False
        note = sign_checkpoint(Checkpoint(origin, size, root), name, key)
        seq = log.insert_checkpoint(cur, size, root, vk.key_id.hex(), note)
        return StoredCheckpoint(seq, size, root, vk.key_id.hex(), note, log.now_text()), True


def rotate(db: LogDB, name: str, old: Ed25519PrivateKey, new: Ed25519PrivateKey) -> KeyRecord:
    """Hand the log over from `old` (the current key) to `new`, from the current size on."""
    db.ensure_log()
    with db.write() as cur:
        origin, records, history = _history(cur)
        if not records:
            raise SigningRefused.of("key", why_zh="日志尚无密钥：请先用 `fundledger seal --key "
                                                  "FILE` 签署第一个检查点",
                                    why_en="the log has no key yet: sign a first checkpoint "
                                           "with `fundledger seal --key FILE`")
        _require_current(history, VerifierKey(name, public_key_bytes(old)))
        size, _ = log.tail(cur)
        record = introduce(origin, new, size, previous=old)
        log.insert_key(cur, origin, record)
        return record
