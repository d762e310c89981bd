"""The story checks R-19 to R-27 and R-29: story pages, feature files and steps against each other."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from futurebank.spec.rules import Finding
from futurebank.spec.stories.loading import scenarios_by_story
from futurebank.spec.stories.model import (
    CRITERIA_HEADING,
    EPIC_ID,
    ID_LIKE_TAG,
    KNOWN_PLAIN_TAGS,
    NOT_IN_SANDBOX_TAG,
    PLACEHOLDER,
    PRIORITIES,
    RELEASES,
    STORY_ID,
    Feature,
    Scenario,
    Seed,
    StoryRecord,
    written_criteria,
)
from futurebank.spec.stories.seed_checks import check_seed
from futurebank.spec.stories.vocabulary import FIXED_SAVES, SAVING_STEPS, match_step


def check(
    records: Sequence[StoryRecord],
    features: Sequence[Feature],
    seed: Seed | None,
) -> list[Finding]:
    """Every rule violation between story pages, feature files and the seed contract."""
    violations: list[Finding] = []
    violations += _check_records(records)
    stories = {r.id: r for r in records if r.kind == "story"}
    epics = {r.id: r for r in records if r.kind == "epic"}
    violations += _check_tags(features, stories, epics)
    violations += _check_coverage(stories, features)
    violations += _check_written_criteria(stories, features)
    violations += _check_names(features)
    aliases = seed.aliases() if seed else {}
    violations += _check_steps(features, aliases)
    if seed is not None:
        violations += check_seed(seed)
    return violations


def _check_records(records: Sequence[StoryRecord]) -> list[Finding]:
    out: list[Finding] = []
    seen: dict[str, StoryRecord] = {}
    epic_ids = {r.id for r in records if r.kind == "epic"}
    for r in records:
        well_formed = (STORY_ID if r.kind == "story" else EPIC_ID).match(r.id)
        if not well_formed:
            out.append(
                Finding("R-24-story-id-well-formed", r.id or r.title, f"{r.kind} id {r.id!r}", r.path, r.line)
            )
        elif r.id in seen:
            first = seen[r.id]
            out.append(
                Finding(
                    "R-24-story-id-well-formed",
                    r.id,
                    f"also defined at {first.path}:{first.line}",
                    r.path,
                    r.line,
                )
            )
        else:
            seen[r.id] = r
        if r.kind != "story" or not well_formed:
            continue
        missing = [
            o
            for o in ("priority", "release", "traces", "scoped_by", "refines", "actor")
            if not r.options.get(o)
        ]
        problems = [f"missing :{o}:" for o in missing]
        if r.priority and r.priority not in PRIORITIES:
            problems.append(f"priority {r.priority!r} is not one of {', '.join(PRIORITIES)}")
        if r.release and r.release not in RELEASES:
            problems.append(f"release {r.release!r} is not one of {', '.join(RELEASES)}")
        problems += [f"refines {e!r}, which is not an epic" for e in r.links("refines") if e not in epic_ids]
        if problems:
            out.append(Finding("R-19-story-complete", r.id, "; ".join(problems), r.path, r.line))
    return out


def _check_tags(
    features: Sequence[Feature], stories: Mapping[str, StoryRecord], epics: Mapping[str, StoryRecord]
) -> list[Finding]:
    out: list[Finding] = []
    for feature in features:
        for tag in feature.tags:
            if ID_LIKE_TAG.match(tag) and tag not in epics and tag not in stories:
                out.append(
                    Finding(
                        "R-22-scenario-tag-names-story",
                        tag,
                        f"feature {feature.name!r} names an unknown or malformed id",
                        feature.path,
                        feature.line,
                    )
                )
        for sc in feature.scenarios:
            line = sc.tag_lines[0] if sc.tag_lines else sc.line
            for tag in sc.tags:
                if ID_LIKE_TAG.match(tag) and tag not in stories and tag not in epics:
                    out.append(
                        Finding(
                            "R-22-scenario-tag-names-story",
                            tag,
                            f"scenario {sc.name!r} names an unknown or malformed id",
                            sc.path,
                            line,
                        )
                    )
                elif not ID_LIKE_TAG.match(tag) and tag not in KNOWN_PLAIN_TAGS:
                    out.append(
                        Finding(
                            "R-22-scenario-tag-names-story",
                            f"@{tag}",
                            f"scenario {sc.name!r}: unknown tag; known tags are story ids, "
                            "@failure and @not-in-sandbox",
                            sc.path,
                            line,
                        )
                    )
            if not sc.story_ids:
                out.append(
                    Finding(
                        "R-23-scenario-has-story-tag",
                        sc.name or "(unnamed scenario)",
                        "no @US-NNNN tag",
                        sc.path,
                        sc.line,
                    )
                )
    return out


def _check_written_criteria(stories: Mapping[str, StoryRecord], features: Sequence[Feature]) -> list[Finding]:
    """R-70: a story that no scenario specifies yet carries its acceptance criteria in words."""
    by_story = scenarios_by_story(features)
    return [
        Finding(
            "R-70-story-has-criteria",
            story_id,
            f"no scenario and no {CRITERIA_HEADING} list in the story",
            story.path,
            story.line,
        )
        for story_id, story in sorted(stories.items())
        if not by_story.get(story_id) and not written_criteria(story.body)
    ]


def _check_coverage(stories: Mapping[str, StoryRecord], features: Sequence[Feature]) -> list[Finding]:
    out: list[Finding] = []
    by_story = scenarios_by_story(features)
    feature_of_epic = {e: f for f in features for e in f.epic_ids}
    for story_id, story in sorted(stories.items()):
        if story.priority != "must":
            continue
        scenarios = by_story.get(story_id, [])
        epic = next(iter(story.links("refines")), "")
        home = feature_of_epic.get(epic)
        # Point at the feature file that should hold the scenarios, else at the story itself.
        path, line = (home.path, home.line) if home else (story.path, story.line)
        happy = [s for s in scenarios if not s.is_failure]
        failing = [s for s in scenarios if s.is_failure]
        if not happy:
            out.append(
                Finding(
                    "R-20-must-story-has-scenarios",
                    story_id,
                    f"{len(scenarios)} scenario(s), none of them a happy path",
                    path,
                    line,
                )
            )
        if not failing:
            out.append(
                Finding(
                    "R-21-must-story-has-failure-path",
                    story_id,
                    f"{len(scenarios)} scenario(s), none tagged @failure",
                    path,
                    line,
                )
            )
    return out


def _check_names(features: Sequence[Feature]) -> list[Finding]:
    out: list[Finding] = []
    seen: dict[str, Scenario] = {}
    for feature in features:
        for sc in feature.scenarios:
            if sc.name in seen:
                first = seen[sc.name]
                out.append(
                    Finding(
                        "R-25-scenario-name-unique",
                        sc.name,
                        f"also at {first.path}:{first.line}",
                        sc.path,
                        sc.line,
                    )
                )
            else:
                seen[sc.name] = sc
    return out


def _check_steps(features: Sequence[Feature], aliases: Mapping[str, str]) -> list[Finding]:
    out: list[Finding] = []
    for feature in features:
        for sc in feature.scenarios:
            saved: set[str] = set()
            for step in (*sc.background, *sc.steps):
                pattern = match_step(step.text)
                if pattern is None:
                    out.append(
                        Finding("R-26-step-in-vocabulary", sc.name, f"step {step.text!r}", sc.path, step.line)
                    )
                else:
                    if pattern.docstring != (step.docstring is not None):
                        need = "needs" if pattern.docstring else "takes no"
                        out.append(
                            Finding(
                                "R-26-step-in-vocabulary",
                                sc.name,
                                f"step {step.text!r} {need} a docstring",
                                sc.path,
                                step.line,
                            )
                        )
                    if not pattern.sandbox and sc.in_sandbox:
                        out.append(
                            Finding(
                                "R-26-step-in-vocabulary",
                                sc.name,
                                f"step {step.text!r} cannot run in the sandbox: tag the scenario "
                                f"@{NOT_IN_SANDBOX_TAG}",
                                sc.path,
                                step.line,
                            )
                        )
                for name in PLACEHOLDER.findall(step.text + "\n" + (step.docstring or "")):
                    if name not in aliases and name not in saved:
                        out.append(
                            Finding(
                                "R-27-reference-defined",
                                sc.name,
                                f"{{{name}}} is neither a seed alias nor saved earlier",
                                sc.path,
                                step.line,
                            )
                        )
                if pattern is not None:
                    group = SAVING_STEPS.get(pattern.key)
                    if group:
                        found = pattern.regex.match(step.text)
                        if found:
                            saved.add(found[group])
                    if pattern.key in FIXED_SAVES:
                        saved.add(FIXED_SAVES[pattern.key])
    return out
