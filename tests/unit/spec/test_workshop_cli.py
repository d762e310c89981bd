"""`futurebank answer`, `baseline` and `diff`, and the record's due dates, on small data files."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
import yaml

from futurebank.cli import main
from futurebank.spec.workshop.baseline import diff, load_baseline, render_changes
from futurebank.spec.workshop.record import load_record

FIXTURE = Path(__file__).parents[2] / "integration" / "spec" / "fixtures" / "workshop"


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURE, tmp_path / "docs")
    return tmp_path / "docs"


def answer(
    docs: Path, *extra: str, question: str = "Q-0001", role: str = "ceo", date: str = "2027-01-15"
) -> int:
    argv = ["answer", question, "--answer", 'The CEO: "yes"', "--role", role, "--date", date]
    return main([*argv, "--record", "minutes #4", "--docs", str(docs), *extra])


def test_answer_edits_only_that_question(docs: Path) -> None:
    path = docs / "workshop" / "questions.yaml"
    before = path.read_text(encoding="utf-8").splitlines()
    assert answer(docs) == 0
    after = path.read_text(encoding="utf-8").splitlines()
    changed = [line for line in after if line not in before]
    assert all(line.startswith("    ") or line.startswith("  Q-0001:") for line in changed)
    assert [line for line in before if line not in after] == [
        "  Q-0001: {priority: blocks-phase, phase: PH-0001, blocks: [US-0001, KPI-0001]}"
    ]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["questions"]["Q-0001"] == {
        "priority": "blocks-phase",
        "phase": "PH-0001",
        "blocks": ["US-0001", "KPI-0001"],
        "answer": 'The CEO: "yes"',
        "answered_by": "ceo",
        "answered_on": dt.date(2027, 1, 15),
        "record": "minutes #4",
    }
    assert data["merged"] == {"Q-0002": "Q-0001"}
    plan = load_record(docs).questions["Q-0001"]
    assert plan.answered and plan.answered_by == "ceo"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"role": "cfo"}, "role 'cfo' is not in docs/workshop/roles.yaml"),
        ({"date": "15.01.2027"}, "is not a YYYY-MM-DD date"),
        ({"question": "Q-0002"}, "Q-0002 was merged into Q-0001"),
        ({"question": "Q-0099"}, "Q-0099: no such question"),
    ],
)
def test_answer_refuses_bad_input_and_leaves_the_file(
    docs: Path, kwargs: dict[str, str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = docs / "workshop" / "questions.yaml"
    before = path.read_text(encoding="utf-8")
    assert answer(docs, **kwargs) == 2
    assert message in capsys.readouterr().err
    assert path.read_text(encoding="utf-8") == before


def test_a_question_is_answered_once(docs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert answer(docs) == 0
    assert answer(docs) == 2
    assert "Q-0001 is already answered (2027-01-15, ceo)" in capsys.readouterr().err


def test_due_dates_come_from_the_roadmap(docs: Path) -> None:
    record = load_record(docs)
    plan = record.questions["Q-0001"]
    assert record.due(plan) == dt.date(2027, 2, 1)  # blocks-phase: the start of PH-0001 (M0 + 0)
    assert record.phases["PH-0001"].end == dt.date(2027, 5, 1)


def needs_json(path: Path, needs: dict[str, dict[str, object]]) -> Path:
    path.write_text(json.dumps({"current_version": "", "versions": {"": {"needs": needs}}}), encoding="utf-8")
    return path


def test_baseline_and_diff_report_fields_statuses_and_contracts(
    docs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (docs / "entities").mkdir()
    schema = docs / "entities" / "Account.schema.yaml"
    schema.write_text("type: object\nproperties:\n  id: {type: string}\n", encoding="utf-8")
    old = {
        "US-0001": {
            "id": "US-0001",
            "type": "story",
            "title": "See balance",
            "status": "proposed",
            "lineno": 3,
        },
        "US-0002": {"id": "US-0002", "type": "story", "title": "Gone"},
    }
    one = needs_json(tmp_path / "one.json", old)
    assert main(["baseline", "one", "--needs", str(one), "--docs", str(docs), "--commit", "abc123"]) == 0
    frozen = load_baseline(docs / "workshop" / "baselines" / "one.json")
    assert frozen["commit"] == "abc123"
    assert "lineno" not in frozen["needs"]["US-0001"]  # derived by sphinx-needs, not frozen
    assert "entity Account.id" in frozen["contracts"]

    new = {
        "US-0001": {
            "id": "US-0001",
            "type": "story",
            "title": "See my balance",
            "status": "accepted",
            "lineno": 9,
        },
        "US-0003": {"id": "US-0003", "type": "story", "title": "New"},
    }
    schema.write_text("type: object\nproperties:\n  id: {type: string, format: uuid}\n", encoding="utf-8")
    two = needs_json(tmp_path / "two.json", new)
    assert main(["baseline", "two", "--needs", str(two), "--docs", str(docs), "--commit", "def456"]) == 0
    capsys.readouterr()
    assert main(["diff", "one", "two", "--docs", str(docs)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "added   US-0003",
        "removed US-0002",
        "changed US-0001 status: proposed -> accepted",
        "changed US-0001 title: See balance -> See my balance",
        "changed contract entity Account.id",
    ]
    changes = diff(frozen, load_baseline(docs / "workshop" / "baselines" / "two.json"))
    assert [(item, c.old, c.new) for item, c in changes.status_changes] == [
        ("US-0001", "proposed", "accepted")
    ]
    assert render_changes(diff(frozen, frozen)) == "no changes\n"


def test_baseline_refuses_a_name_that_is_not_a_file_name(docs: Path, tmp_path: Path) -> None:
    one = needs_json(tmp_path / "one.json", {})
    assert main(["baseline", "../escape", "--needs", str(one), "--docs", str(docs)]) == 2
