"""The workshop-record rules R-61 … R-68: the workshop fixture builds; breaking each rule in its data
file fails the build with a message naming the file, the item and the rule."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from futurebank.spec.rules import RULES
from helpers.sphinx_build import sphinx_build

FIXTURE = Path(__file__).parent / "fixtures" / "workshop"


def fixture_copy(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(FIXTURE, src)
    return src


def test_workshop_fixture_builds(tmp_path: Path) -> None:
    result = sphinx_build(fixture_copy(tmp_path), tmp_path / "out")
    assert result.returncode == 0, result.stderr


# rule id -> (file to edit, text in it, replacement, file named in the finding, item named)
BREAKAGES: dict[str, tuple[str, str, str, str, str]] = {
    "R-61-item-status": (
        "workshop/record.yaml",
        "  RS-0001: {status: proposed}\n",
        "",
        "index.md",
        "RS-0001",
    ),
    "R-62-accepted-signed-off": (
        "workshop/record.yaml",
        "    decider: ceo\n",
        "",
        "workshop/record.yaml",
        "SCOPE-0001",
    ),
    "R-63-accepted-not-blocked": (
        "workshop/record.yaml",
        "  US-0001: {status: proposed}\n",
        "  US-0001: {status: accepted, decider: ceo, date: 2024-08-30, record: minutes}\n",
        "workshop/record.yaml",
        "US-0001",
    ),
    "R-64-role-register": ("workshop/roles.yaml", "owners: [CEO]", "owners: []", "index.md", "Q-0001"),
    "R-65-question-planned": (
        "workshop/questions.yaml",
        "priority: blocks-phase",
        "priority: urgent",
        "workshop/questions.yaml",
        "Q-0001",
    ),
    "R-66-question-merged": (
        "workshop/questions.yaml",
        "  Q-0002: Q-0001\n",
        "  Q-0002: Q-0009\n",
        "workshop/questions.yaml",
        "Q-0002",
    ),
    "R-67-adr-status-agrees": (
        "workshop/record.yaml",
        "  ADR-0001:\n    status: accepted\n",
        "  ADR-0001:\n    status: proposed\n",
        "workshop/record.yaml",
        "ADR-0001",
    ),
    "R-68-fingerprints-readable": (
        "workshop/fingerprints.yaml",
        "",
        "items:\n  US-0001:\n    SCOPE-0001: not-a-fingerprint\n",
        "workshop/fingerprints.yaml",
        "US-0001",
    ),
}


def test_every_workshop_rule_has_a_breakage_test() -> None:
    assert sorted(BREAKAGES) == sorted(r.id for r in RULES.values() if r.family == "workshop")


@pytest.mark.parametrize("rule_id", sorted(BREAKAGES))
def test_broken_workshop_data_fails_naming_file_item_and_rule(rule_id: str, tmp_path: Path) -> None:
    name, old, new, named_file, item = BREAKAGES[rule_id]
    src = fixture_copy(tmp_path)
    path = src / name
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    assert old in text, f"fixture no longer contains {old!r}"
    path.write_text(text.replace(old, new, 1) if old else new, encoding="utf-8")
    result = sphinx_build(src, tmp_path / "out")
    assert result.returncode != 0, f"{rule_id}: the build passed on broken workshop data"
    pattern = (
        rf"src/{re.escape(named_file)}:\d+: (WARNING|ERROR): {re.escape(item)} breaks {re.escape(rule_id)}: "
    )
    assert re.search(pattern, result.stderr), result.stderr


def test_a_superseded_item_must_name_another_item_of_its_type(tmp_path: Path) -> None:
    src = fixture_copy(tmp_path)
    record = src / "workshop" / "record.yaml"
    text = record.read_text(encoding="utf-8")
    record.write_text(
        text.replace(
            "  SCOPE-0002: {status: proposed}", "  SCOPE-0002: {status: superseded, superseded_by: KPI-0001}"
        ),
        encoding="utf-8",
    )
    result = sphinx_build(src, tmp_path / "out")
    assert re.search(
        r"record\.yaml:\d+: (WARNING|ERROR): SCOPE-0002 breaks R-61-item-status: .*KPI-0001", result.stderr
    )
    record.write_text(
        text.replace(
            "  SCOPE-0002: {status: proposed}",
            "  SCOPE-0002: {status: superseded, superseded_by: SCOPE-0001}",
        ),
        encoding="utf-8",
    )
    result = sphinx_build(src, tmp_path / "out2")
    assert result.returncode == 0, result.stderr


def test_a_merged_question_resolves_to_the_survivor(tmp_path: Path) -> None:
    """The story refers to the merged Q-0002; the page links to Q-0001 instead, and no Q-0002 exists."""
    result = sphinx_build(fixture_copy(tmp_path), tmp_path / "out")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert re.search(r'Answers <a class="reference internal" href="#Q-0001"', page), page
    assert 'id="Q-0002"' not in page


def test_unreadable_workshop_data_is_reported_once_at_its_file(tmp_path: Path) -> None:
    src = fixture_copy(tmp_path)
    (src / "workshop" / "questions.yaml").write_text("questions: [\n", encoding="utf-8")
    (src / "other.md").write_text("# Another page\n", encoding="utf-8")
    result = sphinx_build(src, tmp_path / "out")
    assert result.returncode != 0
    found = re.findall(
        r"src/workshop/questions\.yaml:\d+: (?:WARNING|ERROR): .* breaks R-44-yaml-syntax", result.stderr
    )
    assert len(found) == 1, result.stderr
