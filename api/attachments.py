"""Attachments (档案): files that entries name by SHA-256 — vouchers, contracts, photos,
acceptance reports — kept content-addressed in a directory the operator names.

Layout: `<dir>/sha256/<first two hex digits>/<all 64 hex digits>` for the bytes, and beside
them `<digest>.json` with who first sent the file (actor, role, scope), its media type, size
and when. A key is the path under `<dir>`, so an S3-compatible store can hold the same layout.
A file is written to a temporary name, flushed to disk and renamed: a reader never sees half a
file, and the same bytes sent twice are one file (the first sender's record is kept).

Only PDF, OFD, JPEG and PNG are taken, judged by their content, not by a name or a header.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import tempfile
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

from ledger.actors import Actor
from ledger.errors import LedgerError

ATTACHMENT_BYTES_MAX = 20 << 20  # 20 MiB: a scanned contract or a few photos
SHA256_RE = re.compile(r"[0-9a-f]{64}")
_OFD_ROOT = "OFD.xml"  # the entry every OFD (GB/T 33190) package has at its root


class AttachmentRefused(LedgerError):
    """The file is empty, too large, or not a PDF, OFD, JPEG or PNG by its content."""

    code = "ATTACHMENT_REFUSED"
    rule = "input"
    template_zh = "附件不被接受：{why_zh}"
    template_en = "attachment refused: {why_en}"


class AttachmentNotHeld(LedgerError):
    """A write names an attachment the store does not hold (send it to /v1/attachments
    first), or a read asks for one."""

    code = "ATTACHMENT_NOT_HELD"
    rule = "reference"
    template_zh = "附件 {sha256} 不在附件库中：请先上传"
    template_en = "attachment {sha256} is not held: send it to /v1/attachments first"


class AttachmentsOff(LedgerError):
    """No attachments directory is configured (LEDGER_ATTACHMENTS_DIR)."""

    code = "ATTACHMENTS_NOT_CONFIGURED"
    rule = "io"
    template_zh = "未配置附件库（LEDGER_ATTACHMENTS_DIR）"
    template_en = "no attachments directory is configured (LEDGER_ATTACHMENTS_DIR)"


@dataclass(frozen=True)
class Attachment:
    sha256: str
    media_type: str
    size_bytes: int
    sent_by: str
    sent_by_role: str
    sent_by_scope: str
    sent_at: str

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def media_type(data: bytes) -> str | None:
    """The media type of a PDF, OFD, JPEG or PNG file judged by its bytes; None otherwise."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if _OFD_ROOT in z.namelist():
                    return "application/ofd"
        except zipfile.BadZipFile:
            return None
    return None


class AttachmentStore:
    """The attachments under one directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _path(self, digest: str) -> Path:
        return self.directory / "sha256" / digest[:2] / digest

    def has(self, digest: str) -> bool:
        return bool(SHA256_RE.fullmatch(digest)) and self._path(digest).is_file()

    def record(self, digest: str) -> Attachment:
        if not self.has(digest):
            raise AttachmentNotHeld.of("sha256", sha256=digest[:64])
        doc = json.loads(self._path(digest).with_suffix(".json").read_text("utf-8"))
        return Attachment(**doc)

    def read(self, digest: str) -> bytes:
        self.record(digest)
        return self._path(digest).read_bytes()

    def put(self, data: bytes, actor: Actor, now: dt.datetime) -> tuple[Attachment, bool]:
        """Keep a file: (its record, whether it was new)."""
        if not data or len(data) > ATTACHMENT_BYTES_MAX:
            raise AttachmentRefused.of(
                "body", why_zh=f"大小须为1至{ATTACHMENT_BYTES_MAX}字节",
                why_en=f"its size must be 1..{ATTACHMENT_BYTES_MAX} bytes",
                limit_bytes=ATTACHMENT_BYTES_MAX)
        kind = media_type(data)
        if kind is None:
            raise AttachmentRefused.of("body", why_zh="只接受 PDF、OFD、JPEG、PNG（按内容判断）",
                                       why_en="only PDF, OFD, JPEG and PNG are taken (judged "
                                              "by content)")
        digest = hashlib.sha256(data).hexdigest()
        if self.has(digest):
            return self.record(digest), False
        record = Attachment(digest, kind, len(data), actor.id, actor.role, actor.scope,
                            now.isoformat(timespec="seconds"))
        path = self._path(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = json.dumps(record.to_dict(), ensure_ascii=False).encode("utf-8")
        _publish(path.with_suffix(".json"), meta)
        _publish(path, data)  # last: `has` is true only once both are whole
        return record, True


def _publish(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all: a temporary file, flushed, then renamed."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
