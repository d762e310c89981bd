"""Epics and stories as a Jira CSV import file and an XLSX workbook with the same columns.

Input: ``needs.json`` written by the Sphinx build (epics, stories, the scope decisions that put them in
scope) and the Gherkin feature files (the acceptance criteria). Output: ``stories.csv`` and
``stories.xlsx``. Columns follow Jira's CSV importer (SRC-0634, SRC-0635); header names hold no
punctuation, which the importer asks for, and a field with several values repeats its column:

* ``Issue ID`` numbers the rows of this file; a story's ``Parent`` holds its epic's ``Issue ID``, which
  is how Jira Cloud links children to parents within one import, epics first in the file (SRC-0635).
* ``Epic Name`` (epics) and ``Epic Link`` (stories, the epic's name) serve Jira Data Center projects that
  still use the older epic fields; Jira Cloud replaced them by ``Parent`` in 2024 (SRC-0635).
* ``Priority`` spreads MoSCoW over Jira's default priorities Highest, High, Medium, Low, Lowest
  (SRC-0636): must Highest, should High, could Medium, wont Lowest (our mapping: one step per MoSCoW
  rank, and "won't have this time" at the bottom so it never sorts with planned work). An epic takes the
  highest priority among its stories.
* ``Fix Version`` is the release (``MVP`` or ``Later``); ``Component`` repeats once per area of the
  product that puts the item in scope: the heading of each scope decision (``scoped_by``) on the scope
  page, such as ``Security`` or ``Integration with the bank's systems``.
* ``Labels`` repeats once per label: the item's own id and each scope decision's id.
* ``Acceptance Criteria`` is the Gherkin text of the story's scenarios, after their feature's Background,
  so that the criteria read on their own; a later story without scenarios carries the criteria its
  description lists in words (its ``Acceptance criteria.`` paragraph), so every story has criteria.

Only a cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return) gets the formula
guard of ``futurebank.spec.csv_guard``; the criteria start with a line naming their feature file, so a
Gherkin tag never opens a cell and Jira shows the text as written.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from futurebank.spec.csv_guard import csv_safe
from futurebank.spec.needs_json import load_needs
from futurebank.spec.stories import (
    Feature,
    Scenario,
    load_features,
    scenarios_by_story,
    split_written_criteria,
)

PRIORITY_MAP = {"must": "Highest", "should": "High", "could": "Medium", "wont": "Lowest"}
# Jira's default priorities, highest first (SRC-0636)
JIRA_PRIORITIES = ["Highest", "High", "Medium", "Low", "Lowest"]
RELEASE_VERSIONS = {"mvp": "MVP", "later": "Later"}
# Columns of a field with several values repeat, one column per value.
MULTI_VALUE = ("Fix Version", "Component", "Labels")
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
        if scenario.path not in shown:
            shown.add(scenario.path)
            blocks.append(f"Scenarios from {scenario.path}:")
            if scenario.background:
                steps = (line for step in scenario.background for line in step.gherkin())
                blocks.append("\n".join(["Background:", *steps]))
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


def component_name(scope: Mapping[str, Any] | None, scope_id: str) -> str:
    """A scope decision's short name, as a Jira component: the heading of its section on the scope page
    (``SCOPE-0007 Security`` gives ``Security``), else its title up to the first colon or comma."""
    if scope is None:
        return scope_id
    section = str(scope.get("section_name") or "")
    if section.startswith(f"{scope_id} ") and section[len(scope_id) :].strip():
        return section[len(scope_id) :].strip()
    title = str(scope.get("title") or scope_id)
    return re.split(r"[:,]", title, maxsplit=1)[0].strip() or scope_id


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

    def common(need: Mapping[str, Any], description: str) -> dict[str, Any]:
        nid = str(need["id"])
        scopes = _links(need, "scoped_by")
        components = list(dict.fromkeys(component_name(needs.get(s), s) for s in scopes))
        release = str(need.get("release") or "")
        return {
            "Issue ID": issue_id[nid],
            "Summary": str(need.get("title") or nid),
            "Description": description,
            "Fix Version": [RELEASE_VERSIONS.get(release, release)] if release else [],
            "Component": components,
            "Labels": [nid, *scopes],
        }

    records: list[dict[str, Any]] = []
    for epic in epics:
        eid = str(epic["id"])
        records.append(
            {
                **common(epic, _description(epic, str(epic.get("content") or ""))),
                "Issue Type": "Epic",
                "Priority": epic_priority(eid),
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
        body, written = split_written_criteria(str(story.get("content") or ""))
        scenarios = by_story.get(sid, [])
        criteria = _criteria(scenarios) if scenarios else ""
        if not criteria and written:
            criteria = "Acceptance criteria (in words; no scenario yet):\n" + jira_text(written)
        records.append(
            {
                **common(story, _description(story, body)),
                "Issue Type": "Story",
                "Priority": PRIORITY_MAP.get(str(story.get("priority")), ""),
                "Epic Name": "",
                "Parent": issue_id.get(parent, ""),
                "Epic Link": epic_name.get(parent, ""),
                "Acceptance Criteria": criteria,
            }
        )
    width = {name: max([1, *(len(r[name]) for r in records)]) for name in MULTI_VALUE}
    order = ["Issue ID", "Issue Type", "Summary", "Description", "Priority", *MULTI_VALUE]
    order += ["Epic Name", "Parent", "Epic Link", "Acceptance Criteria"]
    header: list[str] = []
    for name in order:
        header += [name] * width.get(name, 1)
    rows: list[list[str]] = []
    for r in records:
        row: list[str] = []
        for name in order:
            if name in MULTI_VALUE:
                row += r[name] + [""] * (width[name] - len(r[name]))
            else:
                row.append(r[name])
        rows.append(row)
    return header, rows


def _description(need: Mapping[str, Any], content: str) -> str:
    body = jira_text(content)
    trace = [
        ("Spec item", [str(need["id"])]),
        ("Traces to chat messages", _links(need, "traces")),
        ("In scope by", _links(need, "scoped_by")),
        ("Actor", _links(need, "actor")),
    ]
    footer = "\n".join(f"{name}: {', '.join(ids)}" for name, ids in trace if ids)
    return f"{body}\n\n{footer}".strip() if footer else body


def write_story_exports(needs_json: Path, features_dir: Path, out_dir: Path) -> list[Path]:
    """Write ``stories.csv`` (Jira CSV importer) and ``stories.xlsx``; return their paths."""
    # paths relative to the repository (docs/stories/features/x.feature); the build reports parse errors
    features, _parse_errors = load_features(features_dir, features_dir.resolve().parents[2])
    header, rows = story_export_rows(load_needs(needs_json), features)
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / "stories.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        writer.writerows([csv_safe(cell) for cell in row] for row in rows)
    xlsx_path = out_dir / "stories.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook always has one sheet
    sheet.title = "Stories"
    sheet.append(header)
    for row in rows:
        sheet.append([cell[:_XLSX_CELL_LIMIT] for cell in row])
    for row_cells in sheet.iter_rows():
        for cell in row_cells:
            if cell.data_type == "f":  # openpyxl reads a leading "=" as a formula; every cell is text
                cell.data_type = "s"
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
