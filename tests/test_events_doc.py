"""docs/events.md is a specification of the events: every event class of ledger/county.py and
ledger/programme.py and every field of its data is there with the code's type, and it names no
class or field that does not exist. Also held against real stored events, on both stores."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ledger.county
import ledger.programme
from ledger.actors import IMPORT_FIELDS, Actor
from ledger.application import FundLedger
from ledger.chain import NON_DATA_FIELDS
from ledger.events import ChainedEvent, event_data, event_type
from tests.conftest import COUNTY, COUNTY_ACTOR, PROVINCE, cmd

DOC = Path(__file__).resolve().parent.parent / "docs" / "events.md"
MODULES = (ledger.county.__name__, ledger.programme.__name__)
# The JSON type word the doc gives for each annotation of an event field.
JSON_TYPES = {"str": "string", "int": "integer", "list[str]": "array of strings",
              "dict[str, Any]": "object", "bool": "boolean", "datetime": "string",
              "TAggregateID": "string"}
_HEADING = re.compile(r"^(#{2,3}) +(.+?)\s*$")
_ROW = re.compile(r"^\| *`([A-Za-z_][A-Za-z0-9_]*)` *\| *([^|]+?) *\|")


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def event_classes() -> dict[str, type]:
    """Every concrete event class of the two modules, by its stored type name."""
    return {event_type(c): c for c in _subclasses(ChainedEvent)
            if c.__module__ in MODULES and not c.__name__.startswith("_")}


def _annotations(cls: type) -> dict[str, str]:
    merged: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        for name, ann in vars(klass).get("__annotations__", {}).items():
            text = ann if isinstance(ann, str) else getattr(ann, "__name__", str(ann))
            if not text.startswith(("ClassVar", "typing.ClassVar")):
                merged[name] = text
    return merged


COMMON = {**_annotations(ChainedEvent), **{f: "str" for f in IMPORT_FIELDS},
          "originator_topic": "str"}


def own_fields(cls: type) -> dict[str, str]:
    """The fields of an event class's data besides the common ones, with their annotations."""
    return {k: v for k, v in _annotations(cls).items() if k not in COMMON}


def documented() -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """(common fields -> type, class -> field -> type) as docs/events.md gives them."""
    common: dict[str, str] = {}
    classes: dict[str, dict[str, str]] = {}
    section: dict[str, str] | None = None
    for line in DOC.read_text("utf-8").splitlines():
        heading = _HEADING.match(line)
        if heading:
            level, title = heading.groups()
            if level == "###" and title.startswith("`") and title.endswith("`"):
                name = title.strip("`")
                assert name not in classes, f"{name} documented twice"
                section = classes[name] = {}
            elif level == "##" and title == "Common fields":
                section = common
            else:
                section = None
            continue
        row = _ROW.match(line)
        if row and section is not None:
            field, kind = row.groups()
            assert field not in section, f"{field} documented twice in one table"
            section[field] = kind.strip()
    return common, classes


def test_every_event_class_and_field_is_documented_with_its_type() -> None:
    """Each event class has a section listing exactly its own fields, with the code's types."""
    _, classes = documented()
    code = event_classes()
    assert len(code) == 17, sorted(code)  # 2 programme events, 15 county events
    missing = sorted(set(code) - set(classes))
    unknown = sorted(set(classes) - set(code))
    assert not missing, f"event classes missing from docs/events.md: {missing}"
    assert not unknown, f"docs/events.md names classes that do not exist: {unknown}"
    for name, cls in code.items():
        fields = own_fields(cls)
        doc = classes[name]
        assert set(fields) <= set(doc), f"{name}: undocumented fields {set(fields) - set(doc)}"
        assert set(doc) <= set(fields), f"{name}: documented but absent {set(doc) - set(fields)}"
        for field, ann in fields.items():
            assert doc[field] == JSON_TYPES[ann], f"{name}.{field}: {doc[field]} is not {ann}"


def test_common_fields_are_documented_exactly() -> None:
    """The chain's, the store's, the actor's, the date's and the import's fields."""
    common, _ = documented()
    expected = {**COMMON, **{f: "str" for f in NON_DATA_FIELDS}}
    expected["originator_version"], expected["originator_id"] = "int", "TAggregateID"
    expected["timestamp"] = "datetime"
    assert set(common) == set(expected), (set(expected) ^ set(common))
    for field, ann in expected.items():
        assert common[field] == JSON_TYPES[ann], f"{field}: {common[field]}"


