"""Story machinery: the Gherkin parser, every story check with a good and a broken fixture, the step
vocabulary, run results, and the real spec's stories passing every check."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest

from futurebank.spec.pages.stories import render_scenarios, sandbox_run_status
from futurebank.spec.rules import Finding
from futurebank.spec.stories import (
    RULES,
    VOCABULARY,
    FeatureParseError,
    Step,
    check,
    load_features,
    load_run_results,
    load_seed,
    load_stories,
    match_step,
    parse_feature_text,
    scenarios_by_story,
    written_criteria,
)

REPO = Path(__file__).resolve().parents[3]
DOCS_STORIES = REPO / "docs" / "stories"

STORY_PAGE = """\
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
```

```{story} List my cards
:id: US-0002
:priority: should
:release: mvp
:traces: MSG-0001
:scoped_by: SCOPE-0001
:refines: EP-0001
:actor: PER-0001

As a customer, I want to see my cards, so that I know which is locked.

**Acceptance criteria.**
- Given two cards, when I list them,
  then I see both with their lock state.
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
    And the response field "locked" is true

  @US-0001 @failure
  Scenario: Anna cannot lock Boris's card
    Given the customer "anna" with a token for scopes "cards:write"
    When she PATCHes "/cards/{card-boris}/controls" with body:
      \"\"\"json
      {"locked": true}
      \"\"\"
    Then the response status is 404
    And the problem code is "RESOURCE_NOT_FOUND"
"""

SEED = """\
clients:
  - {alias: demo-app, client_id: demo-app}
customers:
  - {alias: anna, customer_id: c-1}
  - {alias: boris, customer_id: c-2}
accounts:
  - alias: anna-current
    account_id: a-1
    customer: anna
    currency: RUB
    overdraft_limit: "0.00"
    balances: {booked: "100.00", available: "90.00"}
transactions:
  - {alias: tx-in, transaction_id: t-1, account: anna-current, status: BOOK,
     credit_debit_indicator: CRDT, amount: "100.00", currency: RUB}
  - {alias: tx-hold, transaction_id: t-2, account: anna-current, status: PDNG,
     credit_debit_indicator: DBIT, amount: "10.00", currency: RUB}
cards:
  - {alias: card-anna, card_id: k-1, customer: anna, account: anna-current}
  - {alias: card-boris, card_id: k-2, customer: boris, account: anna-current}
"""


def make_project(tmp_path: Path, page: str = STORY_PAGE, feature: str = FEATURE, seed: str = SEED) -> Path:
    stories = tmp_path / "stories"
    (stories / "features").mkdir(parents=True)
    (stories / "ep-0001-cards.md").write_text(page, encoding="utf-8")
    (stories / "features" / "ep-0001-cards.feature").write_text(feature, encoding="utf-8")
    (stories / "seed.yaml").write_text(seed, encoding="utf-8")
    return stories


def run_checks(stories: Path) -> list[Finding]:
    records = load_stories(stories, stories.parent)
    features, violations = load_features(stories / "features", stories.parent)
    return violations + check(records, features, load_seed(stories / "seed.yaml", stories.parent))


def rules_of(violations: list[Finding]) -> set[str]:
    return {v.rule for v in violations}


# ---------------------------------------------------------------------------------------- parser


def test_parser_reads_tags_background_docstring_and_lines() -> None:
    feature = parse_feature_text(FEATURE, "f.feature")
    assert feature.name == "Cards"
    assert feature.epic_ids == ("EP-0001",)
    assert [s.text for s in feature.background] == ["the demo data is seeded"]
    first, second = feature.scenarios
    assert first.name == "Anna locks her card"
    assert first.tags == ("US-0001",) and first.story_ids == ("US-0001",)
    assert not first.is_failure and second.is_failure
    assert first.line == 8 and first.tag_lines == (7,)
    patch = first.steps[1]
    assert patch.keyword.strip() == "When" and patch.line == 10
    assert patch.docstring == '{"locked": true}' and patch.media_type == "json"
    assert first.background == feature.background


def test_parser_handles_rules_outlines_and_tables() -> None:
    text = textwrap.dedent(
        """\
        Feature: F
          Background:
            Given the demo data is seeded
          Rule: R
            Background:
              Given the customer "anna" without a token
            @US-0002
            Scenario Outline: Status <code>
              When she GETs "/cards"
                | a | b |
              Then the response status is <code>
              Examples:
                | code |
                | 401  |
        """
    )
    feature = parse_feature_text(text, "f.feature")
    (outline,) = feature.scenarios
    assert [s.text for s in feature.background] == ["the demo data is seeded"]
    assert len(outline.background) == 2  # the rule's background adds to the feature's
    assert outline.steps[0].table == (("a", "b"),)
    assert outline.examples == ((("code",), ("401",)),)
    rendered = outline.gherkin()
    assert "Scenario Outline: Status <code>" in rendered and "| 401 |" in rendered


def test_parse_error_names_the_line(tmp_path: Path) -> None:
    broken = "Feature: F\n  Scenario: S\n    Given ok\n  Examples without outline\n    | x |\n"
    with pytest.raises(FeatureParseError) as caught:
        parse_feature_text('Feature: F\n  Scenario: S\n    Given ok\n    | a |\n  nonsense: here\n"""\n', "x")
    assert caught.value.line >= 1
    (tmp_path / "bad.feature").write_text(broken + '"""\n', encoding="utf-8")
    features, violations = load_features(tmp_path, tmp_path)
    assert features == []
    assert [v.rule for v in violations] == ["R-29-feature-parses"]
    assert violations[0].location.startswith("bad.feature:")


