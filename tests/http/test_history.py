"""History over HTTP: by county, entry and actor, paginated; narrow roles see one county."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import COUNTY, PROGRAMME
from tests.http.conftest import Api
from tests.http.test_writes import DISBURSEMENT, _funded


def _get(api: Api, who: str, path: str, **params: Any) -> Any:
    return api.client.get(path, params=params,
                          headers={"Authorization": f"Bearer {api.tokens[who]}"})


def test_everything_one_person_did_a_page_at_a_time(api: Api) -> None:
    _funded(api)
    for n in range(1, 4):
        assert api.post("county", "/disbursements",
                        {**DISBURSEMENT, "entry_id": f"D{n}"}).status_code == 201
    seen, cursor = [], None
    while True:
        params = {"programme": PROGRAMME, "actor": "county-officer-1", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        doc = _get(api, "reviewer", "/v1/history", **params).json()
        seen += [e["entry_id"] for e in doc["events"]]
        cursor = doc["next_cursor"]
        if cursor is None:
            break
    assert seen == ["project:P1", "D1", "D2", "D3"]
    first = _get(api, "auditor", "/v1/history", programme=PROGRAMME, county=COUNTY).json()
    event = first["events"][-1]
    for key in ("position", "actor_id", "business_date", "timestamp", "event_hash",
                "prev_hash"):
        assert event[key] is not None, key
    assert event["actor_id"] == "county-officer-1" and len(event["event_hash"]) == 64


def test_one_entry_and_its_reversal(api: Api) -> None:
    _funded(api)
    api.post("county", "/disbursements", DISBURSEMENT)
    api.post("county", "/reversals", {"entry_id": "R1", "target_entry_id": "D1",
                                     "amount": "500", "reason": "录入错误",
                                     "business_date": "2020-04-05"})
    doc = _get(api, "county", "/v1/entries/D1", programme=PROGRAMME, county=COUNTY).json()
    assert [e["entry_id"] for e in doc["events"]] == ["D1", "R1"]  # and what reverses it
    r = _get(api, "county", "/v1/entries/NOPE", programme=PROGRAMME, county=COUNTY)
    assert r.status_code == 404 and r.json()["code"] == "UNKNOWN_ENTRY"


@pytest.mark.parametrize(("who", "params", "status"), [
    ("county", {"county": COUNTY}, 200),
    ("county", {}, 403),                       # not the programme stream, not across counties
    ("county", {"actor": "prov-officer-1"}, 403),
    ("other_county", {"county": COUNTY}, 403),
    ("city", {"county": COUNTY}, 200),
    ("city", {}, 403),
    ("province", {}, 200), ("auditor", {"actor": "x"}, 200), ("reviewer", {}, 200),
    ("reviewer", {"since": "2020-13-01"}, 422),
    ("reviewer", {"cursor": "bm9wZQ"}, 422),
    ("reviewer", {"limit": 0}, 422), ("reviewer", {"limit": 100000}, 422),
])
def test_who_reads_which_history(api: Api, who: str, params: dict[str, Any],
                                 status: int) -> None:
    r = _get(api, who, "/v1/history", programme=PROGRAMME, **params)
    assert r.status_code == status, r.text
