"""The one rule registry (futurebank.spec.rules): every rule id the tooling or the docs name is in it, each
id and number is unique, each rule has a text, the site's rules table shows them all, and a finding cannot
name a rule the registry does not hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from futurebank.spec import rules
from futurebank.spec.contract import RULES as CONTRACT_RULES
from futurebank.spec.needs_model import RULE_IDS as NEEDS_SCHEMA_RULE_IDS
from futurebank.spec.needs_model import RULES as NEEDS_SCHEMAS
from futurebank.spec.pages.rules import CHECKED_BY, render_rules
from futurebank.spec.rules import FAMILIES, RULES, Finding, SpecFileError
from futurebank.spec.stories import RULES as STORY_RULES

REPO = Path(__file__).resolve().parents[3]
RULE_ID = re.compile(r"\bR-\d\d-[a-z0-9]+(?:-[a-z0-9]+)*\b")


def rule_ids_named_in(paths: list[Path]) -> dict[str, list[str]]:
    """Rule id -> the files that name it."""
    named: dict[str, list[str]] = {}
    for path in paths:
        for rule_id in set(RULE_ID.findall(path.read_text(encoding="utf-8"))):
            named.setdefault(rule_id, []).append(str(path.relative_to(REPO)))
    return named


def test_every_rule_id_named_in_code_tests_or_docs_is_registered() -> None:
    paths = [
        *sorted((REPO / "src").rglob("*.py")),
        *sorted((REPO / "tests").rglob("*.py")),
        *sorted((REPO / "docs").rglob("*.md")),
        REPO / "README.md",
        REPO / "ARCHITECTURE.md",
    ]
    named = rule_ids_named_in(paths)
    assert "R-01-msg-disposition" in named  # the scan finds ids at all
    unknown = {rule_id: files for rule_id, files in named.items() if rule_id not in RULES}
    assert not unknown, f"rule ids not in futurebank.spec.rules.RULES: {unknown}"


def test_every_rule_is_named_by_a_test_that_breaks_it() -> None:
    """Each rule id appears in a test besides this one (the test that breaks that rule)."""
    tests = [p for p in sorted((REPO / "tests").rglob("*.py")) if p.name != Path(__file__).name]
    named = rule_ids_named_in(tests)
    untested = sorted(rule_id for rule_id in RULES if rule_id not in named)
    assert not untested, f"rules no test names: {untested}"


def test_rule_ids_and_numbers_are_unique() -> None:
    ids = [rule.id for rule in rules.ALL_RULES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})
    numbers = [rule_id[:4] for rule_id in ids]
    assert len(numbers) == len(set(numbers)), sorted({n for n in numbers if numbers.count(n) > 1})
    assert all(re.fullmatch(r"R-\d\d-[a-z0-9]+(-[a-z0-9]+)*", rule_id) for rule_id in ids)


def test_every_rule_is_documented_and_belongs_to_a_family() -> None:
    for rule in RULES.values():
        assert rule.family in FAMILIES, rule
        assert rule.text and rule.text == rule.text.strip(), rule
    assert set(CHECKED_BY) == set(FAMILIES)


def test_site_rules_table_lists_every_rule_with_its_text() -> None:
    table = render_rules()
    for rule in RULES.values():
        assert f"`{rule.id}`" in table, rule.id
    assert len([line for line in table.splitlines() if line.startswith("| `R-")]) == len(RULES)


def test_family_views_are_the_registry() -> None:
    assert {r.id: r.text for r in RULES.values() if r.family == "contract"} == CONTRACT_RULES
    assert {r.id: r.text for r in RULES.values() if r.family == "stories"} == STORY_RULES
    # each sphinx-needs schema carries the registry's id and text
    for schema in NEEDS_SCHEMAS:
        assert RULES[schema["id"]].family == "needs"
        assert schema["message"] == RULES[schema["id"]].text
    assert set(NEEDS_SCHEMA_RULE_IDS) <= {r.id for r in RULES.values() if r.family == "needs"}


def test_a_finding_must_name_a_registered_rule() -> None:
    made_up = "R-99-" + "made-up"  # spelt in two parts so the scan above does not see it
    with pytest.raises(KeyError, match=made_up):
        Finding(made_up, "item", "detail", Path("docs/x.md"), 1)


def test_one_message_format_for_every_finding() -> None:
    finding = Finding("R-10-question-owner", "Q-0001", "owner is empty", Path("docs/audit/questions.md"), 7)
    assert str(finding) == (
        "docs/audit/questions.md:7: Q-0001 breaks R-10-question-owner: "
        "an open question names the role who must answer it (owner is empty)"
    )
    located = Finding(
        "R-39-operation-conventions", "OP-x", "no 429", REPO / "docs/api/openapi.yaml", 3, "/paths"
    )
    assert located.located(REPO) == "docs/api/openapi.yaml:3"
    assert located.message().endswith("(no 429) [/paths]")


def test_spec_file_error_carries_its_finding() -> None:
    error = SpecFileError("docs/architecture/c4.yaml", 4, "R-50-c4-zone-known", "zone 'dmz' is not declared")
    assert error.finding.rule == "R-50-c4-zone-known"
    assert error.finding.item == "c4.yaml"
    assert str(error) == str(error.finding)
