"""A county's read models over HTTP: read-your-writes, as-of dates, and the scope of reads."""

from __future__ import annotations

import pytest

from tests.conftest import COUNTY, PROGRAMME
from tests.http.conftest import BASE, Api
from tests.http.test_writes import DISBURSEMENT, _funded


def _get(api: Api, who: str, path: str, **params: str) -> object:
    return api.client.get(BASE + path, params=params,
                          headers={"Authorization": f"Bearer {api.tokens[who]}"})


def test_the_next_read_sees_the_write(api: Api) -> None:
    _funded(api)
    written = api.post("county", "/disbursements", DISBURSEMENT).json()
    r = _get(api, "county", "/balances")
    assert r.status_code == 200, r.text
    doc = r.json()
    assert doc["position"] >= written["position"]
    assert doc["money"]["disbursed_fen"] == 10_000_000
    assert doc["money"]["disbursed_yuan"] == "100000.00"


def test_as_of_a_date_before_the_write_does_not_count_it(api: Api) -> None:
    _funded(api)
    api.post("county", "/disbursements", DISBURSEMENT)
    doc = _get(api, "auditor", "/balances", as_of="2020-04-02").json()
    assert doc["money"]["disbursed_fen"] == 0 and doc["as_of"]["business_date"] == "2020-04-02"


@pytest.mark.parametrize("path", ["/status", "/balances", "/compliance", "/execution",
                                  "/duties"])
@pytest.mark.parametrize(("who", "status"), [
    ("province", 200), ("city", 200), ("county", 200), ("auditor", 200), ("reviewer", 200),
    ("other_county", 403)])
def test_who_may_read_a_county(api: Api, path: str, who: str, status: int) -> None:
    r = _get(api, who, path)
    assert r.status_code == status, r.text
    if status == 200:
        assert r.json()["county_code"] == COUNTY and r.json()["programme"] == PROGRAMME


@pytest.mark.parametrize(("path", "params", "status"), [
    ("/balances", {"as_of": "2020-13-01"}, 422),
    ("/balances", {"year": "twenty"}, 422),
    ("/balances", {"year": "1999"}, 422),
    ("/nothing-here", {}, 404),
])
def test_bad_reads_are_problems(api: Api, path: str, params: dict[str, str],
                                status: int) -> None:
    r = _get(api, "auditor", path, **params)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"


def test_an_unknown_county_is_404_for_those_who_may_read_it(api: Api) -> None:
    r = api.client.get(f"/v1/programmes/{PROGRAMME}/counties/441499/status",
                       headers={"Authorization": f"Bearer {api.tokens['province']}"})
    assert r.status_code == 404 and r.json()["code"] == "UNKNOWN_COUNTY"
    r = api.client.get(f"/v1/programmes/{PROGRAMME}/counties/441499/status",
                       headers={"Authorization": f"Bearer {api.tokens['county']}"})
    assert r.status_code == 403  # a county officer learns nothing of other counties
