"""Programmes over HTTP: opening (a replay is 200), admitting, reading, the summary by scope."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import PROGRAMME
from tests.http.conftest import Api

OPEN = {"programme": PROGRAMME, "total": "100000000.00", "business_date": "2020-03-01"}
ADMIT = {"county_code": "441424", "name": "五华县", "allocation": "8000000",
         "document_no": "粤商务建字〔2020〕2号", "business_date": "2020-03-02"}


def _get(api: Api, who: str, path: str, **params: str) -> Any:
    return api.client.get(path, params=params,
                          headers={"Authorization": f"Bearer {api.tokens[who]}"})


def test_opening_the_same_programme_again_is_a_replay_and_another_total_a_conflict(
        api: Api) -> None:
    count = api.events()
    r = api.post("province", "/v1/programmes", OPEN)
    assert r.status_code == 200 and r.json()["replayed"], r.text
    r = api.post("province", "/v1/programmes", {**OPEN, "total": "1.00"})
    assert r.status_code == 409 and r.json()["code"] == "ALREADY_EXISTS"
    r = api.post("county", "/v1/programmes", {**OPEN, "total": "1.00"})
    assert r.status_code == 403
    r = api.post("province", "/v1/programmes", {**OPEN, "total": 100000000})
    assert r.status_code == 422 and r.json()["field"] == "total"
    r = api.post("province", "/v1/programmes", {**OPEN, "surprise": 1})
    assert r.status_code == 422 and r.json()["field"] == "surprise"
    assert api.events() == count


def test_admitting_a_county_and_who_sees_it(api: Api) -> None:
    r = api.post("province", f"/v1/programmes/{PROGRAMME}/counties", ADMIT)
    assert r.status_code == 201, r.text
    seen = _get(api, "province", f"/v1/programmes/{PROGRAMME}").json()
    assert [c["county_code"] for c in seen["counties"]] == ["441423", "441424"]
    assert seen["counties"][1]["allocation_yuan"] == "8000000.00"
    mine = _get(api, "county", f"/v1/programmes/{PROGRAMME}").json()
    assert [c["county_code"] for c in mine["counties"]] == ["441423"]
    assert _get(api, "province", "/v1/programmes/nope").status_code == 404


@pytest.mark.parametrize(("who", "params", "status"), [
    ("province", {}, 200), ("auditor", {"city": "441400"}, 200), ("reviewer", {}, 200),
    ("city", {}, 200), ("city", {"city": "441400"}, 200), ("city", {"city": "440300"}, 403),
    ("county", {}, 403), ("province", {"city": "4414"}, 422),
    ("province", {"as_of": "2020-02-30"}, 422),
])
def test_the_summary_by_scope(api: Api, who: str, params: dict[str, str],
                              status: int) -> None:
    r = _get(api, who, f"/v1/programmes/{PROGRAMME}/summary", **params)
    assert r.status_code == status, r.text
    if status == 200:
        assert [c["county_code"] for c in r.json()["counties"]] == ["441423"]


def test_admitting_with_a_field_it_does_not_have_is_refused(api: Api) -> None:
    """An admission names only its own fields: another (an actor, say) is refused, as a county
    command's would be, and nothing is recorded."""
    count = api.events()
    r = api.post("province", f"/v1/programmes/{PROGRAMME}/counties",
                 {**ADMIT, "actor_id": "someone-else"})
    assert r.status_code == 422 and r.json()["code"] == "INVALID_FIELD"
    assert r.json()["field"] == "actor_id" and api.events() == count
