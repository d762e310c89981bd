"""Sphinx builds with the story generators: a fixture spec builds and shows each story with its scenarios
and latest run; a broken acceptance suite fails the build naming the feature file, line, story and rule;
the real spec's story pages build without a warning; the Jira export reads the build's needs.json."""

from __future__ import annotations

import csv
import json
import re
import subprocess
from pathlib import Path

import pytest

from futurebank.spec.jira_export import write_story_exports
from helpers.sphinx_build import sphinx_build

REPO = Path(__file__).resolve().parents[3]

CONF = """\
from futurebank.spec.needs_model import sphinx_config

project = "stories fixture"
extensions = ["myst_parser", "sphinx_needs", "futurebank.spec.sphinx_ext"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
html_theme = "basic"
globals().update(sphinx_config())
"""

INDEX = """\
# Stories fixture

```{msg} lock cards
:id: MSG-0001
:disposition: requirement
```

```{source} A public source
:id: SRC-0001
:publisher: Example publisher
:published: 2025-01-01
:url: https://example.org/source
```

```{scope} Cards in the MVP
:id: SCOPE-0001
:decision: mvp
:area: cross-cutting
:traces: MSG-0001
:cites: SRC-0001
```

```{persona} A customer
:id: PER-0001
```

```{toctree}
stories/ep-0001-cards
stories/acceptance
stories/steps
```
"""

PAGE = """\
# EP-0001 Cards

```{epic} Cards
:id: EP-0001
:traces: MSG-0001
:scoped_by: SCOPE-0001
```

```{story} Lock my card
:id: US-0001
:priority: must
:release: mvp
:traces: MSG-0001
:scoped_by: SCOPE-0001
:refines: EP-0001
:actor: PER-0001

As a customer, I want to lock my card, so that nobody else can use it.
Acceptance criteria: {ref}`acceptance-us-0001`.
```
"""

FEATURE = """\
@EP-0001
Feature: Cards

  Background:
    Given the demo data is seeded

  @US-0001
  Scenario: Anna locks her card
    Given the customer "anna" with a token for scopes "cards:write"
    When she PATCHes "/cards/{card-anna}/controls" with body:
      \"\"\"json
      {"locked": true}
      \"\"\"
    Then the response status is 200

  @US-0001 @failure
  Scenario: Anna cannot lock a card that is not hers
    Given the customer "anna" with a token for scopes "cards:write"
    When she PATCHes "/cards/{card-boris}/controls" with body:
      \"\"\"json
      {"locked": true}
      \"\"\"
    Then the response status is 404
    And the problem code is "RESOURCE_NOT_FOUND"
"""

SEED = """\
customers:
  - {alias: anna, customer_id: c-1}
  - {alias: boris, customer_id: c-2}
accounts:
  - {alias: anna-current, account_id: a-1, customer: anna, currency: RUB, overdraft_limit: "0.00",
     balances: {booked: "0.00", available: "0.00"}}
cards:
  - {alias: card-anna, card_id: k-1, customer: anna, account: anna-current}
  - {alias: card-boris, card_id: k-2, customer: boris, account: anna-current}
"""


def build(srcdir: Path, outdir: Path, *, strict: bool = True) -> subprocess.CompletedProcess[str]:
    return sphinx_build(srcdir, outdir, strict=strict)


def make_spec(tmp_path: Path, feature: str = FEATURE) -> Path:
    src = tmp_path / "src"
    features = src / "stories" / "features"
    features.mkdir(parents=True)
    (src / "conf.py").write_text(CONF, encoding="utf-8")
    (src / "index.md").write_text(INDEX, encoding="utf-8")
    (src / "stories" / "ep-0001-cards.md").write_text(PAGE, encoding="utf-8")
    (src / "stories" / "acceptance.md").write_text(
        "# Acceptance\n\n```{generated} story-scenarios\n```\n", encoding="utf-8"
    )
    (src / "stories" / "steps.md").write_text(
        "# Steps\n\n## Vocabulary\n\n```{generated} story-steps\n```\n\n"
        "## Seed\n\n```{generated} story-seed\n```\n",
        encoding="utf-8",
    )
    (src / "stories" / "seed.yaml").write_text(SEED, encoding="utf-8")
    (features / "ep-0001-cards.feature").write_text(feature, encoding="utf-8")
    return src


def page_text(html_file: Path) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html_file.read_text(encoding="utf-8")))


