"""The role × endpoint matrix of docs/api.md equals what the permission tables give, and each
cell holds: an allowed role is never refused for its role (no 401/403), a refused one is 403,
and without a token every endpoint is 401."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from api.http.matrix import COLUMNS, PUBLIC, markdown, rows
from tests.conftest import COUNTY, PROGRAMME
from tests.http.conftest import Api

DOC = Path(__file__).parents[2] / "docs" / "api.md"
PATH_VALUES = {"programme": PROGRAMME, "county": COUNTY, "batch": "2", "period": "2020-05",
               "entry": "A1", "project": "P1", "sha256": "0" * 64}


def _openapi(api: Api) -> dict[str, Any]:
    return api.client.get("/openapi.json").json()


def test_the_documented_matrix_is_the_permission_tables(api: Api) -> None:
    assert markdown(_openapi(api)) in DOC.read_text("utf-8"), (
        "docs/api.md is stale: run scripts/api_matrix_doc.py")


def _call(api: Api, method: str, path: str, example: Any, who: str) -> Any:
    url = path.format(**PATH_VALUES)
    headers = {} if who == PUBLIC else {"Authorization": f"Bearer {api.tokens[who]}"}
    if method == "GET":  # history and entries take these as query parameters; others ignore them
        return api.client.get(url, params={"programme": PROGRAMME, "county": COUNTY},
                              headers=headers)
    headers["Idempotency-Key"] = f"matrix-{who}-{method}-{path}"
    return api.client.post(url, json=example, headers=headers)


def test_every_cell_of_the_matrix(api: Api) -> None:
    spec = _openapi(api)
    failures = []
    for method, path, roles, _ in rows(spec):
        op = spec["paths"][path][method.lower()]
        example = op.get("requestBody", {}).get("content", {}).get(
            "application/json", {}).get("example")
        for who in COLUMNS:
            r = _call(api, method, path, example, who)
            refused = r.status_code in (401, 403)
            expected = 401 if who == PUBLIC and who not in roles else 403
            if (who in roles) == refused or (refused and r.status_code != expected):
                failures.append(f"{method} {path} as {who}: {r.status_code} {r.text[:120]}")
    assert not failures, "\n".join(failures)
