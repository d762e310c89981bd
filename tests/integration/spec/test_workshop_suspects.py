"""Suspect links end to end on the workshop fixture: fingerprint, change a scope decision, see its story
suspect on the site and in `futurebank suspects`, review it, see it clear; an answer marks the items
its question blocks suspect."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from futurebank.cli import main
from futurebank.spec.workshop.fingerprints import STATE_FILE
from helpers.sphinx_build import sphinx_build

FIXTURE = Path(__file__).parent / "fixtures" / "workshop"


def suspects(out: Path) -> dict[str, list[str]]:
    data: dict[str, list[str]] = json.loads((out / STATE_FILE).read_text(encoding="utf-8"))["suspects"]
    return data


@pytest.fixture
def reviewed(tmp_path: Path) -> tuple[Path, Path]:
    """The fixture built once and every item's upstream fingerprints recorded, then built again."""
    src, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(FIXTURE, src)
    assert sphinx_build(src, out).returncode == 0
    assert "US-0001" in suspects(out)  # never reviewed
    assert main(["fingerprint", "--site", str(out), "--docs", str(src)]) == 0
    result = sphinx_build(src, out)
    assert result.returncode == 0, result.stderr
    assert suspects(out) == {}
    return src, out


def test_changing_a_scope_decision_makes_its_story_suspect_until_reviewed(
    reviewed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    src, out = reviewed
    index = src / "index.md"
    text = index.read_text(encoding="utf-8")
    old = "```{scope} A pillar kept in the MVP\n:id: SCOPE-0001\n:decision: mvp\n"
    assert old in text
    index.write_text(
        text.replace(old, old.replace(":decision: mvp", ":decision: later\n:reopen_when: x > 1"))
    )
    assert sphinx_build(src, out).returncode == 0
    assert suspects(out) == {"US-0001": ["SCOPE-0001"]}
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "SCOPE-0001 changed" in page  # the marker on the story and the suspects table
    assert "needs_style_suspect" in page  # the story's box is styled as suspect
    capsys.readouterr()
    assert main(["suspects", "--site", str(out), "--docs", str(src)]) == 1
    assert "suspect US-0001: upstream SCOPE-0001" in capsys.readouterr().out

    assert main(["review", "US-0001", "--site", str(out), "--docs", str(src)]) == 0
    assert "reviewed US-0001 (was suspect: SCOPE-0001)" in capsys.readouterr().out
    assert sphinx_build(src, out).returncode == 0
    assert suspects(out) == {}
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "SCOPE-0001 changed" not in page
    assert "needs_style_suspect" not in page
    assert main(["suspects", "--site", str(out), "--docs", str(src)]) == 0


def test_an_answer_marks_the_items_its_question_blocks_suspect(reviewed: tuple[Path, Path]) -> None:
    src, out = reviewed
    argv = ["answer", "Q-0001", "--answer", "The CEO decides.", "--role", "ceo", "--date", "2027-01-15"]
    assert main([*argv, "--record", "board minutes 2027-01-15", "--docs", str(src)]) == 0
    result = sphinx_build(src, out)
    assert result.returncode == 0, result.stderr
    assert suspects(out) == {"KPI-0001": ["Q-0001"], "US-0001": ["Q-0001"]}
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "The CEO decides." in page  # the answer shows on the question


def test_review_refuses_an_unknown_item(
    reviewed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    src, out = reviewed
    assert main(["review", "US-0999", "--site", str(out), "--docs", str(src)]) == 2
    assert "no such item in the last build: US-0999" in capsys.readouterr().err


def test_suspects_refuse_a_build_older_than_the_docs(
    reviewed: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    src, out = reviewed
    index = src / "index.md"
    index.write_text(index.read_text(encoding="utf-8") + "\nEdited after the build.\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["suspects", "--site", str(out), "--docs", str(src)]) == 2
    assert "changed after the build" in capsys.readouterr().err
    assert main(["review", "US-0001", "--site", str(out), "--docs", str(src)]) == 2
    assert (
        main(["suspects", "--skip-stale", "--site", str(out), "--docs", str(src)]) == 0
    )  # what `make check` runs
    assert "no suspect list" in capsys.readouterr().out
    assert sphinx_build(src, out).returncode == 0
    assert main(["suspects", "--site", str(out), "--docs", str(src)]) == 0


def test_review_refuses_a_docs_tree_the_site_was_not_built_from(
    reviewed: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out = reviewed
    assert '"docs"' not in (out / STATE_FILE).read_text(encoding="utf-8")  # no build path on the site
    other = tmp_path / "other"
    other.mkdir()
    assert main(["review", "US-0001", "--site", str(out), "--docs", str(other)]) == 2
    assert "is not what the site was built from" in capsys.readouterr().err
