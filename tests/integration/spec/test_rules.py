"""Every validation rule: the valid fixture builds; one broken fixture per rule fails the build
with a message naming the file, the item and the rule."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from futurebank.spec.needs_model import RULE_IDS
from helpers.sphinx_build import sphinx_build

FIXTURE = Path(__file__).parent / "fixtures" / "rules"
REPO = Path(__file__).resolve().parents[3]


def build(srcdir: Path, outdir: Path) -> subprocess.CompletedProcess[str]:
    return sphinx_build(srcdir, outdir)


def fixture_copy(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(FIXTURE, src)
    return src


def test_valid_fixture_builds(tmp_path: Path) -> None:
    result = build(fixture_copy(tmp_path), tmp_path / "out")
    assert result.returncode == 0, result.stderr


# rule id -> (need id that breaks it, text to replace in index.md, replacement)
BREAKAGES: dict[str, tuple[str, str, str]] = {
    "R-01-msg-disposition": ("MSG-0003", ":disposition: courtesy\n", ""),
    "R-02-msg-resolved": (
        "MSG-0004",
        ":severity: high\n:traces: MSG-0004\n",
        ":severity: high\n:traces: MSG-0001\n",
    ),
    "R-03-msg-duplicate-names-original": ("MSG-0002", ":duplicates: MSG-0001\n", ""),
    "R-04-item-traced": ("Q-0001", ":owner: CEO\n:traces: MSG-0001\n", ":owner: CEO\n"),
    "R-05-traces-point-to-messages": (
        "Q-0001",
        ":owner: CEO\n:traces: MSG-0001\n",
        ":owner: CEO\n:traces: SRC-0001\n",
    ),
    "R-06-scope-decision": ("SCOPE-0001", ":decision: mvp\n", ""),
    "R-07-scope-evidence": ("SCOPE-0001", ":traces: MSG-0001\n:cites: SRC-0001\n", ":traces: MSG-0001\n"),
    "R-08-scope-reopen-trigger": ("SCOPE-0002", ":reopen_when: a certified device exists\n", ""),
    "R-09-finding-raises-question": ("FND-0001", ":raises: Q-0001\n", ""),
    "R-10-question-owner": ("Q-0001", ":owner: CEO\n", ""),
    "R-11-kpi-measurable": ("KPI-0001", ":baseline: established at launch from the CRM\n", ""),
    "R-12-source-citable": ("SRC-0001", ":url: https://example.org/source\n", ""),
    "R-13-adr-status": ("ADR-0001", ":adr_status: accepted\n", ""),
}


def test_every_rule_has_a_breakage_test() -> None:
    assert sorted(BREAKAGES) == sorted(RULE_IDS)


@pytest.mark.parametrize("rule_id", sorted(BREAKAGES))
def test_broken_fixture_fails_naming_file_item_and_rule(rule_id: str, tmp_path: Path) -> None:
    need_id, old, new = BREAKAGES[rule_id]
    src = fixture_copy(tmp_path)
    index = src / "index.md"
    text = index.read_text(encoding="utf-8")
    assert old in text, f"fixture no longer contains {old!r}"
    index.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = build(src, tmp_path / "out")
    assert result.returncode != 0, f"{rule_id}: the build passed on a broken fixture"
    pattern = rf"index\.md:\d+: (WARNING|ERROR): {re.escape(need_id)} breaks {re.escape(rule_id)}: "
    assert re.search(pattern, result.stderr), result.stderr


def test_a_field_value_outside_its_schema_breaks_the_field_rule(tmp_path: Path) -> None:
    """sphinx-needs field schemas (enums, types of needs_model.NEEDS_FIELDS) report as R-56."""
    src = fixture_copy(tmp_path)
    index = src / "index.md"
    text = index.read_text(encoding="utf-8")
    assert ":disposition: courtesy\n" in text
    index.write_text(text.replace(":disposition: courtesy\n", ":disposition: gossip\n", 1), encoding="utf-8")
    result = build(src, tmp_path / "out")
    assert result.returncode != 0
    assert re.search(
        r"index\.md:\d+: (WARNING|ERROR): MSG-0003 breaks R-56-need-field-valid: .*gossip", result.stderr
    ), result.stderr


def test_unknown_generated_block_and_unreadable_bench_result_break_the_build_rules(tmp_path: Path) -> None:
    """R-54 and R-55 in one build: a {generated} block no page module registers, and a bench result
    file that is not one (the repository root is the source dir's parent, here tmp_path)."""
    src = fixture_copy(tmp_path)
    index = src / "index.md"
    index.write_text(
        index.read_text(encoding="utf-8")
        + "\n## Generated\n\n```{generated} no-such-block\n```\n\n```{generated} bench-latest\n```\n",
        encoding="utf-8",
    )
    latest = tmp_path / "build" / "bench" / "latest.json"
    latest.parent.mkdir(parents=True)
    latest.write_text('{"http": {}}', encoding="utf-8")
    result = build(src, tmp_path / "out")
    assert result.returncode != 0
    assert re.search(
        r"src/index\.md:\d+: (WARNING|ERROR): no-such-block breaks R-54-generated-block-known: "
        r".*bench-latest",
        result.stderr,
    ), result.stderr
    assert re.search(
        r"build/bench/latest\.json:1: (WARNING|ERROR): latest\.json breaks R-55-bench-result-readable: ",
        result.stderr,
    ), result.stderr


def test_removing_a_real_disposition_names_that_message(tmp_path: Path) -> None:
    """Deleting one message's disposition in the real spec fails the build, naming the message."""
    src = tmp_path / "docs"
    shutil.copytree(REPO / "docs", src, ignore=shutil.ignore_patterns("_build"))
    annotations = src / "chat" / "annotations.yaml"
    text = annotations.read_text(encoding="utf-8")
    match = re.search(
        r"^  (MSG-00\d\d):\n(?:    .*\n|      .*\n)*?    disposition: \w+\n", text, re.MULTILINE
    )
    assert match, "no annotated message found"
    broken_id = match.group(1)
    disposition_line = re.search(r"    disposition: \w+\n", match.group(0))
    assert disposition_line
    start = match.start() + disposition_line.start()
    annotations.write_text(text[:start] + text[start + len(disposition_line.group(0)) :], encoding="utf-8")
    result = build(src, tmp_path / "out")
    assert result.returncode != 0
    assert re.search(
        rf"chat/annotations\.yaml:\d+: (WARNING|ERROR): {broken_id} breaks R-01-msg-disposition",
        result.stderr,
    ), result.stderr[-3000:]
