"""The parsed story sources: stories and epics as written, Gherkin features and scenarios, the seed."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from futurebank.spec.rules import rule_texts

STORY_ID = re.compile(r"^US-[0-9]{4}$")
EPIC_ID = re.compile(r"^EP-[0-9]{4}$")
# A tag that looks like it wants to name a story or epic (so "@US-9" is caught as malformed).
ID_LIKE_TAG = re.compile(r"^(US|EP)-", re.IGNORECASE)
FAILURE_TAG = "failure"
NOT_IN_SANDBOX_TAG = "not-in-sandbox"
KNOWN_PLAIN_TAGS = {FAILURE_TAG, NOT_IN_SANDBOX_TAG}
PRIORITIES = ("must", "should", "could", "wont")
RELEASES = ("mvp", "later")
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9-]*)\}")
MONEY_AMOUNT = re.compile(r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$")


RULES = rule_texts("stories")


@dataclass(frozen=True)
class Step:
    keyword: str
    text: str
    line: int
    docstring: str | None = None
    media_type: str | None = None
    table: tuple[tuple[str, ...], ...] = ()

    def gherkin(self, indent: str = "  ") -> list[str]:
        lines = [f"{indent}{self.keyword.strip()} {self.text}"]
        for row in self.table:
            lines.append(f"{indent}  | " + " | ".join(row) + " |")
        if self.docstring is not None:
            lines.append(f'{indent}  """{self.media_type or ""}')
            lines.extend(f"{indent}  {line}" if line else "" for line in self.docstring.splitlines())
            lines.append(f'{indent}  """')
        return lines


@dataclass(frozen=True)
class Scenario:
    name: str
    keyword: str
    line: int
    tags: tuple[str, ...]
    tag_lines: tuple[int, ...]
    steps: tuple[Step, ...]
    background: tuple[Step, ...]
    path: str
    examples: tuple[tuple[tuple[str, ...], ...], ...] = ()

    @property
    def story_ids(self) -> tuple[str, ...]:
        return tuple(t for t in self.tags if STORY_ID.match(t))

    @property
    def is_failure(self) -> bool:
        return FAILURE_TAG in self.tags

    @property
    def in_sandbox(self) -> bool:
        return NOT_IN_SANDBOX_TAG not in self.tags

    def gherkin(self, with_background: bool = False) -> str:
        """The scenario as Gherkin text (rebuilt from the parse, so it is stable and comment free)."""
        lines: list[str] = []
        if with_background and self.background:
            lines.append("Background:")
            lines.extend(line for step in self.background for line in step.gherkin())
            lines.append("")
        if self.tags:
            lines.append(" ".join(f"@{t}" for t in self.tags))
        lines.append(f"{self.keyword}: {self.name}")
        lines.extend(line for step in self.steps for line in step.gherkin())
        for table in self.examples:
            lines.append("  Examples:")
            lines.extend("    | " + " | ".join(row) + " |" for row in table)
        return "\n".join(lines)


@dataclass(frozen=True)
class Feature:
    path: str
    name: str
    line: int
    tags: tuple[str, ...]
    description: str
    background: tuple[Step, ...]
    scenarios: tuple[Scenario, ...]

    @property
    def epic_ids(self) -> tuple[str, ...]:
        return tuple(t for t in self.tags if EPIC_ID.match(t))


@dataclass(frozen=True)
class StoryRecord:
    """A ``story`` or ``epic`` directive as written in a page (not as resolved by sphinx-needs)."""

    kind: str
    id: str
    title: str
    path: str
    line: int
    options: Mapping[str, str] = field(default_factory=dict)
    body: str = ""  # the directive's text after its options

    def links(self, option: str) -> tuple[str, ...]:
        return tuple(v.strip() for v in self.options.get(option, "").split(",") if v.strip())

    @property
    def priority(self) -> str:
        return self.options.get("priority", "")

    @property
    def release(self) -> str:
        return self.options.get("release", "")


@dataclass(frozen=True)
class Seed:
    path: str
    data: Mapping[str, Any]
    lines: Mapping[str, int] = field(default_factory=dict)  # JSON pointer -> line (yaml_lines)

    def aliases(self) -> dict[str, str]:
        """Alias -> id, for every seeded record ({anna-current} -> its account_id)."""
        out: dict[str, str] = {}
        for collection, id_field in SEED_ID_FIELDS.items():
            for record in self.records(collection):
                alias, value = record.get("alias"), record.get(id_field)
                if isinstance(alias, str) and value is not None:
                    out[alias] = str(value)
        return out

    def records(self, collection: str) -> list[Mapping[str, Any]]:
        value = self.data.get(collection) or []
        return [r for r in value if isinstance(r, Mapping)] if isinstance(value, list) else []

    def line_of(self, alias: str) -> int:
        """The line of the record with this alias (its ``alias:`` key), else 1."""
        for collection in SEED_ID_FIELDS:
            raw = self.data.get(collection)
            for index, record in enumerate(raw if isinstance(raw, list) else []):
                if isinstance(record, Mapping) and record.get("alias") == alias:
                    return self.lines.get(f"/{collection}/{index}/alias", 1)
        return 1


SEED_ID_FIELDS: dict[str, str] = {
    "clients": "client_id",
    "customers": "customer_id",
    "accounts": "account_id",
    "transactions": "transaction_id",
    "cards": "card_id",
    "consents": "consent_id",
    "payments": "payment_id",
}


# A story whose scenarios are not written yet (a later story) lists its criteria in words under this
# paragraph heading; the Jira export carries them as the story's Acceptance Criteria.
CRITERIA_HEADING = "**Acceptance criteria.**"


def split_written_criteria(markdown: str) -> tuple[str, str]:
    """(body, criteria): a story body without its ``**Acceptance criteria.**`` paragraph and list, and
    that list as MyST text ("" when the body has none)."""
    start = markdown.find(CRITERIA_HEADING)
    if start < 0:
        return markdown, ""
    rest = markdown[start + len(CRITERIA_HEADING) :]
    block = re.split(r"\n\s*\n", rest.lstrip("\n"), maxsplit=1)
    criteria = block[0].strip()
    after = block[1] if len(block) > 1 else ""
    return (markdown[:start].rstrip() + ("\n\n" + after if after else "")).strip(), criteria


def written_criteria(markdown: str) -> list[str]:
    """The list items of a body's written acceptance criteria (wrapped lines joined)."""
    items: list[str] = []
    for line in split_written_criteria(markdown)[1].splitlines():
        stripped = line.strip()
        if stripped.startswith(("- ", "* ")):
            items.append(stripped[2:])
        elif items and stripped:
            items[-1] = f"{items[-1]} {stripped}"
    return items