def test_the_check_fails_on_a_missing_or_invented_field(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The check can fail: a renamed or missing field, an invented class, a wrong type."""
    text = DOC.read_text("utf-8")
    without_voucher = "\n".join(line for line in text.splitlines()
                                 if not line.startswith("| `voucher_no` |"))
    for edit in (text.replace("| `payee` |", "| `payee_name` |"),
                 text.replace("### `CountyFund.YearClosed`", "### `CountyFund.YearReopened`"),
                 text.replace("| `batch` | integer", "| `batch` | string"),
                 without_voucher):
        broken = tmp_path / "events.md"
        broken.write_text(edit, "utf-8")
        monkeypatch.setattr(sys.modules[__name__], "DOC", broken)
        with pytest.raises(AssertionError):
            test_every_event_class_and_field_is_documented_with_its_type()


# ---- against stored events --------------------------------------------------------------------


def _record_one_of_each(app: FundLedger) -> None:
    """Every county event type (acceptance included), and one imported event."""
    auditor, city = Actor("auditor-1", "auditor", "441400"), Actor("city-1", "city", "441400")
    steps: list[tuple[dict[str, Any], Actor]] = [
        (cmd("appropriation", entry_id="A1", batch=1, amount="5000000", document_no="X1",
             business_date="2020-04-01"), PROVINCE),
        (cmd("project", project_code="P1", name="中心", category="public_services",
             budget="3000000", responsible_person="张三", implementing_unit="县商务局",
             start_date="2020-04-01", end_date="2021-06-30", business_date="2020-04-02"),
         COUNTY_ACTOR),
        (cmd("budget_adjustment", entry_id="B1", project_code="P1", new_budget="3100000",
             reason="r", approver="a", business_date="2020-04-03"), COUNTY_ACTOR),
        (cmd("ratio_exception", category="public_services", limit="6000000", reason="r",
             approver="a", document_no="E1", business_date="2020-04-03"), PROVINCE),
        (cmd("disbursement", entry_id="D1", project_code="P1", amount="1000", payee="某公司",
             voucher_no="V1", attachments=["ab" * 32], business_date="2020-04-04"),
         COUNTY_ACTOR),
        (cmd("expenditure", entry_id="X1", project_code="P1", amount="400", purpose="p",
             invoice_no="I1", business_date="2020-04-05"), COUNTY_ACTOR),
        (cmd("reversal", entry_id="R1", target_entry_id="D1", amount="100", reason="错",
             business_date="2020-04-06"), COUNTY_ACTOR),
        (cmd("recovery", entry_id="F1", amount="100", reason="r", document_no="F",
             business_date="2021-02-01"), PROVINCE),
        (cmd("batch_decision", batch=2, document_no="D2", business_date="2021-03-01"), PROVINCE),
        (cmd("year_close", year=2020, business_date="2021-03-02"), PROVINCE),
        (cmd("monthly_report", period="2021-02", summary="s", business_date="2021-03-03"),
         COUNTY_ACTOR),
        (cmd("typical_case", title="t", summary="s", business_date="2021-03-04"), COUNTY_ACTOR),
        (cmd("acceptance", conclusion="验收合格", report_no="N1", assessor="某所",
             business_date="2021-12-01"), auditor),
        (cmd("acceptance_confirmation", conclusion="验收合格", business_date="2021-12-02"), city),
    ]
    for payload, actor in steps:
        app.execute(payload, actor)
    app.import_entries([(cmd("disbursement", entry_id="D2", project_code="P1", amount="10",
                             payee="p", voucher_no="V2", business_date="2021-03-05"), None)],
                       runner=COUNTY_ACTOR)


def test_stored_events_hold_exactly_the_documented_fields(app: FundLedger) -> None:
    """Recording one event of every type: each stored event's data holds the documented common
    fields and exactly its type's documented fields (the import fields only when imported)."""
    _record_one_of_each(app)
    common, classes = documented()
    data_common = set(common) - NON_DATA_FIELDS
    seen: set[str] = set()
    for stream in (ledger.programme.programme_stream_id("gd-2020-ecrural"),
                   ledger.county.county_stream_id("gd-2020-ecrural", COUNTY)):
        for event in app.events.get(stream):
            name = event_type(event)
            seen.add(name)
            keys = set(event_data(event))
            imported = set(IMPORT_FIELDS) & keys
            assert imported in (set(), set(IMPORT_FIELDS)), name
            assert keys - imported == (data_common - set(IMPORT_FIELDS)) | set(classes[name])
            for key in keys:
                kind = classes[name].get(key) or common[key]
                value = event_data(event)[key]
                expected = {"string": str, "integer": int, "array of strings": list,
                            "object": dict}[kind]
                assert type(value) is expected, f"{name}.{key}: {type(value).__name__}"
    assert seen == set(event_classes()), set(event_classes()) - seen
