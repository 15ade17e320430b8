"""Errors of the audit log: each a `LedgerError` (the one root), with a stable code, a field and
messages in Chinese and English made from the class's templates (`Cls.of(field, **details)`).
Which exit code and HTTP status each gets is said once, in `api.errors`.

The offline verifier's building blocks (`audit.note`, `audit.merkle`, `audit.checkpoint`,
`audit.offline`) keep their own plain standard-library errors (`NoteError`, `ProofError`,
`BundleUnreadable`), and `lifted` maps them to the classes below where an online edge meets
them (`api.errors.LOWER_ERRORS`). Why not make those LedgerErrors too: the offline verifier
is what an auditor runs on a bundle with nothing of the application installed, and its trust
base is kept to the standard library, `cryptography`, the canonical encoding and the shared
checks (issue 8; tests/audit/test_offline_imports.py holds it). `ledger.errors` is
standard-library-only today, but it is the domain's module and grows with the domain; an
auditor should not have to review it, nor should a later import there break the verifier.
The offline verifier is its own process and reports its errors itself (`audit.offline.cli`).
"""

from __future__ import annotations

from ledger.errors import LedgerError


class AuditError(LedgerError):
    """Root of the audit log's refusals: the log refuses, or a check failed."""

    code = "AUDIT_REFUSED"
    rule = "audit"
    template_zh = "{why_zh}"
    template_en = "{why_en}"


class SealRefused(AuditError):
    """A stored event to be sealed does not match its hash or its stream's chain; the events
    before it were sealed (`sealed` of them in this run), it and those after it were not."""

    code = "SEAL_REFUSED"
    template_zh = ("拒绝封存：流 {stream} 版本 {version}（通知号 {notification}）与其哈希或链不符"
                   "（{problem}）；此前 {sealed} 个事件已封存，请运行 `fundledger verify`")
    template_en = ("refusing to seal: stream {stream} version {version} (notification "
                   "{notification}): {problem}; the {sealed} events before it were sealed; "
                   "run `fundledger verify`")

    @property
    def sealed(self) -> int:
        """How many events this run sealed before the refused one."""
        return int(self.details["sealed"])


class SigningRefused(AuditError):
    """A checkpoint was not signed: the key is not the log's current key, or the stored tree
    is not consistent with the latest checkpoint."""

    code = "SIGNING_REFUSED"
    template_zh = "拒绝签名：{why_zh}"
    template_en = "signing refused: {why_en}"


class WitnessRefused(AuditError):
    """A witness refused to cosign: bad signature, another origin, or not consistent with
    the checkpoint it cosigned before."""

    code = "WITNESS_REFUSED"
    template_zh = "拒绝副署：{why_zh}"
    template_en = "refused to cosign: {why_en}"


class NoReceipt(AuditError):
    """No receipt can be given: the entry is unknown, not yet sealed, or no signed checkpoint
    covers it yet."""

    code = "NO_RECEIPT"
    template_zh = "无法出具收据：{why_zh}"
    template_en = "no receipt: {why_en}"


class NoCheckpoint(AuditError):
    """No signed checkpoint (of the size asked for) exists to show or export against."""

    code = "NO_CHECKPOINT"
    template_zh = "没有{which_zh}已签名的检查点：请先运行 `fundledger seal --key FILE`"
    template_en = "no {which_en}signed checkpoint: run `fundledger seal --key FILE` first"


class AuditFileUnreadable(AuditError):
    """A file the audit log keeps outside the store (a witness's state) cannot be read."""

    code = "AUDIT_FILE_UNREADABLE"
    template_zh = "无法读取 {path}：{reason}"
    template_en = "cannot read {path}: {reason}"


class NoteInvalid(AuditError):
    """A signed note, checkpoint, cosignature or verifier key given to the log cannot be read or
    does not verify (`audit.note.NoteError` at the online edge)."""

    code = "NOTE_INVALID"
    template_zh = "签名注记或密钥无效：{reason}"
    template_en = "invalid signed note or key: {reason}"


class ProofInvalid(AuditError):
    """An inclusion or consistency proof does not hold (`audit.merkle.ProofError` at the
    online edge)."""

    code = "PROOF_INVALID"
    template_zh = "证明不成立：{reason}"
    template_en = "the proof does not hold: {reason}"


class BundleNotReadable(AuditError):
    """An audit bundle cannot be read at all: no manifest, not a bundle, a file missing
    (`audit.offline.bundle.BundleUnreadable` at an online edge)."""

    code = "BUNDLE_UNREADABLE"
    template_zh = "无法读取审计包：{reason}"
    template_en = "the audit bundle cannot be read: {reason}"


def lifted(e: Exception) -> LedgerError | None:
    """The LedgerError for a plain error of the offline verifier's building blocks, or None.

    Their text is English only (it follows the signed-note and RFC 9162 specifications); it
    is carried as `reason`, with the Chinese said by the class."""
    from audit.merkle import ProofError
    from audit.note import NoteError
    from audit.offline.bundle import BundleUnreadable

    if isinstance(e, BundleUnreadable):
        return BundleNotReadable.of("bundle", reason=str(e))
    if isinstance(e, NoteError):
        return NoteInvalid.of("note", reason=str(e))
    if isinstance(e, ProofError):
        return ProofInvalid.of("proof", reason=str(e))
    return None


class SealerRunning(AuditError):
    """Another process runs the store's sealing loop; one at a time is enough (and a second
    would only wait for the log's lock at every page)."""

    code = "SEALER_RUNNING"
    template_zh = "另一进程正在持续封存本存储（`fundledger seal --follow`）：同一时间只需一个"
    template_en = ("another process is already sealing this store (`fundledger seal "
                   "--follow`): one at a time")