def test_gherkin_round_trip_parses_again() -> None:
    feature = parse_feature_text(FEATURE, "f.feature")
    for scenario in feature.scenarios:
        again = parse_feature_text("Feature: again\n" + textwrap.indent(scenario.gherkin(True), "  "), "g")

        def content(steps: tuple[Step, ...]) -> list[tuple[str, str, str | None]]:
            return [(st.keyword, st.text, st.docstring) for st in steps]

        assert content(again.scenarios[0].steps) == content(scenario.steps)
        assert content(again.scenarios[0].background) == content(scenario.background)
        assert again.scenarios[0].tags == scenario.tags


def test_story_records_come_with_their_lines(tmp_path: Path) -> None:
    stories = make_project(tmp_path)
    records = load_stories(stories, tmp_path)
    assert [(r.kind, r.id) for r in records] == [
        ("epic", "EP-0001"),
        ("story", "US-0001"),
        ("story", "US-0002"),
    ]
    us1 = records[1]
    assert us1.path == "stories/ep-0001-cards.md" and us1.line == 10
    assert us1.priority == "must" and us1.links("refines") == ("EP-0001",)


# ---------------------------------------------------------------------------------------- checks


def test_story_records_carry_their_body_and_written_criteria(tmp_path: Path) -> None:
    records = {r.id: r for r in load_stories(make_project(tmp_path), tmp_path)}
    assert records["US-0001"].body == "As a customer, I want to lock my card, so that nobody else can use it."
    assert written_criteria(records["US-0002"].body) == [
        "Given two cards, when I list them, then I see both with their lock state."
    ]
    assert written_criteria(records["US-0001"].body) == []


def test_good_fixture_passes_every_check(tmp_path: Path) -> None:
    assert run_checks(make_project(tmp_path)) == []


