"""`/docs` works offline: its page names no asset on the internet, and the vendored
swagger-ui files it loads are served and are the ones VENDOR.md and SHA256SUMS record."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from tests.http.conftest import Api

VENDORED = Path(__file__).parents[2] / "api" / "http" / "static" / "swagger-ui"


def test_the_docs_page_loads_nothing_from_the_internet(api: Api) -> None:
    page = api.client.get("/docs")
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.text), page.text
    for asset in re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text):
        assert asset.startswith("/static/swagger-ui/"), asset
        assert api.client.get(asset).status_code == 200, asset
    assert api.client.get("/redoc").status_code == 404  # its page would load from a CDN


def test_the_vendored_files_are_the_recorded_ones() -> None:
    sums = dict(line.split()[::-1] for line in
                (VENDORED / "SHA256SUMS").read_text("ascii").splitlines())
    assert {"swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"} <= set(sums)
    for name, digest in sums.items():
        assert hashlib.sha256((VENDORED / name).read_bytes()).hexdigest() == digest, name
    assert "5.35.0" in (VENDORED / "VENDOR.md").read_text("utf-8")
