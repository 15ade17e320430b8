"""Verification of an audit bundle from its files alone (standard library, `cryptography`, and
the canonical encoding of `ledger.chain`).

Streams the event, leaf and proof files in lockstep, once, hashing each file as it is read;
memory holds per-stream heads, O(log n) tree hashes, one root per checkpoint size and the
statements' accumulators, not the log.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from audit import formats as FMT
from audit.checkpoint import Checkpoint
from audit.checks import Report, checkpoint_unverified, judge_keys, loads
from audit.cpcheck import CosignatureEntry, check_checkpoint, check_cosignatures
from audit.keyhistory import KeyHistory, KeyRecord, check_history, endorsed_by
from audit.merkle import EMPTY_ROOT, verify_consistency
from audit.note import SIG_TYPE_COSIGNATURE_V1, NoteError, VerifierKey, parse_note, parse_vkey
from ledger.chain import HASH_FORMAT, INT_LIMIT, canonical_bytes, check_subset

_loads = loads

READ_BLOCK_BYTES = 1 << 20
DOC_KEYS = frozenset({"data", "hash_format", "prev_hash", "stream_id", "timestamp", "type",
                      "version"})


class BundleUnreadable(OSError):
    """The bundle cannot be read at all (no manifest, not a bundle, a file missing)."""


@dataclass
class BundleReport(Report):
    """What the bundle's checks found (the fields both verifiers report are
    `audit.checks.Report`'s)."""

    path: str
    scope: dict[str, Any] = field(default_factory=dict)
    events: int = 0
    streams: int = 0
    leaves: int = 0
    prefix_size: int = 0
    scope_confirmed: bool = True  # False: the manifest's scope is not that of the events
    files_checked: int = 0
    checkpoint: dict[str, Any] | None = None
    checkpoints: int = 0
    statements: dict[str, Any] = field(default_factory=dict)


def _lines(path: Path, digest: Any) -> Iterator[bytes]:
    """The lines of a file (without newlines), each fed to `digest` as read (with its newline:
    the digest is the file's). The file object's own line iteration: cheaper than splitting
    blocks in Python."""
    with path.open("rb", buffering=READ_BLOCK_BYTES) as f:
        update = digest.update
        for line in f:
            update(line)
            yield line[:-1] if line[-1:] == b"\n" else line


# The manifest's members and their JSON types (None: null allowed); bool is not an integer here.
_MANIFEST_TYPES: dict[str, tuple[type, ...]] = {
    "origin": (str,), "checkpoint_size": (int,), "prefix_size": (int,), "events": (int,),
    "streams": (int,), "prefix_consistency_proof": (list,), "scope": (dict,), "files": (dict,)}
_SCOPE_TYPES: dict[str, tuple[type, ...]] = {
    "programme": (str, type(None)), "county": (str, type(None)), "until": (str, type(None)),
    "full": (bool,)}


def _check_manifest_types(directory: Path, manifest: dict[str, Any]) -> None:
    """A manifest whose members are not of their types is unreadable (exit 2), not a crash."""
    for doc, types, where in ((manifest, _MANIFEST_TYPES, ""),
                              (manifest.get("scope"), _SCOPE_TYPES, "scope.")):
        if not isinstance(doc, dict):
            break  # a missing or wrong scope is reported by the first loop
        for key, allowed in types.items():
            value = doc.get(key)
            if key not in doc or type(value) not in allowed:
                names = ", ".join(t.__name__ for t in allowed)
                raise BundleUnreadable(f"{directory}/{FMT.MANIFEST}: `{where}{key}` is missing "
                                       f"or not of its type ({names})")