BREAKAGES: dict[str, tuple[str, str, str, str]] = {
    # rule -> (which file, old text, new text, item named in the violation)
    "R-20-must-story-has-scenarios": (
        "feature",
        "  @US-0001\n  Scenario: Anna locks",
        "  @US-0001 @failure\n  Scenario: Anna locks",
        "US-0001",
    ),
    "R-21-must-story-has-failure-path": ("feature", "@US-0001 @failure", "@US-0001", "US-0001"),
    "R-22-scenario-tag-names-story": ("feature", "@US-0001 @failure", "@US-0999 @failure", "US-0999"),
    "R-23-scenario-has-story-tag": ("feature", "  @US-0001 @failure\n", "", "Anna cannot lock Boris's card"),
    "R-24-story-id-well-formed": ("page", ":id: US-0002", ":id: US-0001", "US-0001"),
    "R-25-scenario-name-unique": (
        "feature",
        "Scenario: Anna cannot lock Boris's card",
        "Scenario: Anna locks her card",
        "Anna locks her card",
    ),
    "R-26-step-in-vocabulary": (
        "feature",
        "Then the response status is 404",
        "Then it fails",
        "Anna cannot lock Boris's card",
    ),
    "R-27-reference-defined": ("feature", "{card-boris}", "{card-carl}", "Anna cannot lock Boris's card"),
    "R-28-seed-consistent": ("seed", 'booked: "100.00"', 'booked: "150.00"', "anna-current"),
    "R-29-feature-parses": (
        "feature",
        "  @US-0001 @failure\n",
        "  Background:\n  @US-0001 @failure\n",
        "ep-0001-cards.feature",
    ),
    "R-19-story-complete": ("page", ":priority: should\n", "", "US-0002"),
    "R-70-story-has-criteria": ("page", "**Acceptance criteria.**\n", "", "US-0002"),
}


def test_every_story_rule_has_a_breakage_test() -> None:
    assert sorted(BREAKAGES) == sorted(RULES)


@pytest.mark.parametrize("rule", sorted(BREAKAGES))
def test_broken_fixture_names_rule_item_and_location(rule: str, tmp_path: Path) -> None:
    which, old, new, item = BREAKAGES[rule]
    texts = {"page": STORY_PAGE, "feature": FEATURE, "seed": SEED}
    assert old in texts[which], f"fixture no longer contains {old!r}"
    texts[which] = texts[which].replace(old, new, 1)
    violations = run_checks(make_project(tmp_path, texts["page"], texts["feature"], texts["seed"]))
    hits = [v for v in violations if v.rule == rule]
    assert hits, f"{rule} not reported; got {violations}"
    assert any(v.item == item for v in hits), hits
    for v in hits:
        assert re.fullmatch(
            r"stories/(features/ep-0001-cards\.feature|ep-0001-cards\.md|seed\.yaml):\d+", v.location
        )
        assert v.message().startswith(f"{v.item} breaks {rule}: {RULES[rule]}")


def test_must_story_without_any_scenario_breaks_both_coverage_rules(tmp_path: Path) -> None:
    feature = FEATURE.replace("@US-0001", "@US-0002")
    violations = run_checks(make_project(tmp_path, feature=feature))
    hits = {(v.rule, v.item, v.location) for v in violations}
    location = "stories/features/ep-0001-cards.feature:2"  # the epic's Feature line
    assert ("R-20-must-story-has-scenarios", "US-0001", location) in hits
    assert ("R-21-must-story-has-failure-path", "US-0001", location) in hits
    assert not any(v.item == "US-0002" for v in violations)  # a should story needs no failure path


def test_malformed_and_unknown_tags_are_reported(tmp_path: Path) -> None:
    feature = FEATURE.replace("@US-0001 @failure", "@US-0001 @failure @US-12 @wip")
    violations = run_checks(make_project(tmp_path, feature=feature))
    items = {v.item for v in violations if v.rule == "R-22-scenario-tag-names-story"}
    assert items == {"US-12", "@wip"}


def test_malformed_story_id_is_reported(tmp_path: Path) -> None:
    violations = run_checks(make_project(tmp_path, page=STORY_PAGE.replace(":id: US-0002", ":id: US-02")))
    assert ("R-24-story-id-well-formed", "US-02") in {(v.rule, v.item) for v in violations}


def test_refines_must_name_an_epic(tmp_path: Path) -> None:
    page = STORY_PAGE.replace(
        ":refines: EP-0001\n:actor: PER-0001\n\nAs a customer, I want to see",
        ":refines: EP-0009\n:actor: PER-0001\n\nAs a customer, I want to see",
    )
    violations = run_checks(make_project(tmp_path, page=page))
    (hit,) = [v for v in violations if v.rule == "R-19-story-complete"]
    assert "EP-0009" in hit.detail and hit.item == "US-0002"


