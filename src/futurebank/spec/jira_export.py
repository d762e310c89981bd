"""Epics and stories as a Jira CSV import file and an XLSX workbook with the same columns.

Input: ``needs.json`` written by the Sphinx build (epics and stories, with their links) and the
Gherkin feature files (the acceptance criteria). Output: ``stories.csv`` and ``stories.xlsx``.

Columns follow Jira's CSV importer:

* ``Issue ID`` numbers the rows of this file; a story's ``Parent`` holds its epic's ``Issue ID``, which
  is how Jira Cloud links children to parents within one import (epics come first in the file).
* ``Epic Name`` (epics) and ``Epic Link`` (stories, the epic's name) serve Jira Data Center projects that
  still use the older epic fields.
* ``Labels`` repeats once per label, as the importer expects for a multi-value field: the release, the
  item's own id and each scope id.
* ``Priority`` maps MoSCoW to Jira's default scheme: must Highest, should High, could Medium, wont Low;
  an epic takes the highest priority among its stories.
* ``Acceptance Criteria`` is the Gherkin text of the story's scenarios, after their feature's Background,
  so that the criteria read on their own.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from futurebank.spec.needs_json import load_needs
from futurebank.spec.stories import Feature, Scenario, load_features, scenarios_by_story

PRIORITY_MAP = {"must": "Highest", "should": "High", "could": "Medium", "wont": "Low"}
_PRIORITY_RANK = ["must", "should", "could", "wont"]
_ROLE = re.compile(r"\{[a-z:-]+\}`([^`<]*?)\s*(?:<[^>]*>)?`")
_ACCEPTANCE_LINE = re.compile(r"^Acceptance criteria: .*$", re.MULTILINE)
# Excel refuses cells longer than this; Jira's own text fields are shorter still.
_XLSX_CELL_LIMIT = 32_767


def jira_text(markdown: str) -> str:
    """Our MyST body as Jira wiki text: roles become their text, bold and code use Jira's markup."""
    text = _ACCEPTANCE_LINE.sub("", markdown)
    text = _ROLE.sub(lambda m: m.group(1), text)
    text = re.sub(r"\*\*(.+?)\*\*", r"*\1*", text)
    text = re.sub(r"`([^`]+)`", r"{{\1}}", text)
    text = re.sub(r"^- ", "* ", text, flags=re.MULTILINE)
    return _unwrap(text).strip()


def _links(need: Mapping[str, Any], field: str) -> list[str]:
    value = need.get(field) or []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


def _criteria(scenarios: Sequence[Scenario]) -> str:
    """Each feature's Background once, then its scenarios: the criteria read without the files."""
    blocks: list[str] = []
    shown: set[str] = set()
    for scenario in scenarios:
        if scenario.path not in shown and scenario.background:
            shown.add(scenario.path)
            blocks.append(
                "\n".join(["Background:", *(line for st in scenario.background for line in st.gherkin())])
            )
        blocks.append(scenario.gherkin())
    return "\n\n".join(blocks)


def _unwrap(text: str) -> str:
    """Join the source's hard-wrapped lines: in Jira a newline inside a paragraph is a line break."""
    out: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        starts_item = stripped.startswith("* ")
        if out and out[-1] and stripped and not starts_item:
            out[-1] = f"{out[-1]} {stripped}"
        else:
            out.append(stripped)
    return "\n".join(out)


