"""Tests of ledger.rules: the packaged GD-2020 rules, and RulesInvalid for broken documents."""

from __future__ import annotations

import copy
import datetime as dt
import tomllib
from collections.abc import Callable
from typing import Any

import pytest

from ledger.errors import RulesInvalid
from ledger.rules import (
    BP_WHOLE,
    packaged_rules,
    packaged_rules_text,
    parse_rules,
    parse_rules_toml,
)

PROGRAMME = "gd-2020-ecrural"


def gd2020_doc() -> dict[str, Any]:
    """A fresh decoded copy of the packaged GD-2020 rules file."""
    return tomllib.loads(packaged_rules_text(PROGRAMME))


def test_gd2020_identity_and_period() -> None:
    """The packaged GD-2020 rules load with their slug, titles, province and period."""
    rules = packaged_rules(PROGRAMME)
    assert rules.programme == PROGRAMME
    assert rules.rules_version == "2020.1"
    assert rules.province_code == "440000"
    assert rules.title_zh == "2020年广东省电子商务进农村综合示范"
    assert rules.period_start == dt.date(2020, 1, 1)
    # the two-year construction period and the year after it, in which 2021 is closed
    assert rules.period_end == dt.date(2022, 12, 31)
    assert rules.years == (2020, 2021, 2022)
    assert rules.acceptance_deadline < rules.period_end


def test_gd2020_three_categories() -> None:
    """GD-2020 has the three categories with their zh names and min / max shares in bp."""
    rules = packaged_rules(PROGRAMME)
    got = [(c.id, c.name_zh, c.min_share_bp, c.max_share_bp, c.denominator)
           for c in rules.categories]
    assert got == [
        ("rural_products_online", "农村产品上行", 3000, None, "allocation"),
        ("public_services", "农村电商公共服务体系", None, 5000, "allocation"),
        ("training", "农村电子商务培训", 1000, None, "allocation"),
    ]
    assert rules.category("public_services") is rules.categories[1]
    assert rules.category("nope") is None


def test_gd2020_two_tranches() -> None:
    """Batch 1 is 50% in 2020 without decision; batch 2 is the rest in 2021 after a decision."""
    rules = packaged_rules(PROGRAMME)
    assert len(rules.tranches) == 2
    one, two = rules.tranches
    assert (one.batch, one.year, one.share_bp, one.requires_decision) == (1, 2020, 5000, False)
    assert (two.batch, two.year, two.requires_decision) == (2, 2021, True)
    assert one.share_bp + two.share_bp == BP_WHOLE
    assert rules.tranche(2) is two
    assert rules.tranche(3) is None


def test_gd2020_reporting_acceptance_and_execution() -> None:
    """Monthly report due on the 4th, cases every 6 months, acceptance by 2021-12-31, two
    conclusions 验收合格 / 验收不合格, execution labels from 0."""
    rules = packaged_rules(PROGRAMME)
    assert rules.monthly_report_due_day == 4
    assert rules.typical_case_interval_months == 6
    assert rules.acceptance_deadline == dt.date(2021, 12, 31)
    assert rules.acceptance_conclusions == ("验收合格", "验收不合格")
    assert rules.execution_label(10000).zh == "全部执行完毕"
    assert rules.execution_label(8000).en == "not fully executed (mostly)"
    assert rules.execution_label(0).en == "not fully executed (lagging)"
    assert rules.targets == {
        "village_station_share_bp": 7000, "village_base_cap": 200,
        "training_person_times_min": 3000, "poor_training_share_bp": 5000,
    }