class _Bundle:
    """The open bundle: its manifest, and the files checked against it."""

    def __init__(self, directory: Path, report: BundleReport) -> None:
        self.dir, self.report = directory, report
        try:
            self.manifest = json.loads((directory / FMT.MANIFEST).read_text("utf-8"))
        except (OSError, ValueError) as e:
            raise BundleUnreadable(f"{directory} has no readable {FMT.MANIFEST}: {e}") from None
        if not isinstance(self.manifest, dict) or \
                self.manifest.get("format") != FMT.BUNDLE_FORMAT:
            raise BundleUnreadable(f"{directory} is not a {FMT.BUNDLE_FORMAT} bundle")
        _check_manifest_types(directory, self.manifest)
        self.files: dict[str, Any] = self.manifest.get("files") or {}
        self.digests: dict[str, Any] = {}
        self.checked: set[str] = set()
        listed = set(self.files) | {FMT.MANIFEST}
        for p in sorted(directory.iterdir()):
            if p.name not in listed:
                report.add("bundle", p.name, "文件不在清单中", "the file is not in the manifest")

    def read(self, name: str) -> bytes:
        data = (self.dir / name).read_bytes() if (self.dir / name).exists() else b""
        self._check(name, hashlib.sha256(data).hexdigest(), len(data))
        return data

    def stream(self, name: str) -> Iterator[bytes]:
        if not (self.dir / name).exists():
            self._check(name, None, 0)
            return iter(())
        self.digests[name] = hashlib.sha256()
        return _lines(self.dir / name, self.digests[name])

    def finish_streams(self) -> None:
        for name, digest in self.digests.items():
            self._check(name, digest.hexdigest(), (self.dir / name).stat().st_size)

    def finish_files(self) -> None:
        """Every file the manifest lists and no check has read (README.txt...) is hashed too."""
        for name in sorted(set(self.files) - self.checked):
            path = self.dir / name
            if name in ("", ".", "..") or Path(name).name != name:
                self.report.files_checked += 1
                self.report.add("bundle", name, "清单中的文件名不是包内的文件",
                                "a name in the manifest is not a file of the bundle")
            elif path.is_file():
                digest = hashlib.sha256()
                with path.open("rb") as f:
                    while block := f.read(READ_BLOCK_BYTES):
                        digest.update(block)
                self._check(name, digest.hexdigest(), path.stat().st_size)
            else:
                self._check(name, None, 0)

    def _check(self, name: str, sha256: str | None, size: int) -> None:
        self.checked.add(name)
        listed = self.files.get(name)
        if listed is None and sha256 is None:
            return  # neither listed nor present (e.g. proofs of a full bundle)
        self.report.files_checked += 1
        if listed is None:
            self.report.add("bundle", name, "文件不在清单中", "the file is not in the manifest")
        elif sha256 is None:
            self.report.add("bundle", name, "清单中的文件缺失", "a file of the manifest is missing")
        elif not isinstance(listed, dict) or \
                (listed.get("sha256"), listed.get("bytes")) != (sha256, size):
            self.report.add("bundle", name, "文件的 SHA-256 与清单不符",
                            "the file's SHA-256 does not match the manifest")


def _history(b: _Bundle, trusted: Sequence[VerifierKey]) -> tuple[KeyHistory, list[VerifierKey]]:
    r = b.report
    doc = json.loads(b.read(FMT.KEYS) or b"{}")
    records = [KeyRecord(str(k["vkey"]), int(k["from_size"]), str(k["statement"]))
               for k in doc.get("log_keys", [])]
    history, problems = check_history(records)
    r.origin = history.origin
    judge_keys(r, problems, [k.vkey() for k in history.keys],
               endorsed_by(history, trusted) if trusted else None)
    witnesses = []
    for w in doc.get("witnesses", []):
        try:
            key = parse_vkey(str(w["vkey"]))
        except (NoteError, KeyError, TypeError):
            r.add("keys", "witness keys", "见证人公钥格式错误", "a witness key is malformed")
            continue
        if key.sig_type == SIG_TYPE_COSIGNATURE_V1:
            witnesses.append(key)
    return history, witnesses


def _cosigs(note: str, witnesses: Sequence[VerifierKey]) -> list[CosignatureEntry]:
    by_id = {(k.name, k.key_id): k for k in witnesses}
    entries = []
    for sig in parse_note(note)[1]:
        key = by_id.get((sig.name, sig.key_id))
        if key is not None:
            entries.append(CosignatureEntry(key.name, key.vkey(), sig.line))
    return entries


@dataclass
class _Checkpoints:
    latest: Checkpoint | None = None
    by_size: dict[int, bytes] = field(default_factory=dict)