def story_export_rows(
    needs: Mapping[str, Mapping[str, Any]], features: Iterable[Feature]
) -> tuple[list[str], list[list[str]]]:
    """Header and rows (epics first, then stories, each sorted by id) for both files."""
    epics = sorted((n for n in needs.values() if n.get("type") == "epic"), key=lambda n: str(n["id"]))
    stories = sorted((n for n in needs.values() if n.get("type") == "story"), key=lambda n: str(n["id"]))
    by_story = scenarios_by_story(features)
    issue_id = {str(n["id"]): str(i) for i, n in enumerate([*epics, *stories], start=1)}
    epic_name = {str(e["id"]): str(e.get("title") or e["id"]) for e in epics}

    def epic_priority(epic_id: str) -> str:
        ranks = [
            _PRIORITY_RANK.index(str(s.get("priority")))
            for s in stories
            if epic_id in _links(s, "refines") and s.get("priority") in _PRIORITY_RANK
        ]
        return PRIORITY_MAP[_PRIORITY_RANK[min(ranks)]] if ranks else ""

    records: list[dict[str, Any]] = []
    for epic in epics:
        eid = str(epic["id"])
        records.append(
            {
                "Issue ID": issue_id[eid],
                "Issue Type": "Epic",
                "Summary": epic_name[eid],
                "Description": _description(epic),
                "Priority": epic_priority(eid),
                "labels": [str(epic.get("release") or ""), eid, *_links(epic, "scoped_by")],
                "Epic Name": epic_name[eid],
                "Parent": "",
                "Epic Link": "",
                "Acceptance Criteria": "",
            }
        )
    for story in stories:
        sid = str(story["id"])
        epic_ids = [e for e in _links(story, "refines") if e in issue_id]
        parent = epic_ids[0] if epic_ids else ""
        records.append(
            {
                "Issue ID": issue_id[sid],
                "Issue Type": "Story",
                "Summary": str(story.get("title") or sid),
                "Description": _description(story),
                "Priority": PRIORITY_MAP.get(str(story.get("priority")), ""),
                "labels": [str(story.get("release") or ""), sid, *_links(story, "scoped_by")],
                "Epic Name": "",
                "Parent": issue_id.get(parent, ""),
                "Epic Link": epic_name.get(parent, ""),
                "Acceptance Criteria": _criteria(by_story.get(sid, [])),
            }
        )
    label_columns = max((len([x for x in r["labels"] if x]) for r in records), default=1)
    header = ["Issue ID", "Issue Type", "Summary", "Description", "Priority"]
    header += ["Labels"] * max(label_columns, 1)
    header += ["Epic Name", "Parent", "Epic Link", "Acceptance Criteria"]
    rows: list[list[str]] = []
    for r in records:
        labels = [x for x in r["labels"] if x]
        labels += [""] * (label_columns - len(labels))
        head = [r["Issue ID"], r["Issue Type"], r["Summary"], r["Description"], r["Priority"]]
        tail = [r["Epic Name"], r["Parent"], r["Epic Link"], r["Acceptance Criteria"]]
        rows.append([*head, *labels, *tail])
    return header, rows


def _description(need: Mapping[str, Any]) -> str:
    body = jira_text(str(need.get("content") or ""))
    trace = [
        ("Traces to chat messages", _links(need, "traces")),
        ("In scope by", _links(need, "scoped_by")),
        ("Actor", _links(need, "actor")),
    ]
    footer = "\n".join(f"{name}: {', '.join(ids)}" for name, ids in trace if ids)
    return f"{body}\n\n{footer}".strip() if footer else body


def write_story_exports(needs_json: Path, features_dir: Path, out_dir: Path) -> list[Path]:
    """Write ``stories.csv`` (Jira CSV importer) and ``stories.xlsx``; return their paths."""
    features, _parse_errors = load_features(
        features_dir
    )  # the build reports parse errors; export what parses
    header, rows = story_export_rows(load_needs(needs_json), features)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / "stories.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        writer.writerows(rows)
    xlsx_path = out_dir / "stories.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has one sheet
    sheet.title = "Stories"
    sheet.append(header)
    for row in rows:
        sheet.append([cell[:_XLSX_CELL_LIMIT] for cell in row])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    wide = {"Summary": 48, "Description": 80, "Acceptance Criteria": 100}
    for index, name in enumerate(header, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = wide.get(name, 14)
    for row_cells in sheet.iter_rows(min_row=2):
        for cell in row_cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    book.save(xlsx_path)
    return [csv_path, xlsx_path]
