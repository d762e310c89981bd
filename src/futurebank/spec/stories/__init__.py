"""User stories and their Gherkin acceptance scenarios: parsing and the checks that join them.

Sources (all under the Sphinx source dir, ``docs/``):

* ``stories/*.md``: ``epic`` and ``story`` needs written as MyST directives, read straight from the
  files (not from sphinx-needs), so the checks and the tests need no finished build.
* ``stories/features/*.feature``: one Gherkin feature per epic. A scenario names the stories it
  specifies with tags (``@US-0009``); ``@failure`` marks a failure path; ``@not-in-sandbox`` marks a
  scenario the reference sandbox cannot run (it answers 501 for that operation, or the scenario
  needs operations tooling).
* ``stories/seed.yaml``: the demo data every scenario relies on (the sandbox's seed contract).

``check`` returns every broken rule as a :class:`~futurebank.spec.rules.Finding` with its file and
line; the Sphinx extension reports them in the same build event as the contract checks, so
``sphinx-build -W`` fails. The step vocabulary is defined once (``vocabulary``): the checker enforces
it and the steps page is generated from it.

Modules: ``model`` (parsed sources), ``vocabulary`` (steps), ``loading`` (the one reader of story
directives, features, seed, run results), ``checks`` (R-19 to R-27, R-29), ``seed_checks`` (R-28).
"""

from futurebank.spec.stories.checks import check
from futurebank.spec.stories.loading import (
    FeatureParseError,
    load_features,
    load_run_results,
    load_seed,
    load_stories,
    parse_feature_text,
    scenarios_by_story,
)
from futurebank.spec.stories.model import (
    CRITERIA_HEADING,
    EPIC_ID,
    FAILURE_TAG,
    NOT_IN_SANDBOX_TAG,
    PLACEHOLDER,
    RULES,
    STORY_ID,
    Feature,
    Scenario,
    Seed,
    Step,
    StoryRecord,
    split_written_criteria,
    written_criteria,
)
from futurebank.spec.stories.seed_checks import check_seed
from futurebank.spec.stories.vocabulary import VOCABULARY, VOCABULARY_GROUPS, StepPattern, match_step

__all__ = [
    "CRITERIA_HEADING",
    "EPIC_ID",
    "FAILURE_TAG",
    "NOT_IN_SANDBOX_TAG",
    "PLACEHOLDER",
    "RULES",
    "STORY_ID",
    "VOCABULARY",
    "VOCABULARY_GROUPS",
    "Feature",
    "FeatureParseError",
    "Scenario",
    "Seed",
    "Step",
    "StepPattern",
    "StoryRecord",
    "check",
    "check_seed",
    "load_features",
    "load_run_results",
    "load_seed",
    "load_stories",
    "match_step",
    "parse_feature_text",
    "scenarios_by_story",
    "split_written_criteria",
    "written_criteria",
]