def _checkpoints(b: _Bundle, history: KeyHistory, witnesses: Sequence[VerifierKey],
                 trusted_witnesses: Sequence[VerifierKey]) -> _Checkpoints:
    """Verify every checkpoint's signature and cosignatures and its consistency with the latest."""
    r, out = b.report, _Checkpoints()
    n = int(b.manifest.get("checkpoint_size", -1))
    lines = [json.loads(x) for x in b.read(FMT.CHECKPOINTS).splitlines() if x.strip()]
    checked: list[tuple[dict[str, Any], Checkpoint]] = []
    for line in lines:
        r.checkpoints += 1
        place = f"checkpoint #{line.get('seq')} (size {line.get('size')})"
        try:
            cp = check_checkpoint(str(line["note"]), history)
        except (NoteError, KeyError) as e:
            checkpoint_unverified(r, place, e)
            continue
        if cp.size != line.get("size"):
            r.add("checkpoints", place, "检查点的签名内容与其记录不符",
                  "the signed checkpoint differs from its stated size")
        if out.by_size.setdefault(cp.size, cp.root) != cp.root:
            r.add("checkpoints", place, "同一大小有两个不同的根（分叉）",
                  "two different roots for one size (a fork)")
        checked.append((line, cp))
        done, problems = check_cosignatures(str(line["note"]), _cosigs(
            str(line["note"]), [*witnesses, *trusted_witnesses]), trusted_witnesses)
        for zh, en in problems:
            r.add("cosignatures", place, zh, en)
        if cp.size == n:
            out.latest = cp
            r.checkpoint = {"size": cp.size, "root": base64.b64encode(cp.root).decode(),
                            "note": str(line["note"]), "cosignatures": done}
    if out.latest is None:
        r.add("checkpoints", "checkpoint", f"包中没有大小为 {n} 的有效检查点",
              f"the bundle holds no valid checkpoint of its stated size {n}")
        return out
    for line, cp in checked:
        _consistent(r, f"checkpoint #{line.get('seq')} (size {cp.size})", cp.size, cp.root,
                    out.latest, line.get("consistency_proof", []))
    return out


def _consistent(r: BundleReport, place: str, size: int, root: bytes, latest: Checkpoint,
                proof_b64: Any) -> bool:
    """Whether (size, root) is consistent with the latest checkpoint by the given proof."""
    try:
        proof = [base64.b64decode(p, validate=True) for p in proof_b64]
    except (ValueError, TypeError):
        proof = [b""]
    if size == 0:
        ok = root == EMPTY_ROOT
    else:
        ok = verify_consistency(size, latest.size, root, latest.root, proof)
    if not ok:
        r.add("checkpoints", place, "与最新检查点不一致（一致性证明失败）",
              "not consistent with the latest checkpoint (the consistency proof fails)")
    return ok


def _in_subset(data: dict[str, Any]) -> bool:
    """A fast `ledger.chain.check_subset` for the flat documents events are (False: ask it)."""
    for v in data.values():
        t = type(v)
        if t is str:  # most values: tested first
            continue
        if t is int:
            if -INT_LIMIT < v < INT_LIMIT:
                continue
            return False
        if t is bool or v is None:
            continue
        if t is list and all(type(x) is str for x in v):
            continue
        try:
            check_subset(v)
        except ValueError:
            return False
    return "".join(data).isascii()


_encode: Callable[[Any], bytes] = canonical_bytes
_STRICT_INTEGERS = False
try:
    import orjson

    # The canonical encoding as `ledger.chain.canonical_bytes` makes it with orjson, refusing
    # integers beyond I-JSON's 53 bits as `ledger.chain.check_subset` does (JSONEncodeError
    # is a TypeError): with it, integers need no test of their own in `_flat`.
    _encode = partial(orjson.dumps, option=orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER)
    _STRICT_INTEGERS = True
except ImportError:  # pragma: no cover - without orjson, `_in_subset` tests every value
    pass


def _flat(data: dict[str, Any]) -> bool:
    """The schema subset for data of strings, integers (their range is the encoder's to
    check), booleans, nulls and lists of strings with ASCII keys, the events' usual shape;
    anything else (or a list holding anything but strings: TypeError) is left to
    `_in_subset` and `ledger.chain.check_subset`, which name what is wrong."""
    for v in data.values():
        t = type(v)
        if t is str or t is int or t is bool or v is None:
            continue
        if t is not list:
            return _in_subset(data)
        "".join(v)  # TypeError unless every item is a string
    return "".join(data).isascii()


def _event(r: BundleReport, i: int, line: bytes) -> tuple[dict[str, Any] | None, str]:
    """(the parsed event, its hash), or (None, hash) with a finding if it is not canonical."""
    h = hashlib.sha256(line).hexdigest()
    try:
        doc = _loads(line)
        if not isinstance(doc, dict) or doc.keys() != DOC_KEYS or \
                doc["hash_format"] != HASH_FORMAT:
            raise ValueError("not an event document of hash format 1")
        if not _in_subset(doc["data"]):
            check_subset(doc["data"])  # raises, naming the place
        if canonical_bytes(doc) != line:
            raise ValueError("not in canonical (RFC 8785) form")
        return doc, h
    except (ValueError, TypeError, KeyError) as e:
        r.add("events", f"event line {i + 1}", f"事件行无效：{e}",
              f"the event line is invalid: {e}")
        return None, h
