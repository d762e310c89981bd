"""The contract checks inside a Sphinx build: a small spec project with the real contract files builds
clean, and broken copies fail the build (-W) with ``file:line: WARNING: <item> breaks <rule>``."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers.sphinx_build import sphinx_build
from helpers.stories import STORY_CATALOGUE

REPO = Path(__file__).resolve().parents[3]

CONF = """\
from futurebank.spec.needs_model import sphinx_config

project = "contract fixture"
extensions = [
    "myst_parser",
    "sphinx_needs",
    "sphinx.ext.graphviz",
    "futurebank.spec.sphinx_ext",
]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
html_theme = "basic"
graphviz_output_format = "svg"
globals().update(sphinx_config())
"""

# story id, priority, release: the brief's stories plus US-0026
STORIES = STORY_CATALOGUE


def make_project(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    shutil.copytree(REPO / "docs" / "api", docs / "api", ignore=shutil.ignore_patterns("*.md"))
    shutil.copytree(REPO / "docs" / "entities", docs / "entities", ignore=shutil.ignore_patterns("*.md"))
    (docs / "conf.py").write_text(CONF, encoding="utf-8")
    (docs / "index.md").write_text(
        "# Contract fixture\n\n```{toctree}\nstories\napi/operations\napi/events\nentities/index\n```\n",
        encoding="utf-8",
    )
    story_blocks = [
        f"```{{story}} Story {sid}\n:id: {sid}\n:priority: {prio}\n:release: {rel}\n"
        ":derived: fixture\n\nA story.\n```\n"
        for sid, prio, rel in STORIES
    ]
    (docs / "stories.md").write_text("# Stories\n\n" + "\n".join(story_blocks), encoding="utf-8")
    (docs / "api" / "operations.md").write_text(
        "# Operations\n\n```{generated} contract-operations\n```\n\n"
        "## Rules\n\n```{generated} contract-rules\n```\n",
        encoding="utf-8",
    )
    (docs / "api" / "events.md").write_text(
        "# Events\n\n```{generated} contract-events\n```\n", encoding="utf-8"
    )
    (docs / "entities" / "index.md").write_text(
        "# Entities\n\n```{generated} entity-erd\n```\n\n```{generated} contract-entities\n```\n\n"
        "## Dictionary\n\n```{generated} entity-dictionary\n```\n",
        encoding="utf-8",
    )
    return docs


def build(docs: Path, outdir: Path) -> subprocess.CompletedProcess[str]:
    return sphinx_build(docs, outdir, cwd=docs.parent)


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{path.name} no longer contains {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.slow
def test_real_contract_builds_with_generated_items(tmp_path: Path) -> None:
    docs = make_project(tmp_path)
    result = build(docs, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    operations = (tmp_path / "out" / "api" / "operations.html").read_text(encoding="utf-8")
    assert "OP-createPayment" in operations and "ENT-Payment" in operations
    entities = (tmp_path / "out" / "entities" / "index.html").read_text(encoding="utf-8")
    assert "ENT-CarbonFootprint" in entities
    assert "graphviz" in entities  # the generated entity-relationship diagram
    assert "EVT-paymentCompleted" in (tmp_path / "out" / "api" / "events.html").read_text(encoding="utf-8")


# broken copy -> (file, old, new, item, rule)
BROKEN = {
    "broken example": (
        "api/openapi.yaml",
        "                  amount: {amount: '2500.00', currency: RUB}\n"
        "                  remittance_information: Dinner",
        "                  amount: {amount: 2500.5, currency: RUB}\n"
        "                  remittance_information: Dinner",
        "OP-createPayment",
        "R-30-example-valid",
    ),
    "operation without story": (
        "api/openapi.yaml",
        "      x-stories: [US-0014]\n",
        "",
        "OP-listCards",
        "R-32-operation-serves-story",
    ),
    "unknown story id": (
        "api/openapi.yaml",
        "x-stories: [US-0022]",
        "x-stories: [US-0999]",
        "OP-listGreenProducts",
        "R-33-story-exists",
    ),
    "must story without operation": (
        "api/openapi.yaml",
        "x-stories: [US-0004]",
        "x-stories: [US-0003]",
        "US-0004",
        "R-34-must-story-has-api",
    ),
    "schema disagrees with entity": (
        "api/openapi.yaml",
        "          enum: [enabled, blocked, closed]",
        "          enum: [enabled, blocked, closed, dormant]",
        "schema Account (used by OP-listAccounts, OP-getAccount)",
        "R-35-schema-matches-entity",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_contract_fails_the_build_naming_file_item_and_rule(case: str, tmp_path: Path) -> None:
    file, old, new, item, rule = BROKEN[case]
    docs = make_project(tmp_path)
    replace_once(docs / file, old, new)
    result = build(docs, tmp_path / "out")
    assert result.returncode != 0, f"{case}: the build passed on a broken contract"
    pattern = rf"docs/{re.escape(file)}:\d+: (WARNING|ERROR): {re.escape(item)}.* breaks {re.escape(rule)}: "
    assert re.search(pattern, result.stderr), result.stderr[-3000:]
