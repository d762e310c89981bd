"""pytest plugin for the acceptance tier: which scenarios can run, and what the latest run found.

The acceptance tests (``tests/acceptance``) bind every feature in ``docs/stories/features`` with
pytest-bdd and run it against an implementation of the contract. This plugin

* skips, at collection, a scenario whose steps reach an operation the implementation answers with
  ``501 NOT_IMPLEMENTED`` (the caller passes that list in: the spec never imports the sandbox), or
  that is tagged ``@not-in-sandbox`` because it needs operations tooling; the reason names the
  operations or the steps, so nothing is skipped silently;
* records each scenario's outcome and, at session end, writes two files under ``build/acceptance``:

  - ``results.json``: scenario name -> ``"passed"`` / ``"failed"`` / ``"skipped"``. This is the format
    ``docs/stories/steps.md`` documents and ``futurebank.spec.stories.load_run_results`` reads for the
    site (scenario names are unique across features, rule R-25).
  - ``report.json``: ``{"generated_at", "sandbox", "scenarios": {"<feature file>::<scenario>":
    {"story", "stories", "outcome", "failure_path", "reason"}}}`` for people and CI.

Both are written atomically (a reader never sees half a file).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_bdd.scenario import scenario_wrapper_template_registry

from futurebank.spec.stories import FAILURE_TAG, NOT_IN_SANDBOX_TAG, STORY_ID, match_step

RESULTS_NAME = "results.json"
REPORT_NAME = "report.json"
OUTCOMES = ("passed", "failed", "skipped")

# Vocabulary steps that call one fixed operation without naming its path in the step text.
FIXED_STEP_CALLS: dict[str, tuple[str, str]] = {
    "start-conversation": ("POST", "/assistant/conversations"),
    "tell-assistant": ("POST", "/assistant/conversations/{conversation}/messages"),
    "confirm-proposal": ("POST", "/assistant/conversations/{conversation}/messages"),
    "ask-human": ("POST", "/assistant/conversations/{conversation}/handoff"),
}
MEANING_CALL = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE)\b[^/`]*`?(/[A-Za-z0-9_{}/-]+)")
# Request steps whose text names the path: vocabulary key -> HTTP method.
PATH_STEP_METHODS: dict[str, str] = {
    "get": "GET",
    "get-header": "GET",
    "post": "POST",
    "post-idempotent": "POST",
    "post-media": "POST",
    "patch": "PATCH",
    "delete": "DELETE",
}


@dataclass(frozen=True)
class Operation:
    """One operation of the contract: ``(operationId, method, path template under the server URL)``."""

    operation_id: str
    method: str
    path: str

    def matches(self, method: str, path: str) -> bool:
        if method.upper() != self.method.upper():
            return False
        template = re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(self.path))
        return re.fullmatch(template, path.split("?", 1)[0].rstrip("/") or "/") is not None


@dataclass(frozen=True)
class ScenarioInfo:
    feature_file: str
    name: str
    tags: frozenset[str]
    steps: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.feature_file}::{self.name}"

    @property
    def stories(self) -> list[str]:
        return sorted(t for t in self.tags if STORY_ID.match(t))

    @property
    def failure_path(self) -> bool:
        return FAILURE_TAG in self.tags


def step_call(text: str) -> tuple[str, str] | None:
    """The (method, path) a vocabulary step sends, when the step is a request to the API."""
    pattern = match_step(text)
    if pattern is None:
        return None
    if pattern.key in FIXED_STEP_CALLS:
        return FIXED_STEP_CALLS[pattern.key]
    method = PATH_STEP_METHODS.get(pattern.key)
    found = pattern.regex.match(text)
    if method is not None and found is not None:
        return method, found["path"]
    # A step added to the vocabulary later: its meaning usually names the call ("POST /assistant/…").
    named = MEANING_CALL.search(pattern.meaning)
    return (named[1], named[2]) if named else None


def not_implemented_in(steps: Iterable[str], missing: Sequence[Operation]) -> list[str]:
    """operationIds, in step order without repeats, that the steps call and the implementation lacks."""
    found: list[str] = []
    for text in steps:
        call = step_call(text)
        if call is None:
            continue
        for op in missing:
            if op.matches(*call) and op.operation_id not in found:
                found.append(op.operation_id)
    return found


def tooling_steps(steps: Iterable[str]) -> list[str]:
    """Steps the vocabulary marks as not runnable in the sandbox that do not call a 501 operation."""
    out: list[str] = []
    for text in steps:
        pattern = match_step(text)
        if pattern is not None and not pattern.sandbox and step_call(text) is None:
            out.append(text)
    return out


def skip_reason(info: ScenarioInfo, missing: Sequence[Operation]) -> str | None:
    """Why the scenario cannot run against this implementation, or None when it can."""
    operations = not_implemented_in(info.steps, missing)
    if operations:
        return "operation answers 501 in the sandbox: " + ", ".join(operations)
    if NOT_IN_SANDBOX_TAG in info.tags:
        tools = tooling_steps(info.steps)
        what = "; ".join(f"'{t}'" for t in tools) if tools else "steps outside the sandbox"
        return f"@{NOT_IN_SANDBOX_TAG}: needs operations tooling the sandbox does not have: {what}"
    return None


def scenario_of(item: pytest.Item) -> ScenarioInfo | None:
    """The Gherkin scenario a pytest-bdd test item runs (None for any other test)."""
    function = getattr(item, "obj", None)
    if function is None:
        return None
    try:
        template = scenario_wrapper_template_registry.get(function)
    except TypeError:  # not weak-referenceable: not a scenario wrapper
        return None
    if template is None:
        return None
    feature = template.feature
    return ScenarioInfo(
        feature_file=os.path.basename(feature.filename),
        name=template.name.strip(),
        tags=frozenset(template.tags | feature.tags | (template.rule.tags if template.rule else set())),
        steps=tuple(step.name for step in template.steps),
    )


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


@dataclass
class _Record:
    info: ScenarioInfo
    outcome: str | None = None  # None until pytest reports on the scenario
    reason: str = ""


# eq=False keeps identity hashing: pluggy puts registered plugins in sets (conftest-scoped hook calls).
@dataclass(eq=False)
class AcceptanceResults:
    """The plugin object; register it with ``config.pluginmanager.register``."""

    out_dir: Path
    sandbox: str
    not_implemented: Sequence[Operation] = ()
    run_everything: bool = False  # also run the scenarios that would be skipped (to see them fail)
    records: dict[str, _Record] = field(default_factory=dict)
    by_nodeid: dict[str, str] = field(default_factory=dict)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            info = scenario_of(item)
            if info is None:
                continue
            self.by_nodeid[item.nodeid] = info.key
            self.records[info.key] = _Record(info)
            reason = skip_reason(info, self.not_implemented)
            if reason is not None and not self.run_everything:
                item.add_marker(pytest.mark.skip(reason=reason))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        key = self.by_nodeid.get(report.nodeid)
        if key is None:
            return
        record = self.records[key]
        if report.failed:
            # A failure in any phase fails the scenario; keep the first message, it is the cause.
            if record.outcome != "failed":
                record.reason = _first_line(report.longreprtext)
            record.outcome = "failed"
        elif report.skipped and report.when in ("setup", "call"):
            record.outcome = "skipped"
            record.reason = _skip_text(report)
        elif report.passed and report.when == "call" and record.outcome != "failed":
            record.outcome = "passed"

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        # Only scenarios selected for this run and reported on by pytest are in the files.
        ran = {k: r for k, r in self.records.items() if r.outcome is not None}
        if not ran:
            return
        results = {r.info.name: str(r.outcome) for r in ran.values()}
        report = {
            "generated_at": datetime.now(UTC).astimezone().isoformat(timespec="seconds"),
            "sandbox": self.sandbox,
            "summary": {o: sum(1 for r in ran.values() if r.outcome == o) for o in OUTCOMES},
            "scenarios": {
                key: {
                    "story": (r.info.stories or [""])[0],
                    "stories": r.info.stories,
                    "outcome": r.outcome,
                    "failure_path": r.info.failure_path,
                    **({"reason": r.reason} if r.reason and r.outcome != "passed" else {}),
                }
                for key, r in sorted(ran.items())
            },
        }
        _write_json(self.out_dir / RESULTS_NAME, dict(sorted(results.items())))
        _write_json(self.out_dir / REPORT_NAME, report)


def _skip_text(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return _first_line(report.longreprtext)


def _first_line(text: str) -> str:
    """The assertion message (pytest's ``E`` lines), or the last line of the traceback."""
    lines = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    if lines:
        return " ".join(lines)[:500]
    rest = [line.strip() for line in text.splitlines() if line.strip()]
    return (rest[-1] if rest else "")[:500]