def test_docstring_must_match_the_step(tmp_path: Path) -> None:
    feature = FEATURE.replace(
        "    Then the response status is 200\n",
        '    Then the response status is 200\n      """\n      oops\n      """\n',
    )
    violations = run_checks(make_project(tmp_path, feature=feature))
    assert any(v.rule == "R-26-step-in-vocabulary" and "takes no a docstring" in v.detail for v in violations)


@pytest.fixture
def tooling_only_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """A vocabulary entry the sandbox cannot run. The real vocabulary has none left (every operations
    step runs against the sandbox now), so the mechanism is tested with this stand-in."""
    from futurebank.spec.stories import vocabulary

    extra = vocabulary._p(
        "tooling-only", "the operations team runs a tool the sandbox lacks", "A stand-in.", sandbox=False
    )
    monkeypatch.setattr(vocabulary, "VOCABULARY", (*vocabulary.VOCABULARY, extra))


def test_operations_step_needs_the_not_in_sandbox_tag(tmp_path: Path, tooling_only_step: None) -> None:
    step = "    And the operations team runs a tool the sandbox lacks\n"
    feature = FEATURE.replace(
        '    And the response field "locked" is true\n',
        '    And the response field "locked" is true\n' + step,
    )
    assert "cannot run in the sandbox" in " ".join(
        v.detail for v in run_checks(make_project(tmp_path, feature=feature))
    )
    tagged = feature.replace(
        "  @US-0001\n  Scenario: Anna locks", "  @US-0001 @not-in-sandbox\n  Scenario: Anna locks"
    )
    assert run_checks(make_project(tmp_path / "tagged", feature=tagged)) == []


def test_saved_values_define_references_for_later_steps_only(tmp_path: Path) -> None:
    saved = FEATURE.replace(
        '    And the response field "locked" is true\n',
        '    And the response field "card_id" is saved as "my-card"\n    When she GETs "/cards/{my-card}"\n',
    )
    assert run_checks(make_project(tmp_path, feature=saved)) == []
    early = FEATURE.replace('"/cards/{card-anna}/controls"', '"/cards/{my-card}/controls"').replace(
        '    And the response field "locked" is true\n',
        '    And the response field "card_id" is saved as "my-card"\n',
    )
    violations = run_checks(make_project(tmp_path / "early", feature=early))
    assert [v.rule for v in violations] == ["R-27-reference-defined"]


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        (
            "customer: anna, account: anna-current}",
            "customer: carl, account: anna-current}",
            "not a seeded customer",
        ),
        ('available: "90.00"', 'available: "100.00"', "available balance"),
        ("{alias: boris, customer_id: c-2}", "{alias: anna, customer_id: c-2}", "alias used twice"),
        ('amount: "10.00"', "amount: 10.0", "not a positive decimal string"),
        ("status: PDNG", "status: HELD", "status must be BOOK or PDNG"),
    ],
)
def test_seed_breakages(old: str, new: str, fragment: str, tmp_path: Path) -> None:
    assert old in SEED
    violations = run_checks(make_project(tmp_path, seed=SEED.replace(old, new, 1)))
    assert any(v.rule == "R-28-seed-consistent" and fragment in v.detail for v in violations), violations


# ---------------------------------------------------------------------------------------- vocabulary


SAMPLES = {"subject": "she", "literal": "true", "noun": "cards"}


def _sample(template: str) -> str:
    text = re.sub(r'"<([a-z_]+)>"', lambda m: f'"x-{m.group(1)}"', template)
    return re.sub(r"<([a-z_]+)>", lambda m: SAMPLES.get(m.group(1), "3"), text)


def test_every_step_template_matches_itself_and_no_other() -> None:
    keys = [p.key for p in VOCABULARY]
    assert len(keys) == len(set(keys))
    for pattern in VOCABULARY:
        sample = _sample(pattern.template)
        owners = [p.key for p in VOCABULARY if p.regex.match(sample)]
        assert owners == [pattern.key], (sample, owners)
        assert match_step(sample) is pattern


