"""Jira export: columns, rows, priorities, labels, parent links and acceptance criteria, in CSV and XLSX."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from futurebank.spec.jira_export import (
    MULTI_VALUE,
    PRIORITY_MAP,
    jira_text,
    load_needs,
    split_written_criteria,
    story_export_rows,
    write_story_exports,
)
from futurebank.spec.stories import parse_feature_text

FEATURE = """\
@EP-0002
Feature: Payments
  Background:
    Given the demo data is seeded

  @US-0010
  Scenario: Anna pays Boris
    Given the customer "anna" with a token for scopes "payments:write"
    When she POSTs to "/payments" with Idempotency-Key "k1" and body:
      \"\"\"json
      {"amount": {"amount": "1.00", "currency": "RUB"}}
      \"\"\"
    Then the response status is 201

  @US-0010 @failure
  Scenario: Anna pays too much
    Given the customer "anna" with a token for scopes "payments:write"
    Then the response status is 422
"""


def need(need_id: str, kind: str, title: str, **fields: Any) -> dict[str, Any]:
    return {"id": need_id, "type": kind, "title": title, "content": fields.pop("content", ""), **fields}


NEEDS: dict[str, dict[str, Any]] = {
    "EP-0002": need(
        "EP-0002",
        "epic",
        "Payments",
        release="mvp",
        scoped_by=["SCOPE-0006"],
        traces=["MSG-0018"],
        content="Money moves ({need}`MSG-0018`).",
    ),
    "EP-0001": need(
        "EP-0001", "epic", "Consents", release="mvp", scoped_by=["SCOPE-0007"], traces=["MSG-0019"]
    ),
    "US-0010": need(
        "US-0010",
        "story",
        "Pay another customer",
        priority="must",
        release="mvp",
        scoped_by=["SCOPE-0006"],
        refines=["EP-0002"],
        actor=["PER-0001"],
        traces=["MSG-0018"],
        content="As a young customer, I want to pay a friend,\nso that we settle up.\n\n"
        "**Rules.**\n- Uses `Idempotency-Key`.\n\nAcceptance criteria: "
        "{ref}`acceptance-us-0010`.",
    ),
    "US-0003": need(
        "US-0003",
        "story",
        "List my consents",
        priority="should",
        release="later",
        scoped_by=["SCOPE-0007", "SCOPE-0006"],
        refines=["EP-0001"],
        actor=["PER-0001"],
        content="As a customer, I want to see my consents.\n\n**Acceptance criteria.**\n"
        "- Given two consents, when I list them,\n  then I see both.\n"
        "- Given none, then the list is empty.\n\n"
        "**Notes.** Later.",
    ),
    "SCOPE-0006": need(
        "SCOPE-0006", "scope", "Integration with CRM, payments", section_name="SCOPE-0006 Integration layer"
    ),
    "SCOPE-0007": need("SCOPE-0007", "scope", "Security: consent-bound access", section_name=""),
    "MSG-0018": need("MSG-0018", "msg", "a message"),
}


def rows_by_summary() -> tuple[list[str], dict[str, dict[str, Any]]]:
    header, rows = story_export_rows(NEEDS, [parse_feature_text(FEATURE, "docs/stories/features/p.feature")])
    table: dict[str, dict[str, Any]] = {}
    for row in rows:
        record: dict[str, Any] = {name: [] for name in MULTI_VALUE}
        for name, value in zip(header, row, strict=True):
            if name in MULTI_VALUE:
                record[name].append(value)
            else:
                record[name] = value
        table[record["Summary"]] = record
    return header, table


def test_header_has_the_jira_columns_and_one_column_per_value() -> None:
    header, _ = rows_by_summary()
    assert header == [
        "Issue ID", "Issue Type", "Summary", "Description", "Priority",
        "Fix Version", "Component", "Component", "Labels", "Labels", "Labels",
        "Epic Name", "Parent", "Epic Link", "Acceptance Criteria",
    ]  # fmt: skip


def test_epics_come_first_sorted_and_messages_are_left_out() -> None:
    _, rows = story_export_rows(NEEDS, [])
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("1", "Epic", "Consents"),
        ("2", "Epic", "Payments"),
        ("3", "Story", "List my consents"),
        ("4", "Story", "Pay another customer"),
    ]


def test_story_row_links_its_epic_maps_priority_release_components_and_labels() -> None:
    _, table = rows_by_summary()
    story = table["Pay another customer"]
    assert story["Issue Type"] == "Story"
    assert story["Priority"] == "Highest"
    assert story["Parent"] == table["Payments"]["Issue ID"] == "2"
    assert story["Epic Link"] == "Payments" and story["Epic Name"] == ""
    assert story["Fix Version"] == ["MVP"]
    assert story["Component"] == ["Integration layer", ""]  # the scope decision's section heading
    assert story["Labels"] == ["US-0010", "SCOPE-0006", ""]
    later = table["List my consents"]
    assert later["Priority"] == "High" and later["Fix Version"] == ["Later"]
    assert later["Component"] == ["Security", "Integration layer"]  # no heading: the title's head
    assert later["Labels"] == ["US-0003", "SCOPE-0007", "SCOPE-0006"]


def test_epic_row_names_itself_and_takes_its_highest_story_priority() -> None:
    _, table = rows_by_summary()
    epic = table["Payments"]
    assert epic["Issue Type"] == "Epic" and epic["Epic Name"] == "Payments" and epic["Parent"] == ""
    assert epic["Priority"] == "Highest"
    assert table["Consents"]["Priority"] == "High"
    assert epic["Labels"][:2] == ["EP-0002", "SCOPE-0006"] and epic["Fix Version"] == ["MVP"]
    assert "Money moves (MSG-0018)." in epic["Description"]


def test_description_is_jira_text_with_the_trace_footer() -> None:
    _, table = rows_by_summary()
    description = table["Pay another customer"]["Description"]
    assert description.startswith("As a young customer, I want to pay a friend, so that we settle up.")
    assert "*Rules.*\n* Uses {{Idempotency-Key}}." in description
    assert "Acceptance criteria" not in description and "{ref}" not in description
    assert description.endswith(
        "Spec item: US-0010\nTraces to chat messages: MSG-0018\nIn scope by: SCOPE-0006\nActor: PER-0001"
    )


def test_acceptance_criteria_are_the_scenarios_gherkin_after_the_background() -> None:
    _, table = rows_by_summary()
    criteria = table["Pay another customer"]["Acceptance Criteria"]
    assert criteria.startswith(
        "Scenarios from docs/stories/features/p.feature:\n\n"
        "Background:\n  Given the demo data is seeded\n\n@US-0010\nScenario: Anna pays Boris"
    )
    assert criteria.count("Background:") == 1
    assert "@US-0010 @failure\nScenario: Anna pays too much" in criteria
    assert '    """json\n    {"amount": {"amount": "1.00", "currency": "RUB"}}\n    """' in criteria


def test_a_story_without_scenarios_carries_its_written_criteria() -> None:
    _, table = rows_by_summary()
    later = table["List my consents"]
    assert later["Acceptance Criteria"] == (
        "Acceptance criteria (in words; no scenario yet):\n"
        "* Given two consents, when I list them, then I see both.\n* Given none, then the list is empty."
    )
    assert "Acceptance criteria" not in later["Description"] and "Given two" not in later["Description"]
    assert later["Description"].startswith("As a customer, I want to see my consents.\n\n*Notes.* Later.")


def test_split_written_criteria() -> None:
    assert split_written_criteria("Body.") == ("Body.", "")
    body, criteria = split_written_criteria("Body.\n\n**Acceptance criteria.**\n- a\n- b")
    assert (body, criteria) == ("Body.", "- a\n- b")


def test_moscow_maps_onto_jiras_default_priorities() -> None:
    assert PRIORITY_MAP == {"must": "Highest", "should": "High", "could": "Medium", "wont": "Lowest"}


def test_jira_text_resolves_roles_with_explicit_titles() -> None:
    assert jira_text("see {ref}`the count <young-customer-count>` and {need}`US-0001`") == (
        "see the count and US-0001"
    )


def test_files_hold_the_same_table(tmp_path: Path) -> None:
    needs_json = tmp_path / "needs.json"
    needs_json.write_text(
        json.dumps({"current_version": "", "versions": {"": {"needs": NEEDS}}}), encoding="utf-8"
    )
    features = tmp_path / "features"
    features.mkdir()
    (features / "p.feature").write_text(FEATURE, encoding="utf-8")
    assert load_needs(needs_json).keys() == NEEDS.keys()
    paths = write_story_exports(needs_json, features, tmp_path / "out")
    assert [p.name for p in paths] == ["stories.csv", "stories.xlsx"]
    with paths[0].open(encoding="utf-8", newline="") as handle:
        from_csv = list(csv.reader(handle))
    sheet = load_workbook(paths[1]).active
    assert sheet is not None and sheet.title == "Stories"
    from_xlsx = [["" if c is None else str(c) for c in row] for row in sheet.iter_rows(values_only=True)]
    assert from_csv == from_xlsx
    assert len(from_csv) == 1 + 4  # header, two epics, two stories (scopes and messages are no issues)
    assert "Scenario: Anna pays Boris" in from_csv[4][-1]
