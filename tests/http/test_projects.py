"""The project register over HTTP: every project's money, one project with its entries, as of a
date, read-your-writes, and who may read it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import COUNTY, PROGRAMME
from tests.http.conftest import BASE, Api
from tests.http.test_writes import DISBURSEMENT, PROJECT, _funded


def _get(api: Api, who: str, path: str, **params: Any) -> Any:
    return api.client.get(BASE + path, params=params,
                          headers={"Authorization": f"Bearer {api.tokens[who]}"})


def _spent(api: Api) -> None:
    """P1 (3,000,000 budget): 100,000 disbursed, 80,000 spent, 500 of the disbursement
    reversed; P2 registered, nothing paid."""
    _funded(api)
    assert api.post("county", "/disbursements", DISBURSEMENT).status_code == 201
    assert api.post("county", "/expenditures", {
        "entry_id": "E1", "project_code": "P1", "amount": "80000", "purpose": "装修",
        "invoice_no": "I1", "business_date": "2020-04-10"}).status_code == 201
    assert api.post("county", "/reversals", {
        "entry_id": "R1", "target_entry_id": "D1", "amount": "500", "reason": "录入错误",
        "business_date": "2020-04-11"}).status_code == 201
    assert api.post("county", "/projects", {
        **PROJECT, "project_code": "P2", "name": "农村物流站点", "category": "training",
        "budget": "1000000", "business_date": "2020-04-12"}).status_code == 201


def test_the_register_shows_each_projects_money(api: Api) -> None:
    _spent(api)
    r = _get(api, "county", "/projects")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert (doc["programme"], doc["county_code"]) == (PROGRAMME, COUNTY)
    rows = {p["project_code"]: p for p in doc["projects"]}
    assert sorted(rows) == ["P1", "P2"]
    p1 = rows["P1"]
    assert (p1["name"], p1["category"]) == ("县级电商公共服务中心", "public_services")
    assert (p1["budget_fen"], p1["disbursed_fen"], p1["expended_fen"]) == (
        300_000_000, 9_950_000, 8_000_000)
    assert p1["remaining_budget_fen"] == 300_000_000 - 9_950_000
    assert p1["disbursed_yuan"] == "99500.00" and p1["last_entry_id"] == "R1"
    assert rows["P2"]["disbursed_fen"] == 0 and rows["P2"]["budget_yuan"] == "1000000.00"


def test_as_of_a_date_shows_the_register_then(api: Api) -> None:
    _spent(api)
    doc = _get(api, "auditor", "/projects", as_of="2020-04-03").json()
    assert [p["project_code"] for p in doc["projects"]] == ["P1"]
    assert doc["projects"][0]["disbursed_fen"] == 10_000_000
    assert doc["projects"][0]["expended_fen"] == 0
    assert doc["as_of"]["business_date"] == "2020-04-03"


def test_one_project_with_its_entries(api: Api) -> None:
    _spent(api)
    r = _get(api, "reviewer", "/projects/P1")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["project"]["project_code"] == "P1"
    assert doc["project"]["expended_fen"] == 8_000_000
    entries = [e["entry_id"] for e in doc["entries"]]
    assert entries == ["project:P1", "D1", "E1", "R1"] and doc["next_cursor"] is None
    assert all(len(e["event_hash"]) == 64 and e["actor_id"] for e in doc["entries"])
    then = _get(api, "reviewer", "/projects/P1", as_of="2020-04-03").json()
    assert [e["entry_id"] for e in then["entries"]] == ["project:P1", "D1"]
    assert then["project"]["expended_fen"] == 0


def test_a_projects_entries_a_page_at_a_time(api: Api) -> None:
    _spent(api)
    first = _get(api, "auditor", "/projects/P1", limit=3).json()
    assert [e["entry_id"] for e in first["entries"]] == ["project:P1", "D1", "E1"]
    rest = _get(api, "auditor", "/projects/P1", limit=3, cursor=first["next_cursor"]).json()
    assert [e["entry_id"] for e in rest["entries"]] == ["R1"]


def test_the_next_read_sees_a_new_project(api: Api) -> None:
    _funded(api)
    doc = _get(api, "county", "/projects/P1").json()
    assert doc["project"]["budget_fen"] == 300_000_000 and doc["project"]["disbursed_fen"] == 0


@pytest.mark.parametrize(("who", "status"), [
    ("province", 200), ("city", 200), ("county", 200), ("auditor", 200), ("reviewer", 200),
    ("other_county", 403)])
def test_who_may_read_the_register(api: Api, who: str, status: int) -> None:
    _funded(api)
    for path in ("/projects", "/projects/P1"):
        r = _get(api, who, path)
        assert r.status_code == status, (path, r.text)


def test_an_unknown_project_or_county_is_404(api: Api) -> None:
    _funded(api)
    r = _get(api, "auditor", "/projects/P404")
    assert r.status_code == 404 and r.json()["code"] == "UNKNOWN_PROJECT"
    assert r.headers["content-type"] == "application/problem+json"
    r = api.client.get(f"/v1/programmes/{PROGRAMME}/counties/441499/projects",
                       headers={"Authorization": f"Bearer {api.tokens['province']}"})
    assert r.status_code == 404 and r.json()["code"] == "UNKNOWN_COUNTY"
