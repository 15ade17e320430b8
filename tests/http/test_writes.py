"""County commands over HTTP: the token's actor is recorded, writes are idempotent per key,
refusals are problem+json with nothing recorded."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.county import county_stream_id
from tests.conftest import COUNTY, PROGRAMME
from tests.http.conftest import Api

PROJECT = {"project_code": "P1", "name": "县级电商公共服务中心", "category": "public_services",
           "budget": "3000000.00", "responsible_person": "张三", "implementing_unit": "县商务局",
           "start_date": "2020-04-01", "end_date": "2021-06-30", "business_date": "2020-04-02"}
APPROPRIATION = {"entry_id": "A1", "batch": 1, "amount": "5000000", "document_no": "粤5号",
                 "business_date": "2020-04-01"}
DISBURSEMENT = {"entry_id": "D1", "project_code": "P1", "amount": "100000.00",
                "payee": "某公司", "voucher_no": "V1", "business_date": "2020-04-03"}


def _funded(api: Api) -> None:
    assert api.post("province", "/appropriations", APPROPRIATION).status_code == 201
    assert api.post("county", "/projects", PROJECT).status_code == 201


def test_a_county_officers_day(api: Api) -> None:
    """Register, disburse, spend, reverse: each 201 with hash, position and receipt link;
    the events carry the token's actor, not anything the body says."""
    _funded(api)
    r = api.post("county", "/disbursements", DISBURSEMENT)
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["kind"] == "disbursement" and doc["entry_id"] == "D1"
    assert len(doc["event_hash"]) == 64 and doc["position"] > 0 and not doc["replayed"]
    assert doc["links"]["receipt"].startswith("/v1/audit/receipts/D1?")
    spent = {"entry_id": "E1", "project_code": "P1", "amount": "80000", "purpose": "装修",
             "invoice_no": "I1", "business_date": "2020-04-10"}
    assert api.post("county", "/expenditures", spent).status_code == 201
    reversal = {"entry_id": "R1", "target_entry_id": "D1", "amount": "500",
                "reason": "金额录入错误", "business_date": "2020-04-11"}
    assert api.post("county", "/reversals", reversal).status_code == 201
    events = list(api.ledger.events.get(county_stream_id(PROGRAMME, COUNTY)))
    actors = [(e.actor_id, e.actor_role, e.actor_scope) for e in events[-4:]]
    assert actors == [("county-officer-1", "county", COUNTY)] * 4
    assert type(events[-1]).__name__ == "EntryReversed" and events[-1].entry_id == "R1"


def test_a_replay_with_the_same_key_returns_the_original_and_records_nothing(api: Api) -> None:
    _funded(api)
    first = api.post("county", "/disbursements", DISBURSEMENT, key="k-1")
    count = api.events()
    again = api.post("county", "/disbursements", DISBURSEMENT, key="k-1")
    assert again.status_code == first.status_code == 201
    assert again.content == first.content and again.headers["Idempotent-Replayed"] == "true"
    assert api.events() == count


def test_the_same_key_with_another_body_is_a_conflict(api: Api) -> None:
    _funded(api)
    api.post("county", "/disbursements", DISBURSEMENT, key="k-1")
    count = api.events()
    other = {**DISBURSEMENT, "entry_id": "D2"}
    r = api.post("county", "/disbursements", other, key="k-1")
    assert r.status_code == 409 and r.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert api.events() == count


def test_a_retry_under_a_new_key_is_answered_by_the_ledger_as_a_replay(api: Api) -> None:
    """The key's record is lost (another key): the entry id still makes it a replay: 200."""
    _funded(api)
    first = api.post("county", "/disbursements", DISBURSEMENT).json()
    count = api.events()
    r = api.post("county", "/disbursements", DISBURSEMENT)
    assert r.status_code == 200 and r.json()["replayed"]
    assert r.json()["event_hash"] == first["event_hash"] and api.events() == count


@pytest.mark.parametrize(("who", "path", "body", "status", "code"), [
    ("county", "/disbursements", {**DISBURSEMENT, "amount": "9000000"}, 409,
     "DISBURSEMENT_EXCEEDS_BUDGET"),
    ("county", "/disbursements", {**DISBURSEMENT, "amount": 100000.5}, 422, None),
    ("county", "/disbursements", {**DISBURSEMENT, "project_code": "NOPE"}, 404,
     "UNKNOWN_PROJECT"),
    ("other_county", "/disbursements", DISBURSEMENT, 403, "NOT_PERMITTED"),
    ("reviewer", "/disbursements", DISBURSEMENT, 403, "NOT_PERMITTED"),
    ("county", "/appropriations", {**APPROPRIATION, "entry_id": "A2"}, 403, "NOT_PERMITTED"),
    ("county", "/disbursements", {**DISBURSEMENT, "kind": "expenditure"}, 422, "FIELD_IN_PATH"),
    ("county", "/disbursements", {**DISBURSEMENT, "county_code": "441424"}, 422,
     "FIELD_IN_PATH"),
])
def test_refusals_are_problems_and_record_nothing(api: Api, who: str, path: str, body: Any,
                                                  status: int, code: str | None) -> None:
    _funded(api)
    count = api.events()
    r = api.post(who, path, body)
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    doc = r.json()
    assert doc["status"] == status and doc["message_zh"] and doc["message_en"]
    if code is not None:
        assert doc["code"] == code
    assert api.events() == count
