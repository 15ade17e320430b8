"""The public column over HTTP: no token, a county's funded projects with their money, and no
person's name."""

from __future__ import annotations

from tests.conftest import COUNTY, PROGRAMME
from tests.http.conftest import Api
from tests.http.test_writes import DISBURSEMENT, PROJECT, _funded

PATH = f"/v1/public/programmes/{PROGRAMME}/counties/{COUNTY}/projects"


def test_the_public_sees_funded_projects_without_persons(api: Api) -> None:
    _funded(api)
    api.post("county", "/disbursements", DISBURSEMENT)
    r = api.client.get(PATH)
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["county_name"] == "丰顺县"
    [project] = doc["projects"]
    assert project["project_code"] == "P1" and project["name"] == PROJECT["name"]
    assert project["disbursed_fen"] == 10_000_000 and project["budget_yuan"] == "3000000.00"
    assert PROJECT["responsible_person"] not in r.text  # 张三: a person, not disclosed
    assert "responsible_person" not in project


def test_unknown_places_are_problems(api: Api) -> None:
    assert api.client.get(PATH.replace(COUNTY, "441499")).status_code == 404
    assert api.client.get(PATH.replace(COUNTY, "44")).status_code == 422
    assert api.client.get(PATH.replace(PROGRAMME, "nope")).status_code == 404