def test_vocabulary_rejects_near_misses() -> None:
    assert match_step('she GETs "/x" now') is None
    assert match_step('the response field "a" is maybe') is None
    assert match_step("the response status is two hundred") is None


# ---------------------------------------------------------------------------------------- run results


def test_run_results_absent_present_and_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    assert load_run_results(path) is None
    path.write_text(json.dumps({"Anna locks her card": "passed"}), encoding="utf-8")
    assert load_run_results(path) == {"Anna locks her card": "passed"}
    path.write_text("{not json", encoding="utf-8")
    assert load_run_results(path) is None
    path.write_text("[1, 2]", encoding="utf-8")
    assert load_run_results(path) is None


def test_run_status_shows_real_state() -> None:
    feature = parse_feature_text(FEATURE, "f.feature")
    scenario = feature.scenarios[0]
    assert sandbox_run_status(scenario, None) == "not run yet"
    assert sandbox_run_status(scenario, {}) == "not part of the latest run"
    assert sandbox_run_status(scenario, {scenario.name: "failed"}) == "**failed**"
    outside = parse_feature_text(FEATURE.replace("@US-0001\n", "@US-0001 @not-in-sandbox\n", 1), "f")
    assert "outside the sandbox" in sandbox_run_status(outside.scenarios[0], {scenario.name: "passed"})


def test_rendered_page_shows_each_story_with_its_scenarios(tmp_path: Path) -> None:
    stories = make_project(tmp_path)
    records = load_stories(stories, tmp_path)
    features, _ = load_features(stories / "features", tmp_path)
    page = render_scenarios(records, features, {"Anna locks her card": "passed"})
    assert "(acceptance-us-0001)=" in page and "(acceptance-us-0002)=" in page
    assert "````gherkin\n@US-0001\nScenario: Anna locks her card" in page
    assert "latest sandbox run: **passed**" in page
    assert "latest sandbox run: not part of the latest run" in page
    assert "No scenario specifies this story." in page  # US-0002 has none
    assert "2 scenario(s), 1 failure path(s)" in page


# ---------------------------------------------------------------------------------------- the real spec


def test_the_real_stories_pass_every_check() -> None:
    records = load_stories(DOCS_STORIES, REPO)
    features, violations = load_features(DOCS_STORIES / "features", REPO)
    violations += check(records, features, load_seed(DOCS_STORIES / "seed.yaml", REPO))
    assert violations == [], "\n".join(f"{v.location}: {v.message()}" for v in violations)


def test_the_real_stories_are_the_briefs_ids_and_every_must_story_is_covered() -> None:
    records = load_stories(DOCS_STORIES, REPO)
    stories = {r.id: r for r in records if r.kind == "story"}
    epics = {r.id for r in records if r.kind == "epic"}
    assert epics == {f"EP-{n:04d}" for n in range(1, 11)}  # EP-0010: sign-in and step-up
    assert {f"US-{n:04d}" for n in range(1, 26)} <= set(stories)
    later = {sid for sid, s in stories.items() if s.release == "later"}
    assert later == {"US-0012", "US-0020"}
    features, _ = load_features(DOCS_STORIES / "features", REPO)
    by_story = scenarios_by_story(features)
    for sid, story in stories.items():
        if story.priority == "must":
            assert any(s.is_failure for s in by_story[sid]) and any(
                not s.is_failure for s in by_story[sid]
            ), sid


def test_summary_counts_each_outcome_of_the_latest_run(tmp_path: Path) -> None:
    stories = make_project(tmp_path)
    records = load_stories(stories, tmp_path)
    features, _ = load_features(stories / "features", tmp_path)
    assert "Latest sandbox run: not run yet." in render_scenarios(records, features, None)
    page = render_scenarios(records, features, {"Anna locks her card": "skipped"})
    assert "Latest sandbox run: 0 passed, 0 failed, 1 skipped, 1 not in the run." in page
    assert "2 stories, 2 scenarios (1 failure paths); 2 run in the sandbox." in page
