"""Attachments over HTTP: kept content-addressed, judged by content, read by those of the
sender's scope; a write naming an attachment the store does not hold is refused."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.attachments import ATTACHMENT_BYTES_MAX
from api.config import Settings
from api.http.app import create_app
from tests.http.conftest import Api
from tests.http.test_writes import DISBURSEMENT, _funded

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _ofd(with_root: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("OFD.xml" if with_root else "other.xml", "<ofd:OFD/>")
    return buf.getvalue()


def _send(api: Api, who: str, data: bytes, key: str | None = None) -> Any:
    return api.client.post("/v1/attachments", content=data, headers={
        **api.headers(who, key), "Content-Type": "application/octet-stream"})


def _fetch(api: Api, who: str, digest: str) -> Any:
    return api.client.get(f"/v1/attachments/{digest}",
                          headers={"Authorization": f"Bearer {api.tokens[who]}"})


def test_a_file_is_kept_once_by_its_digest_and_read_back(api: Api) -> None:
    r = _send(api, "county", PNG, key="a-1")
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert doc["media_type"] == "image/png" and doc["sent_by"] == "county-officer-1"
    again = _send(api, "county", PNG)
    assert again.status_code == 200 and again.json()["sha256"] == doc["sha256"]
    assert _send(api, "county", PNG, key="a-1").headers["Idempotent-Replayed"] == "true"
    assert _send(api, "county", PNG + b"x", key="a-1").status_code == 409
    got = _fetch(api, "county", doc["sha256"])
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert _fetch(api, "reviewer", doc["sha256"]).status_code == 200
    assert _fetch(api, "other_county", doc["sha256"]).status_code == 403
    assert _fetch(api, "county", "0" * 64).status_code == 404
    assert _fetch(api, "county", "nothex").status_code == 422


@pytest.mark.parametrize(("data", "kind"), [
    (b"%PDF-1.7\n...", "application/pdf"), (b"\xff\xd8\xff\xe0" + b"\x00" * 8, "image/jpeg"),
    (_ofd(), "application/ofd")])
def test_the_kinds_taken_are_judged_by_content(api: Api, data: bytes, kind: str) -> None:
    r = _send(api, "auditor", data)
    assert r.status_code == 201 and r.json()["media_type"] == kind, r.text


@pytest.mark.parametrize(("data", "status"), [
    (b"", 422), (b"plain text, named .pdf", 422), (_ofd(with_root=False), 422),
    (b"PK\x03\x04 not a zip", 422), (b"%PDF-" + b"x" * ATTACHMENT_BYTES_MAX, 413)])
def test_other_files_are_refused(api: Api, data: bytes, status: int, tmp_path: Path) -> None:
    r = _send(api, "county", data)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert not list((tmp_path / "attachments").rglob("*.json"))


def test_who_may_send(api: Api) -> None:
    assert _send(api, "reviewer", PNG).status_code == 403


def test_a_write_names_only_attachments_the_store_holds(api: Api) -> None:
    _funded(api)
    digest = hashlib.sha256(PNG).hexdigest()
    count = api.events()
    r = api.post("county", "/disbursements", {**DISBURSEMENT, "attachments": [digest]})
    assert r.status_code == 404 and r.json()["code"] == "ATTACHMENT_NOT_HELD", r.text
    assert api.events() == count
    assert _send(api, "county", PNG).status_code == 201
    r = api.post("county", "/disbursements", {**DISBURSEMENT, "attachments": [digest]})
    assert r.status_code == 201, r.text


def test_without_an_attachments_directory(app: Any, store_url: str) -> None:
    import datetime as dt

    from api.tokens import TokenStore

    token, _ = TokenStore(store_url).issue("county", "c9", "441423", None,
                                           dt.datetime.now(dt.UTC))
    with TestClient(create_app(Settings(store_url))) as client:
        r = client.post("/v1/attachments", content=PNG, headers={
            "Authorization": f"Bearer {token}", "Idempotency-Key": "k"})
    assert r.status_code == 503 and r.json()["code"] == "ATTACHMENTS_NOT_CONFIGURED"
