"""The stories CSV of the real spec against the rules of Jira's CSV importer (SRC-0634, SRC-0635) and what
a lead needs to take the backlog as it is: MoSCoW priorities on Jira's default scheme (SRC-0636), the
release as Fix Version, a component per area, epics before their stories, criteria on every story."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from futurebank.spec.csv_guard import FORMULA_TRIGGERS
from futurebank.spec.jira_export import (
    JIRA_PRIORITIES,
    MULTI_VALUE,
    PRIORITY_MAP,
    RELEASE_VERSIONS,
    write_story_exports,
)
from futurebank.spec.needs_json import load_needs

REPO = Path(__file__).resolve().parents[3]
FEATURES = REPO / "docs" / "stories" / "features"
# The importer's own names for the fields this file fills (Acceptance Criteria maps to a custom field).
JIRA_FIELDS = {
    "Issue ID", "Issue Type", "Summary", "Description", "Priority", "Fix Version", "Component", "Labels",
    "Epic Name", "Parent", "Epic Link", "Acceptance Criteria",
}  # fmt: skip


@pytest.fixture(scope="module")
def table(site_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[str], list[list[str]]]:
    paths = write_story_exports(site_dir / "needs.json", FEATURES, tmp_path_factory.mktemp("jira"))
    raw = paths[0].read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "a byte order mark would become part of the first header"
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline=""), strict=True))
    return rows[0], rows[1:]


def records(header: list[str], rows: list[list[str]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        record: dict[str, Any] = {name: [] for name in MULTI_VALUE}
        for name, value in zip(header, row, strict=True):
            if name in MULTI_VALUE:
                if value:
                    record[name].append(value)
            else:
                record[name] = value
        out.append(record)
    return out


def test_header_follows_the_importer(table: tuple[list[str], list[list[str]]]) -> None:
    header, rows = table
    assert "Summary" in header and "Issue Type" in header
    for name in header:
        # no punctuation in a header name: the importer may not map it otherwise
        assert re.fullmatch(r"[A-Za-z]+( [A-Za-z]+)*", name), name
    assert set(header) == JIRA_FIELDS
    repeated = {name for name, count in Counter(header).items() if count > 1}
    assert repeated <= set(MULTI_VALUE), f"only multi-value fields may repeat a column: {repeated}"
    assert all(len(row) == len(header) for row in rows), "every record has every column (commas not omitted)"


def test_one_row_per_epic_and_story(site_dir: Path, table: tuple[list[str], list[list[str]]]) -> None:
    needs = load_needs(site_dir / "needs.json")
    expected = sorted(nid for nid, n in needs.items() if n["type"] in ("epic", "story"))
    rows = records(*table)
    ids = [r["Labels"][0] for r in rows]  # the first label is the spec item's id
    assert sorted(ids) == expected and len(set(ids)) == len(ids)
    issue_ids = [r["Issue ID"] for r in rows]
    assert len(set(issue_ids)) == len(issue_ids) and all(i.isdigit() for i in issue_ids)
    for row in rows:
        need = needs[row["Labels"][0]]
        assert row["Summary"] == need["title"] and row["Summary"].strip()
        assert row["Issue Type"] == {"epic": "Epic", "story": "Story"}[need["type"]]
        assert all(" " not in label for label in row["Labels"]), "a Jira label holds no space"


def test_epics_come_before_the_stories_that_name_them(
    site_dir: Path, table: tuple[list[str], list[list[str]]]
) -> None:
    needs = load_needs(site_dir / "needs.json")
    rows = records(*table)
    seen_epics: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["Issue Type"] == "Epic":
            assert not row["Parent"] and not row["Epic Link"] and row["Epic Name"] == row["Summary"]
            seen_epics[row["Issue ID"]] = row
            continue
        epic = seen_epics.get(row["Parent"])
        assert epic is not None, f"{row['Labels'][0]}: its epic is not in an earlier row"
        assert row["Epic Link"] == epic["Epic Name"] and not row["Epic Name"]
        assert needs[row["Labels"][0]]["refines"][0] == epic["Labels"][0]


def test_priorities_fix_versions_and_components(
    site_dir: Path, table: tuple[list[str], list[list[str]]]
) -> None:
    needs = load_needs(site_dir / "needs.json")
    rows = records(*table)
    assert set(PRIORITY_MAP.values()) <= set(JIRA_PRIORITIES)
    order = [JIRA_PRIORITIES.index(PRIORITY_MAP[m]) for m in ("must", "should", "could", "wont")]
    assert order == sorted(order) and len(set(order)) == 4  # MoSCoW order kept, no two ranks merged
    stories = [r for r in rows if r["Issue Type"] == "Story"]
    for row in stories:
        need = needs[row["Labels"][0]]
        assert row["Priority"] == PRIORITY_MAP[need["priority"]]
        assert row["Fix Version"] == [RELEASE_VERSIONS[need["release"]]]
        assert len(row["Component"]) == len(need["scoped_by"]) >= 1
        assert all(not c.startswith("SCOPE-") for c in row["Component"]), "a component has a name"
    assert len({r["Priority"] for r in stories}) >= 3, "the backlog uses more than one priority"
    assert {v for r in rows for v in r["Fix Version"]} == {"MVP", "Later"}
    for epic in (r for r in rows if r["Issue Type"] == "Epic"):
        children = [r for r in stories if r["Parent"] == epic["Issue ID"]]
        best = min(JIRA_PRIORITIES.index(r["Priority"]) for r in children)
        assert epic["Priority"] == JIRA_PRIORITIES[best]


def test_every_story_has_acceptance_criteria(
    site_dir: Path, table: tuple[list[str], list[list[str]]]
) -> None:
    needs = load_needs(site_dir / "needs.json")
    rows = records(*table)
    missing = [r["Labels"][0] for r in rows if r["Issue Type"] == "Story" and not r["Acceptance Criteria"]]
    assert not missing, f"stories without acceptance criteria: {missing}"
    later = [r for r in rows if r["Issue Type"] == "Story" and needs[r["Labels"][0]]["release"] == "later"]
    assert later, "the spec has later stories; their written criteria must come through"
    for row in later:
        assert row["Acceptance Criteria"].count("Given") >= 2, row["Labels"][0]


def test_only_formula_cells_are_guarded(table: tuple[list[str], list[list[str]]]) -> None:
    _, rows = table
    cells = [cell for row in rows for cell in row if cell]
    assert not [c for c in cells if c.startswith(FORMULA_TRIGGERS)], "a cell Excel would evaluate"
    guarded = [c for c in cells if c.startswith("'")]
    assert all(c[1:].startswith(FORMULA_TRIGGERS) for c in guarded), "an apostrophe on a harmless cell"