def test_fixture_builds_and_shows_each_story_with_its_scenarios(tmp_path: Path) -> None:
    src = make_spec(tmp_path)
    result = build(src, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    html = (tmp_path / "out" / "stories" / "acceptance.html").read_text(encoding="utf-8")
    text = page_text(tmp_path / "out" / "stories" / "acceptance.html")
    assert 'id="acceptance-us-0001"' in html
    assert "highlight-gherkin" in html  # Pygments' Gherkin lexer coloured the scenarios
    assert "Anna locks her card" in text and "Anna cannot lock a card that is not hers" in text
    assert "latest sandbox run: not run yet" in text
    steps = page_text(tmp_path / "out" / "stories" / "steps.html")
    assert "the demo data is seeded" in steps and "card-boris" in steps


def test_latest_sandbox_run_is_shown_per_scenario(tmp_path: Path) -> None:
    src = make_spec(tmp_path)
    results = tmp_path / "build" / "acceptance" / "results.json"  # repo root = the source dir's parent
    results.parent.mkdir(parents=True)
    results.write_text(json.dumps({"Anna locks her card": "passed"}), encoding="utf-8")
    result = build(src, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    text = page_text(tmp_path / "out" / "stories" / "acceptance.html")
    assert "Anna locks her card" in text and "latest sandbox run: passed" in text
    assert "latest sandbox run: not part of the latest run" in text


@pytest.mark.parametrize(
    ("old", "new", "item", "rule"),
    [
        ("@US-0001 @failure", "@US-0001", "US-0001", "R-21-must-story-has-failure-path"),
        (
            "  @US-0001\n  Scenario: Anna locks",
            "  @US-0001 @failure\n  Scenario: Anna locks",
            "US-0001",
            "R-20-must-story-has-scenarios",
        ),
        ("@US-0001 @failure", "@US-0002 @failure", "US-0002", "R-22-scenario-tag-names-story"),
        (
            "Then the response status is 404",
            "Then it is refused",
            "Anna cannot lock a card that is not hers",
            "R-26-step-in-vocabulary",
        ),
        (
            "{card-boris}",
            "{card-carl}",
            "Anna cannot lock a card that is not hers",
            "R-27-reference-defined",
        ),
    ],
)
def test_broken_suite_fails_the_build_naming_file_line_story_and_rule(
    old: str, new: str, item: str, rule: str, tmp_path: Path
) -> None:
    assert old in FEATURE
    src = make_spec(tmp_path, FEATURE.replace(old, new, 1))
    result = build(src, tmp_path / "out")
    assert result.returncode != 0, f"{rule}: the build passed on a broken suite"
    pattern = (
        rf"src/stories/features/ep-0001-cards\.feature:\d+: (WARNING|ERROR): {re.escape(item)} breaks "
        rf"{re.escape(rule)}: "
    )
    assert re.search(pattern, result.stderr), result.stderr


def test_story_checks_run_with_every_other_check_even_without_the_scenarios_page(tmp_path: Path) -> None:
    """The story checks run when writing starts, with the needs and contract checks, not inside a page."""
    src = make_spec(tmp_path, FEATURE.replace("@US-0001 @failure", "@US-0001", 1))
    (src / "stories" / "acceptance.md").write_text("# Acceptance\n\nNo generated block.\n", encoding="utf-8")
    page = src / "stories" / "ep-0001-cards.md"
    text = page.read_text(encoding="utf-8")
    assert "Acceptance criteria: {ref}`acceptance-us-0001`." in text
    page.write_text(text.replace("Acceptance criteria: {ref}`acceptance-us-0001`.", ""), encoding="utf-8")
    result = build(src, tmp_path / "out")
    assert result.returncode != 0
    assert re.search(
        r"src/stories/features/ep-0001-cards\.feature:\d+: (WARNING|ERROR): US-0001 breaks "
        r"R-21-must-story-has-failure-path: ",
        result.stderr,
    ), result.stderr


def test_a_seed_that_is_not_yaml_fails_the_build_naming_its_line(tmp_path: Path) -> None:
    src = make_spec(tmp_path)
    seed = src / "stories" / "seed.yaml"
    seed.write_text(seed.read_text(encoding="utf-8") + "broken: [unclosed\n", encoding="utf-8")
    result = build(src, tmp_path / "out")
    assert result.returncode != 0
    assert re.search(
        r"src/stories/seed\.yaml:\d+: (WARNING|ERROR): seed\.yaml breaks R-44-yaml-syntax: ", result.stderr
    ), result.stderr


def test_jira_export_reads_the_builds_needs_json(tmp_path: Path) -> None:
    src = make_spec(tmp_path)
    assert build(src, tmp_path / "out").returncode == 0
    paths = write_story_exports(tmp_path / "out" / "needs.json", src / "stories" / "features", tmp_path / "x")
    with paths[0].open(encoding="utf-8", newline="") as handle:
        header, epic, story = list(csv.reader(handle))
    row = dict(zip(header, story, strict=False))
    assert epic[:3] == ["1", "Epic", "Cards"]
    assert row["Issue Type"] == "Story" and row["Summary"] == "Lock my card" and row["Parent"] == "1"
    assert row["Priority"] == "Highest"
    assert "As a customer, I want to lock my card" in row["Description"]
    assert "Scenario: Anna cannot lock a card that is not hers" in row["Acceptance Criteria"]


@pytest.mark.slow
def test_the_real_story_pages_build_without_warnings(tmp_path: Path) -> None:
    """Other parts of the spec may still warn while they are written; ours must not."""
    result = build(REPO / "docs", tmp_path / "site", strict=False)
    assert result.returncode == 0, result.stderr[-3000:]
    ours = re.compile(r"(docs/(personas|stories|sources/stories)|futurebank[./]spec[./](stories|pages))")
    mine = [line for line in result.stderr.splitlines() if ours.search(line)]
    assert mine == [], "\n".join(mine)
    paths = write_story_exports(
        tmp_path / "site" / "needs.json", REPO / "docs" / "stories" / "features", tmp_path
    )
    with paths[0].open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    assert [r[1] for r in rows].count("Epic") == 10  # EP-0010 sign-in and step-up
    assert [r[1] for r in rows].count("Story") >= 25