def test_parsed_rules_keep_their_document() -> None:
    """The validated document is kept unchanged, so the ledger carries the rules it ran under."""
    doc = gd2020_doc()
    rules = parse_rules(copy.deepcopy(doc))
    assert rules.document == doc


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A mutation that sets a dotted path (list items as [i]) to `value`."""
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = _steps(path)
        node: Any = doc
        for step in parents:
            node = node[step]
        node[last] = value
    return mutate


def _del(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = _steps(path)
        node: Any = doc
        for step in parents:
            node = node[step]
        del node[last]
    return mutate


def _steps(path: str) -> list[Any]:
    steps: list[Any] = []
    for part in path.split("."):
        name, _, index = part.partition("[")
        steps.append(name)
        if index:
            steps.append(int(index.rstrip("]")))
    return steps


def _append_conclusion(doc: dict[str, Any]) -> None:
    doc["acceptance"]["conclusions"].append("基本合格")


def _duplicate_category(doc: dict[str, Any]) -> None:
    doc["categories"].append(dict(doc["categories"][0]))


def _no_share(doc: dict[str, Any]) -> None:
    del doc["categories"][2]["min_share_bp"]


BROKEN: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("missing programme", _del("programme"), "programme"),
    ("missing title_zh", _del("title_zh"), "title_zh"),
    ("missing period_end", _del("period_end"), "period_end"),
    ("missing categories", _del("categories"), "categories"),
    ("missing category id", _del("categories[1].id"), "categories[1].id"),
    ("missing category name_zh", _del("categories[0].name_zh"), "categories[0].name_zh"),
    ("missing denominator", _del("categories[0].denominator"), "categories[0].denominator"),
    ("missing tranches", _del("tranches"), "tranches"),
    ("missing requires_decision", _del("tranches[1].requires_decision"),
     "tranches[1].requires_decision"),
    ("missing reporting table", _del("reporting"), "reporting"),
    ("missing due day", _del("reporting.monthly_report_due_day"),
     "reporting.monthly_report_due_day"),
    ("missing acceptance deadline", _del("acceptance.deadline"), "acceptance.deadline"),
    ("missing conclusions", _del("acceptance.conclusions"), "acceptance.conclusions"),
    ("missing execution labels", _del("execution.labels"), "execution.labels"),
    ("wrong rules_format", _set("rules_format", 2), "rules_format"),
    ("bool rules_format", _set("rules_format", True), "rules_format"),
    ("programme not a string", _set("programme", 7), "programme"),
    ("min above max", _set("categories[1].min_share_bp", 6000), "categories[1].min_share_bp"),
    ("neither min nor max", _no_share, "categories[2].min_share_bp"),
    ("share above 100%", _set("categories[0].min_share_bp", 10001),
     "categories[0].min_share_bp"),
    ("negative share", _set("categories[1].max_share_bp", -1), "categories[1].max_share_bp"),
    ("float category share", _set("categories[0].min_share_bp", 3000.0),
     "categories[0].min_share_bp"),
    ("bool category share", _set("categories[2].min_share_bp", True),
     "categories[2].min_share_bp"),
    ("minimum shares over 100%", _set("categories[0].min_share_bp", 9500), "categories"),
    ("unknown denominator", _set("categories[0].denominator", "appropriated"),
     "categories[0].denominator"),
    ("duplicate category id", _duplicate_category, "categories"),
    ("empty categories", _set("categories", []), "categories"),
    ("tranche shares below 100%", _set("tranches[1].share_bp", 4000), "tranches"),
    ("tranche shares above 100%", _set("tranches[0].share_bp", 6000), "tranches"),
    ("float tranche share", _set("tranches[0].share_bp", 5000.0), "tranches[0].share_bp"),
    ("string tranche share", _set("tranches[0].share_bp", "50%"), "tranches[0].share_bp"),
    ("tranche share out of range", _set("tranches[1].share_bp", 10001), "tranches[1].share_bp"),
    ("batches not numbered 1, 2", _set("tranches[1].batch", 3), "tranches"),
    ("tranche year outside period", _set("tranches[1].year", 2023), "tranches[1].year"),
    ("tranche year before period", _set("tranches[0].year", 2019), "tranches[0].year"),
    ("requires_decision not bool", _set("tranches[1].requires_decision", "yes"),
     "tranches[1].requires_decision"),
    ("period starts after it ends", _set("period_start", "2023-01-01"), "period_start"),
    ("bad period date", _set("period_end", "2021-13-01"), "period_end"),
    ("due day 0", _set("reporting.monthly_report_due_day", 0),
     "reporting.monthly_report_due_day"),
    ("due day 29", _set("reporting.monthly_report_due_day", 29),
     "reporting.monthly_report_due_day"),
    ("bad acceptance deadline", _set("acceptance.deadline", "31/12/2021"),
     "acceptance.deadline"),
    ("three conclusions", _append_conclusion, "acceptance.conclusions"),
    ("one conclusion", _set("acceptance.conclusions", ["验收合格"]), "acceptance.conclusions"),
    ("empty conclusion", _set("acceptance.conclusions", ["验收合格", ""]),
     "acceptance.conclusions"),
    ("no label from 0", _set("execution.labels[2].min_rate_bp", 1), "execution.labels"),
    ("float label rate", _set("execution.labels[0].min_rate_bp", 100.0),
     "execution.labels[0].min_rate_bp"),
]


@pytest.mark.parametrize(("mutate", "field"), [pytest.param(m, f, id=i) for i, m, f in BROKEN])
def test_broken_rules_raise_rules_invalid_naming_the_field(
    mutate: Callable[[dict[str, Any]], None], field: str
) -> None:
    """Each broken GD-2020 variant raises RulesInvalid naming the offending field."""
    doc = gd2020_doc()
    mutate(doc)
    with pytest.raises(RulesInvalid) as info:
        parse_rules(doc)
    exc = info.value
    assert exc.code == "RULES_INVALID"
    assert exc.rule == "rules"
    assert exc.field == field
    assert field in exc.zh and field in exc.en
    assert exc.zh != exc.en


def test_the_untouched_document_is_valid() -> None:
    """Control: the unmutated document parses (so the failures above come from the mutation)."""
    assert parse_rules(gd2020_doc()).programme == PROGRAMME


def test_invalid_toml_is_rules_invalid() -> None:
    """Text that is not TOML raises RulesInvalid, not a decoder error."""
    with pytest.raises(RulesInvalid) as info:
        parse_rules_toml("rules_format = = 1")
    assert info.value.code == "RULES_INVALID"
    assert info.value.zh and info.value.en


def test_unknown_programme_has_no_packaged_rules() -> None:
    """Asking for rules of a programme that ships none raises RulesInvalid."""
    with pytest.raises(RulesInvalid):
        packaged_rules_text("gd-2099-nothing")


def test_label_without_zh_is_rules_invalid() -> None:
    """An execution label missing its zh text raises RulesInvalid, not KeyError."""
    doc = gd2020_doc()
    del doc["execution"]["labels"][0]["zh"]
    with pytest.raises(RulesInvalid):
        parse_rules(doc)


def test_float_target_is_rules_invalid() -> None:
    """A float demonstration target is rejected, not truncated."""
    doc = gd2020_doc()
    doc["targets"]["village_station_share_bp"] = 7000.5
    with pytest.raises(RulesInvalid):
        parse_rules(doc)


def test_two_identical_conclusions_are_rules_invalid() -> None:
    """The two acceptance conclusions must differ."""
    doc = gd2020_doc()
    doc["acceptance"]["conclusions"] = ["验收合格", "验收合格"]
    with pytest.raises(RulesInvalid):
        parse_rules(doc)
