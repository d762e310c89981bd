"""Reading the story sources: the one reader of story and epic directives, features, the seed, run results."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, cast

from gherkin.errors import CompositeParserException, ParserException
from gherkin.parser import Parser
from gherkin.token_scanner import TokenScanner

from futurebank.spec.rules import Finding
from futurebank.spec.stories.model import Feature, Scenario, Seed, Step, StoryRecord
from futurebank.spec.yaml_lines import load_located


class FeatureParseError(Exception):
    def __init__(self, path: str, line: int, detail: str) -> None:
        super().__init__(f"{path}:{line}: {detail}")
        self.path, self.line, self.detail = path, line, detail


def _steps(raw: Iterable[Mapping[str, Any]]) -> tuple[Step, ...]:
    out = []
    for step in raw:
        doc = step.get("docString")
        table = step.get("dataTable")
        rows = tuple(tuple(c["value"] for c in row["cells"]) for row in table["rows"]) if table else ()
        out.append(
            Step(
                keyword=str(step["keyword"]),
                text=str(step["text"]),
                line=int(step["location"]["line"]),
                docstring=str(doc["content"]) if doc else None,
                media_type=str(doc.get("mediaType") or "") or None if doc else None,
                table=rows,
            )
        )
    return tuple(out)


def _tag_names(raw: Iterable[Mapping[str, Any]]) -> tuple[str, ...]:
    return tuple(str(t["name"]).lstrip("@") for t in raw)


def parse_feature_text(text: str, path: str) -> Feature:
    """Parse one feature with the official Gherkin parser (the one pytest-bdd uses)."""
    try:
        document = cast(Mapping[str, Any], Parser().parse(TokenScanner(text)))
    except CompositeParserException as exc:
        first = exc.errors[0]
        raise FeatureParseError(path, int(first.location["line"]), str(first)) from exc
    except ParserException as exc:
        raise FeatureParseError(path, int(exc.location["line"]), str(exc)) from exc
    feature = document.get("feature")
    if not feature:
        raise FeatureParseError(path, 1, "the file holds no Feature")
    background: tuple[Step, ...] = ()
    scenarios: list[Scenario] = []

    def visit(
        children: Iterable[Mapping[str, Any]], inherited: tuple[str, ...], bg: tuple[Step, ...], top: bool
    ) -> None:
        nonlocal background
        local_bg = bg
        for child in children:
            if "background" in child:
                local_bg = bg + _steps(child["background"]["steps"])
                if top:
                    background = local_bg
            elif "rule" in child:
                rule = child["rule"]
                visit(rule["children"], inherited + _tag_names(rule["tags"]), local_bg, False)
            elif "scenario" in child:
                sc = child["scenario"]
                tags = inherited + _tag_names(sc["tags"])
                examples = tuple(
                    tuple(
                        tuple(c["value"] for c in row["cells"])
                        for row in [ex["tableHeader"], *ex["tableBody"]]
                    )
                    for ex in sc.get("examples", [])
                    if ex.get("tableHeader")
                )
                scenarios.append(
                    Scenario(
                        name=str(sc["name"]).strip(),
                        keyword=str(sc["keyword"]),
                        line=int(sc["location"]["line"]),
                        tags=tags,
                        tag_lines=tuple(int(t["location"]["line"]) for t in sc["tags"]),
                        steps=_steps(sc["steps"]),
                        background=local_bg,
                        path=path,
                        examples=examples,
                    )
                )

    # Feature tags (the epic) are not inherited by scenarios for the story checks: they name the epic.
    visit(feature["children"], (), (), True)
    return Feature(
        path=path,
        name=str(feature["name"]).strip(),
        line=int(feature["location"]["line"]),
        tags=_tag_names(feature["tags"]),
        description=str(feature.get("description") or "").strip(),
        background=background,
        scenarios=tuple(scenarios),
    )


def relative_path(path: Path, root: Path | None) -> str:
    if root is None:
        return str(path)
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def load_features(features_dir: Path, root: Path | None = None) -> tuple[list[Feature], list[Finding]]:
    """Every ``*.feature`` file, sorted by name; parse errors come back as R-29 violations."""
    features: list[Feature] = []
    violations: list[Finding] = []
    for path in sorted(features_dir.glob("*.feature")):
        rel = relative_path(path, root)
        try:
            features.append(parse_feature_text(path.read_text(encoding="utf-8"), rel))
        except FeatureParseError as exc:
            violations.append(Finding("R-29-feature-parses", path.name, exc.detail, rel, exc.line))
    return features, violations


_DIRECTIVE_OPEN = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<kind>story|epic)\}\s*(?P<title>.*?)\s*$")
_OPTION = re.compile(r"^:(?P<key>[a-z_]+):\s*(?P<value>.*?)\s*$")


def load_stories(stories_dir: Path, root: Path | None = None) -> list[StoryRecord]:
    """``story`` and ``epic`` directives in the MyST pages under ``stories_dir``, with options and lines.

    The one reader of story directives: the story checks and the contract checks both use it. It reads
    the files, not sphinx-needs, so the checks need no finished read phase and tests need no build.
    """
    records: list[StoryRecord] = []
    for path in sorted(stories_dir.rglob("*.md")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            opened = _DIRECTIVE_OPEN.match(line)
            if not opened:
                continue
            options: dict[str, str] = {}
            id_line = index + 1
            body_start = len(lines)
            for offset, option_line in enumerate(lines[index + 1 :], start=index + 1):
                option = _OPTION.match(option_line)
                if not option:
                    body_start = offset
                    break
                options[option["key"]] = option["value"]
                if option["key"] == "id":
                    id_line = offset + 1
            body: list[str] = []
            for body_line in lines[body_start:]:
                if body_line.strip() == opened["fence"]:
                    break
                body.append(body_line)
            records.append(
                StoryRecord(
                    kind=opened["kind"],
                    id=options.get("id", ""),
                    title=opened["title"],
                    path=relative_path(path, root),
                    line=id_line,
                    options=options,
                    body="\n".join(body).strip(),
                )
            )
    return records


def load_seed(path: Path, root: Path | None = None) -> Seed:
    """The seed contract; a YAML syntax error raises SpecFileError (R-44-yaml-syntax)."""
    located = load_located(path)
    if not isinstance(located.data, Mapping):
        return Seed(path=relative_path(path, root), data={})
    return Seed(path=relative_path(path, root), data=located.data, lines=located.lines)


def load_run_results(path: Path) -> dict[str, str] | None:
    """The latest sandbox run: scenario name -> "passed"/"failed". None when there has been no run."""
    if not path.is_file():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(raw, dict):
        return None
    return {str(k): str(v) for k, v in raw.items()}


def scenarios_by_story(features: Iterable[Feature]) -> dict[str, list[Scenario]]:
    out: dict[str, list[Scenario]] = {}
    for feature in features:
        for scenario in feature.scenarios:
            for story_id in scenario.story_ids:
                out.setdefault(story_id, []).append(scenario)
    return out
