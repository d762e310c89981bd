"""Generator ``spec-rules``: every rule the build checks, from the one registry."""

from __future__ import annotations

from sphinx.application import Sphinx

from futurebank.spec.pages import Generator, md_escape, md_table
from futurebank.spec.rules import RULES

# What checks each family, in words for the page.
CHECKED_BY = {
    "needs": "sphinx-needs schemas on the spec items",
    "chat": "the chat data files",
    "stories": "story pages, feature files and the seed",
    "contract": "OpenAPI, AsyncAPI and entity schemas",
    "data": "any YAML data file",
    "c4": "the C4 architecture model",
    "delivery": "the roadmap, cost model and load model data",
    "operations": "the SLO data behind the Prometheus rules and the dashboard",
    "workshop": "the workshop record, roles, questions and fingerprints",
    "build": "the site build",
}


def render_rules() -> str:
    rows = (
        [f"`{rule.id}`", CHECKED_BY[rule.family], md_escape(rule.text)]
        for rule in sorted(RULES.values(), key=lambda r: r.id)
    )
    return md_table(["Rule", "Checked on", "What it requires"], rows)


def spec_rules(app: Sphinx) -> str:
    return render_rules()


GENERATORS: dict[str, Generator] = {"spec-rules": spec_rules}
