"""Sphinx extension: generated spec pages and every rule check, reported with file, line, item and rule.

* A fenced block ```` ```{generated} NAME ```` in a MyST page is replaced, when the page is read, by the
  MyST text the generator ``NAME`` produces from the spec data (one source of truth). The generators are
  registered explicitly: :data:`PAGE_MODULES` lists the modules of ``futurebank.spec.pages`` and each
  module's ``GENERATORS`` maps block names to functions (see ``futurebank.spec.pages`` for adding one).
* When writing starts, once every page is read and sphinx-needs has validated each need against the
  schemas of ``needs_model``, :func:`report_checks` runs every check in one place: the needs rules, the
  story checks and the contract checks. Each finding is reported by ``futurebank.spec.report`` as
  ``file:line: WARNING: <item> breaks <rule id>: <rule text> (<detail>)``. With ``-W`` the build fails.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from sphinx.application import Sphinx
from sphinx.builders import Builder

from futurebank.spec.chat_data import load_chat
from futurebank.spec.contract import check_contract, stories_from_markdown
from futurebank.spec.exports import publish_downloads
from futurebank.spec.pages import (
    Generator,
    acceptance_summary,
    architecture,
    assistant_eval,
    bench,
    chat,
    contract,
    cost_model,
    downloads,
    gantt,
    gates,
    load_model,
    repo_root,
    rollout_flags,
    rules,
    slo,
    stories,
    sustainability,
    workshop,
)
from futurebank.spec.report import report
from futurebank.spec.rules import RULES, Finding, SpecFileError
from futurebank.spec.stories import check, load_features, load_seed, load_stories

# Every page module, in one explicit list (a new page adds its module here).
PAGE_MODULES: tuple[ModuleType, ...] = (
    acceptance_summary,
    architecture,
    assistant_eval,
    bench,
    chat,
    contract,
    cost_model,
    downloads,
    gantt,
    gates,
    load_model,
    rollout_flags,
    rules,
    slo,
    stories,
    sustainability,
    workshop,
)
GENERATED_BLOCK = re.compile(r"^```\{generated\}\s+(?P<name>[a-z0-9-]+)\s*\n```\s*$", re.MULTILINE)


def collect_generators(modules: Iterable[ModuleType]) -> dict[str, Generator]:
    """Block name -> generator over the modules' ``GENERATORS``; a name claimed twice is an error."""
    found: dict[str, Generator] = {}
    for module in modules:
        for name, func in module.GENERATORS.items():
            if name in found:
                raise ValueError(f"generated block {name!r} is registered twice (again by {module.__name__})")
            found[name] = func
    return found


GENERATORS = collect_generators(PAGE_MODULES)


def expand_generated(app: Sphinx, docname: str, source: list[str]) -> None:
    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        func = GENERATORS.get(name)
        if func is None:
            line = source[0].count("\n", 0, match.start()) + 1
            detail = f"known blocks: {', '.join(sorted(GENERATORS))}"
            path = app.env.doc2path(docname)
            report([Finding("R-54-generated-block-known", name, detail, path, line)], repo_root(app))
            return ""
        return func(app)

    source[0] = GENERATED_BLOCK.sub(replace, source[0])


# --- the checks, all in the write-started event -------------------------------------------------------------


def generated_need_locations(app: Sphinx) -> dict[str, tuple[Path, int]]:
    """Where generated needs really live: the data file and line, by need id."""
    try:
        messages = load_chat(Path(app.srcdir) / "chat")
    except (SpecFileError, OSError):
        return {}
    return {msg.id: (Path(msg.annotation_path), msg.annotation_line) for msg in messages}


def needs_findings(app: Sphinx) -> Iterator[Finding]:
    """The sphinx-needs schema violations (rules R-01 … R-13), located at the page or data file."""
    violations_file = Path(app.outdir) / "schema_violations.json"
    if not violations_file.exists():
        return
    from sphinx_needs.data import SphinxNeedsData

    needs = SphinxNeedsData(app.env).get_needs_view()
    data_locations = generated_need_locations(app)
    violations: dict[str, list[dict[str, Any]]] = json.loads(violations_file.read_text())[
        "validation_warnings"
    ]
    for need_id, entries in sorted(violations.items()):
        need = needs.get(need_id)
        location = data_locations.get(need_id)
        if location is None and need is not None:
            location = (app.env.doc2path(need["docname"] or ""), need["lineno"] or 1)
        path, line = location or (Path(app.srcdir), 1)
        for entry in entries:
            details = entry["details"]
            rule = details["schema_path"].split("[", 1)[0]
            detail = str(details.get("validation_msg", ""))
            if rule not in RULES:  # a field schema of needs_model (an enum, a type), not a numbered rule
                rule, detail = "R-56-need-field-valid", f"{details['schema_path']}: {detail}"
            yield Finding(rule, need_id, detail, path, line)


def story_findings(docs: Path, root: Path) -> list[Finding]:
    """The story checks (R-19 … R-29) on ``docs/stories``, when the spec has stories there."""
    stories_dir = docs / "stories"
    if not stories_dir.is_dir():
        return []
    features, findings = load_features(stories_dir / "features", root)
    seed_path = stories_dir / "seed.yaml"
    seed = None
    if not seed_path.is_file():
        findings.append(
            Finding("R-28-seed-consistent", "seed.yaml", "the seed contract is missing", seed_path, 1)
        )
    else:
        try:
            seed = load_seed(seed_path, root)
        except SpecFileError as exc:
            findings.append(exc.finding)
    return findings + check(load_stories(stories_dir, root), features, seed)


def report_checks(app: Sphinx, builder: Builder) -> None:
    """Run every check once all pages are read, and report each finding."""
    docs, root = Path(app.srcdir), repo_root(app)
    findings = [*needs_findings(app), *story_findings(docs, root)]
    if (docs / "api" / "openapi.yaml").exists():
        findings += check_contract(docs, stories_from_markdown(docs))
    report(findings, root)


def publish_site_downloads(app: Sphinx, exception: BaseException | None) -> None:
    """Write every export and the contracts into the site's download folder once the HTML is written.

    Runs after sphinx-needs has written ``needs.json`` (its build-finished handler has the default
    priority). A failure raises, so the build fails rather than publishing a page with missing files.
    """
    folder = str(app.config.futurebank_downloads or "")
    if exception is not None or not folder or app.builder.format != "html":
        return
    outdir = Path(app.outdir)
    publish_downloads(outdir / "needs.json", outdir / folder, Path(app.srcdir))


def setup(app: Sphinx) -> dict[str, Any]:
    # the site folder (relative to the output) that receives the exports; empty: no downloads
    app.add_config_value("futurebank_downloads", "", "html", types=[str])
    app.connect("source-read", expand_generated)
    workshop.setup_events(app)  # the workshop record on the needs, suspects, changes since a baseline
    app.connect("build-finished", publish_site_downloads, priority=700)
    # after sphinx-needs writes schema_violations.json (its own write-started handler)
    app.connect("write-started", report_checks, priority=900)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
