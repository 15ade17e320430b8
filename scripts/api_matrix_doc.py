"""Regenerate the role × endpoint matrix of docs/api.md from the routes' declared permissions
(`api.http.matrix`): `.venv/bin/python scripts/api_matrix_doc.py`. The test
`tests/http/test_role_matrix.py` fails while the committed docs differ."""

from __future__ import annotations

from pathlib import Path

from api.config import Settings
from api.http.app import create_app
from api.http.matrix import markdown

DOC = Path(__file__).resolve().parent.parent / "docs" / "api.md"
HEAD = "| endpoint | "

if __name__ == "__main__":
    text = DOC.read_text("utf-8")
    start = text.index(HEAD)
    end = text.find("\n\n", start)
    table = markdown(create_app(Settings("sqlite:///unused.db")).openapi())
    DOC.write_text(text[:start] + table + (text[end + 1:] if end != -1 else ""), "utf-8")
    print(f"wrote {DOC}")
