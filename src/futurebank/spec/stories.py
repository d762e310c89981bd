"""User stories and their Gherkin acceptance scenarios: parsing and the checks that join them.

Sources (all under the Sphinx source dir, ``docs/``):

* ``stories/*.md``: ``epic`` and ``story`` needs written as MyST directives. They are read here
  straight from the files, not from sphinx-needs, because the check runs while pages are still
  being read and the story pages may not have been read yet.
* ``stories/features/*.feature``: one Gherkin feature per epic. A scenario names the stories it
  specifies with tags (``@US-0009``); ``@failure`` marks a failure path; ``@not-in-sandbox`` marks a
  scenario the reference sandbox cannot run (it answers 501 for that operation, or the scenario
  needs operations tooling).
* ``stories/seed.yaml``: the demo data every scenario relies on (the sandbox's seed contract).

``check`` returns every rule violation with its file and line; the Sphinx page generator reports
them as warnings, so ``sphinx-build -W`` fails. The step vocabulary is defined once here: the
checker enforces it and the steps page is generated from it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, cast

import yaml
from gherkin.errors import CompositeParserException, ParserException
from gherkin.parser import Parser
from gherkin.token_scanner import TokenScanner

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

# Rule ids and what each one says (the message after "breaks <rule>:").
RULES: dict[str, str] = {
    "R-20-must-story-has-scenarios": "a must story has at least one happy-path scenario",
    "R-21-must-story-has-failure-path": "a must story has at least one scenario tagged @failure",
    "R-22-scenario-tag-names-story": "a scenario's @US-/@EP- tag names a story or epic that exists",
    "R-23-scenario-has-story-tag": "every scenario is tagged with the story id it specifies",
    "R-24-story-id-well-formed": "a story or epic id is well formed (US-NNNN, EP-NNNN) and unique",
    "R-25-scenario-name-unique": "scenario names are unique across all feature files",
    "R-26-step-in-vocabulary": "every step uses the fixed step vocabulary of docs/stories/steps.md",
    "R-27-reference-defined": "a {name} reference names a seed alias or a value saved earlier on",
    "R-28-seed-consistent": "the seed contract is consistent (unique ids, known references, balances add up)",
    "R-29-feature-parses": "a feature file is valid Gherkin",
    "R-19-story-complete": "a story states priority, release, traces, scoped_by, refines (an epic) and actor",
}


# --------------------------------------------------------------------------------------------
# Data model


@dataclass(frozen=True)
class Violation:
    rule: str
    item: str
    detail: str
    path: str
    line: int

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def message(self) -> str:
        return f"{self.item} breaks {self.rule}: {RULES[self.rule]} ({self.detail})"


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
    text: str

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
        match = re.search(rf"^\s*-?\s*alias:\s*{re.escape(alias)}\s*$", self.text, re.MULTILINE)
        return self.text.count("\n", 0, match.start()) + 1 if match else 1


SEED_ID_FIELDS: dict[str, str] = {
    "clients": "client_id",
    "customers": "customer_id",
    "accounts": "account_id",
    "transactions": "transaction_id",
    "cards": "card_id",
    "consents": "consent_id",
    "payments": "payment_id",
}


# --------------------------------------------------------------------------------------------
# The step vocabulary (one source: the checker enforces it, the steps page shows it)


@dataclass(frozen=True)
class StepPattern:
    key: str
    template: str
    meaning: str
    docstring: bool = False
    sandbox: bool = True  # False: only scenarios tagged @not-in-sandbox may use it
    regex: re.Pattern[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(_template_regex(self.template)))


# Parameter name -> what it matches when written without quotes.
_BARE_PARAMS = {
    "subject": r"she|he|it|they",
    "literal": r"true|false|null|-?[0-9]+",
    "noun": r"[a-z][a-z -]*?",
}


def _template_regex(template: str) -> str:
    out, pos = [], 0
    for match in re.finditer(r'"<([a-z_]+)>"|<([a-z_]+)>', template):
        out.append(re.escape(template[pos : match.start()]))
        quoted, bare = match.group(1), match.group(2)
        if quoted:
            out.append(f'"(?P<{quoted}>[^"]*)"')
        else:
            out.append(f"(?P<{bare}>{_BARE_PARAMS.get(bare, '[0-9]+')})")
        pos = match.end()
    out.append(re.escape(template[pos:]))
    return "^" + "".join(out) + "$"


def _p(
    key: str, template: str, meaning: str, *, docstring: bool = False, sandbox: bool = True
) -> StepPattern:
    return StepPattern(key, template, meaning, docstring, sandbox)


CONTEXT_STEPS: tuple[StepPattern, ...] = (
    _p("seeded", "the demo data is seeded", "Reset the sandbox to exactly the seed contract on this page."),
    _p(
        "customer-token",
        'the customer "<customer>" with a token for scopes "<scopes>"',
        "Obtain a token through the authorization code flow for client `demo-app` acting for that customer, "
        "with the space-separated scopes. Later steps say *she*/*he* for this caller.",
    ),
    _p(
        "client-customer-token",
        'the client app "<client>" with a token for the customer "<customer>" and scopes "<scopes>"',
        "As above, for a third-party client app. Later steps say *it*.",
    ),
    _p(
        "client-token",
        'the client app "<client>" with a client-credentials token for scopes "<scopes>"',
        "Client-credentials token (no customer). Later steps say *it*.",
    ),
    _p("no-token", 'the customer "<customer>" without a token', "Requests carry no Authorization header."),
    _p(
        "dependency-down",
        'the dependency "<dependency>" is unavailable',
        "Operations: make one backing service unreachable.",
        sandbox=False,
    ),
    _p(
        "error-rate",
        'the error rate of operation "<operation>" is <percent> % for <minutes> minutes',
        "Operations: inject failures into one operation.",
        sandbox=False,
    ),
    _p(
        "audit-altered",
        "an audit record has been altered",
        "Operations: change one stored audit record outside the application.",
    ),
)
# Requests. Paths are relative to the server URL http://127.0.0.1:8000/api/v1.
REQUEST_STEPS: tuple[StepPattern, ...] = (
    _p("get", '<subject> GETs "<path>"', "GET the path (query string allowed)."),
    _p(
        "get-header",
        '<subject> GETs "<path>" with header "<header>" set to "<value>"',
        "GET with one extra request header.",
    ),
    _p(
        "post",
        '<subject> POSTs to "<path>" with body:',
        "POST the docstring as application/json.",
        docstring=True,
    ),
    _p(
        "post-idempotent",
        '<subject> POSTs to "<path>" with Idempotency-Key "<key>" and body:',
        "POST with an Idempotency-Key header.",
        docstring=True,
    ),
    _p(
        "post-media",
        '<subject> POSTs to "<path>" with content type "<media_type>" and body:',
        "POST the docstring with the given Content-Type.",
        docstring=True,
    ),
    _p(
        "patch",
        '<subject> PATCHes "<path>" with body:',
        "PATCH the docstring as application/json.",
        docstring=True,
    ),
    _p("delete", '<subject> DELETEs "<path>"', "DELETE the path."),
    _p("repeat", "<subject> sends the same request again", "Repeat the previous request byte for byte."),
    _p(
        "follow",
        '<subject> follows the link "<field>"',
        "GET the URL found in that response field (e.g. `links.next`).",
    ),
    _p(
        "authorise-consent",
        'the customer "<customer>" authorises the consent "<saved>"',
        "The customer approves the saved consent at the bank (strong customer authentication).",
    ),
    _p(
        "start-conversation",
        "<subject> starts a conversation with the assistant",
        "POST /assistant/conversations (channel `mobile`, locale `ru-RU`); saves `conversation_id` as "
        "`conversation`.",
    ),
    _p(
        "tell-assistant",
        '<subject> tells the assistant "<text>"',
        "POST the text to /assistant/conversations/{conversation}/messages.",
    ),
    _p(
        "confirm-proposal",
        "<subject> confirms the assistant's proposed action",
        'Reply "Да" with `confirmation_for` set to the message that proposed the action.',
    ),
    _p(
        "ask-human",
        "<subject> asks for a human agent",
        "POST /assistant/conversations/{conversation}/handoff with the reason `customer_request`.",
    ),
    _p(
        "read-health",
        "the operations engineer reads the health endpoint",
        "Read the health check.",
    ),
    _p(
        "scrape-metrics",
        "the operations engineer scrapes the metrics endpoint",
        "Read the Prometheus exposition.",
    ),
    _p(
        "verify-audit",
        "the compliance officer verifies the audit log",
        "Run the audit-log integrity verification over all records.",
    ),
    _p(
        "open-transcript",
        "the compliance officer opens the transcript of the conversation",
        "Open the saved conversation in the transcript review tool.",
        sandbox=False,
    ),
)
OUTCOME_STEPS: tuple[StepPattern, ...] = (
    _p("status", "the response status is <status>", "HTTP status code."),
    _p(
        "problem-code",
        'the problem code is "<code>"',
        "Body is application/problem+json; its `code` is this and its `status` equals the HTTP status.",
    ),
    _p(
        "problem-pointer",
        'the problem has an error at pointer "<pointer>"',
        "`errors[]` has an entry whose `pointer` is this JSON Pointer into the request body.",
    ),
    _p(
        "problem-correlation",
        'the problem\'s correlation_id equals the response header "<header>"',
        "The problem's `correlation_id` equals that response header.",
    ),
    _p(
        "field-string",
        'the response field "<field>" is "<value>"',
        "Dotted path (`amount.amount`, `links.next`) holds exactly this string.",
    ),
    _p(
        "field-literal",
        'the response field "<field>" is <literal>',
        "The field holds true, false, null or an integer.",
    ),
    _p("field-save", 'the response field "<field>" is saved as "<name>"', "Remember the value as {name}."),
    _p("field-absent", 'the response has no field "<field>"', "The path does not exist in the body."),
    _p("field-count", 'the response field "<field>" has <n> items', "The field is an array of n items."),
    _p(
        "lists",
        "the response lists <n> <noun>",
        "The body's list member (its one top-level array) has n items.",
    ),
    _p(
        "listed-values",
        'the listed <noun> have "<field>" values "<values>"',
        "The list items' field values, in order, are the comma-separated values.",
    ),
    _p(
        "listed-every",
        'every listed <noun> has "<field>" equal to "<value>"',
        "Every list item has this value.",
    ),
    _p(
        "balance",
        'the balance "<balance_type>" is "<amount>" in "<currency>"',
        "The balances list has an entry with this `balance_type` (ITBD, ITAV, …) and this Money.",
    ),
    _p("header", 'the response header "<header>" is "<value>"', "Exact response header value."),
    _p("header-uuid", 'the response header "<header>" is a UUID', "The header holds an RFC 9562 UUID."),
    _p(
        "header-save", 'the response header "<header>" is saved as "<name>"', "Remember the header as {name}."
    ),
    _p(
        "disclosure",
        "the assistant's disclosure says it is an AI",
        "The started conversation's `ai_disclosure` text says the customer is talking to an AI.",
    ),
    _p(
        "reply-intent",
        'the assistant\'s reply has intent "<intent>"',
        "The reply's classified intent.",
    ),
    _p(
        "reply-amount",
        'the assistant\'s reply states the amount "<amount>" in "<currency>"',
        "A fact in the reply's `facts` has this `money` (exact decimal string and currency).",
    ),
    _p(
        "reply-no-amount",
        "the assistant's reply states no amounts",
        "The reply has a `facts` list with no `money` in it (so it is empty: every fact carries one).",
    ),
    _p(
        "reply-transaction",
        'the assistant\'s reply refers to the transaction "<transaction>"',
        "A fact of kind `transaction` in the reply's `facts` has this `transaction_id`.",
    ),
    _p(
        "reply-ai",
        "the assistant's reply is marked as AI-generated",
        "The reply has `role` `assistant` and `ai_generated` true.",
    ),
    _p(
        "reply-confirm",
        "the assistant asks for confirmation",
        "The reply requires an explicit yes before any action.",
    ),
    _p(
        "handoff-transcript",
        "the handoff carries a transcript of <n> messages",
        "The handoff hands the agent every message so far.",
    ),
    _p(
        "transcript-review",
        "the transcript has <n> messages and begins with the AI disclosure",
        "What the compliance officer sees.",
        sandbox=False,
    ),
    _p(
        "footprint-categories",
        'the footprint covers the categories "<mccs>" with an estimate and an uncertainty range each',
        "The categories list these MCCs, each category with an estimate and its low/high range.",
        sandbox=False,
    ),
    _p(
        "footprint-method",
        "the footprint names its method and emission-factor version",
        "The response identifies the method and factor-table version.",
        sandbox=False,
    ),
    _p(
        "green-labels",
        "every listed product names its Decree 1587 taxonomy category",
        "Each green product carries its taxonomy category.",
        sandbox=False,
    ),
    _p("health", 'the health status is "<health>"', "`pass` or `fail` in the health body."),
    _p(
        "metric",
        'the metric "<metric>" has a series with labels "<labels>"',
        "A Prometheus series with these `name=value` labels exists.",
    ),
    _p(
        "alert",
        'the alert "<alert>" fires within <minutes> minutes',
        "Alertmanager receives the alert.",
        sandbox=False,
    ),
    _p("audit-result", 'the audit verification result is "<result>"', "`intact` or `broken`."),
    _p(
        "audit-record",
        'the audit log has a record of operation "<operation>" for customer "<customer>" with correlation id '
        '"<value>"',
        "One audit record with this operationId, customer and correlation id.",
    ),
    _p(
        "audit-no-token",
        "no audit record contains her access token",
        "Secrets never reach the audit log.",
    ),
    _p(
        "kpi-event",
        'a KPI event "<event>" was emitted with "<field>" equal to "<value>"',
        "The analytics stream received the event with this field value.",
        sandbox=False,
    ),
    _p(
        "kpi-no-field",
        'the KPI event "<event>" has no field "<field>"',
        "Data minimisation in KPI events.",
        sandbox=False,
    ),
)
VOCABULARY_GROUPS: tuple[tuple[str, tuple[StepPattern, ...]], ...] = (
    ("Context (Given)", CONTEXT_STEPS),
    ("Requests (When)", REQUEST_STEPS),
    ("Outcomes (Then)", OUTCOME_STEPS),
)
VOCABULARY: tuple[StepPattern, ...] = CONTEXT_STEPS + REQUEST_STEPS + OUTCOME_STEPS

# Steps that define a {name} for later steps: pattern key -> group holding the name (or a fixed name).
_SAVING_STEPS = {"field-save": "name", "header-save": "name"}
_FIXED_SAVES = {"start-conversation": "conversation"}


def match_step(text: str) -> StepPattern | None:
    for pattern in VOCABULARY:
        if pattern.regex.match(text):
            return pattern
    return None


# --------------------------------------------------------------------------------------------
# Parsing


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


def _rel(path: Path, root: Path | None) -> str:
    if root is None:
        return str(path)
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def load_features(features_dir: Path, root: Path | None = None) -> tuple[list[Feature], list[Violation]]:
    """Every ``*.feature`` file, sorted by name; parse errors come back as R-29 violations."""
    features: list[Feature] = []
    violations: list[Violation] = []
    for path in sorted(features_dir.glob("*.feature")):
        rel = _rel(path, root)
        try:
            features.append(parse_feature_text(path.read_text(encoding="utf-8"), rel))
        except FeatureParseError as exc:
            violations.append(Violation("R-29-feature-parses", path.name, exc.detail, rel, exc.line))
    return features, violations


_DIRECTIVE_OPEN = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<kind>story|epic)\}\s*(?P<title>.*?)\s*$")
_OPTION = re.compile(r"^:(?P<key>[a-z_]+):\s*(?P<value>.*?)\s*$")


def load_stories(stories_dir: Path, root: Path | None = None) -> list[StoryRecord]:
    """``story`` and ``epic`` directives in ``stories_dir/*.md`` with their options and lines."""
    records: list[StoryRecord] = []
    for path in sorted(stories_dir.glob("*.md")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            opened = _DIRECTIVE_OPEN.match(line)
            if not opened:
                continue
            options: dict[str, str] = {}
            id_line = index + 1
            for offset, option_line in enumerate(lines[index + 1 :], start=index + 2):
                option = _OPTION.match(option_line)
                if not option:
                    break
                options[option["key"]] = option["value"]
                if option["key"] == "id":
                    id_line = offset
            records.append(
                StoryRecord(
                    kind=opened["kind"],
                    id=options.get("id", ""),
                    title=opened["title"],
                    path=_rel(path, root),
                    line=id_line,
                    options=options,
                )
            )
    return records


def load_seed(path: Path, root: Path | None = None) -> Seed:
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text) or {}
    if not isinstance(data, Mapping):
        data = {}
    return Seed(path=_rel(path, root), data=data, text=text)


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


# --------------------------------------------------------------------------------------------
# Checks


def check(
    records: Sequence[StoryRecord],
    features: Sequence[Feature],
    seed: Seed | None,
) -> list[Violation]:
    """Every rule violation between story pages, feature files and the seed contract."""
    violations: list[Violation] = []
    violations += _check_records(records)
    stories = {r.id: r for r in records if r.kind == "story"}
    epics = {r.id: r for r in records if r.kind == "epic"}
    violations += _check_tags(features, stories, epics)
    violations += _check_coverage(stories, features)
    violations += _check_names(features)
    aliases = seed.aliases() if seed else {}
    violations += _check_steps(features, aliases)
    if seed is not None:
        violations += check_seed(seed)
    return violations


def _check_records(records: Sequence[StoryRecord]) -> list[Violation]:
    out: list[Violation] = []
    seen: dict[str, StoryRecord] = {}
    epic_ids = {r.id for r in records if r.kind == "epic"}
    for r in records:
        well_formed = (STORY_ID if r.kind == "story" else EPIC_ID).match(r.id)
        if not well_formed:
            out.append(
                Violation(
                    "R-24-story-id-well-formed", r.id or r.title, f"{r.kind} id {r.id!r}", r.path, r.line
                )
            )
        elif r.id in seen:
            first = seen[r.id]
            out.append(
                Violation(
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
            out.append(Violation("R-19-story-complete", r.id, "; ".join(problems), r.path, r.line))
    return out


def _check_tags(
    features: Sequence[Feature], stories: Mapping[str, StoryRecord], epics: Mapping[str, StoryRecord]
) -> list[Violation]:
    out: list[Violation] = []
    for feature in features:
        for tag in feature.tags:
            if ID_LIKE_TAG.match(tag) and tag not in epics and tag not in stories:
                out.append(
                    Violation(
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
                        Violation(
                            "R-22-scenario-tag-names-story",
                            tag,
                            f"scenario {sc.name!r} names an unknown or malformed id",
                            sc.path,
                            line,
                        )
                    )
                elif not ID_LIKE_TAG.match(tag) and tag not in KNOWN_PLAIN_TAGS:
                    out.append(
                        Violation(
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
                    Violation(
                        "R-23-scenario-has-story-tag",
                        sc.name or "(unnamed scenario)",
                        "no @US-NNNN tag",
                        sc.path,
                        sc.line,
                    )
                )
    return out


def _check_coverage(stories: Mapping[str, StoryRecord], features: Sequence[Feature]) -> list[Violation]:
    out: list[Violation] = []
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
                Violation(
                    "R-20-must-story-has-scenarios",
                    story_id,
                    f"{len(scenarios)} scenario(s), none of them a happy path",
                    path,
                    line,
                )
            )
        if not failing:
            out.append(
                Violation(
                    "R-21-must-story-has-failure-path",
                    story_id,
                    f"{len(scenarios)} scenario(s), none tagged @failure",
                    path,
                    line,
                )
            )
    return out


def _check_names(features: Sequence[Feature]) -> list[Violation]:
    out: list[Violation] = []
    seen: dict[str, Scenario] = {}
    for feature in features:
        for sc in feature.scenarios:
            if sc.name in seen:
                first = seen[sc.name]
                out.append(
                    Violation(
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


def _check_steps(features: Sequence[Feature], aliases: Mapping[str, str]) -> list[Violation]:
    out: list[Violation] = []
    for feature in features:
        for sc in feature.scenarios:
            saved: set[str] = set()
            for step in (*sc.background, *sc.steps):
                pattern = match_step(step.text)
                if pattern is None:
                    out.append(
                        Violation(
                            "R-26-step-in-vocabulary", sc.name, f"step {step.text!r}", sc.path, step.line
                        )
                    )
                else:
                    if pattern.docstring != (step.docstring is not None):
                        need = "needs" if pattern.docstring else "takes no"
                        out.append(
                            Violation(
                                "R-26-step-in-vocabulary",
                                sc.name,
                                f"step {step.text!r} {need} a docstring",
                                sc.path,
                                step.line,
                            )
                        )
                    if not pattern.sandbox and sc.in_sandbox:
                        out.append(
                            Violation(
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
                            Violation(
                                "R-27-reference-defined",
                                sc.name,
                                f"{{{name}}} is neither a seed alias nor saved earlier",
                                sc.path,
                                step.line,
                            )
                        )
                if pattern is not None:
                    group = _SAVING_STEPS.get(pattern.key)
                    if group:
                        found = pattern.regex.match(step.text)
                        if found:
                            saved.add(found[group])
                    if pattern.key in _FIXED_SAVES:
                        saved.add(_FIXED_SAVES[pattern.key])
    return out


def _amount(value: Any) -> Decimal | None:
    if not isinstance(value, str) or not MONEY_AMOUNT.match(value):
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def check_seed(seed: Seed) -> list[Violation]:
    """Unique aliases and ids, references that resolve, money as decimal strings, balances that add up."""
    out: list[Violation] = []

    def bad(alias: str, detail: str) -> None:
        out.append(Violation("R-28-seed-consistent", alias, detail, seed.path, seed.line_of(alias)))

    by_alias: dict[str, tuple[str, Mapping[str, Any]]] = {}
    ids: set[str] = set()
    for collection, id_field in SEED_ID_FIELDS.items():
        for record in seed.records(collection):
            alias = str(record.get("alias") or "")
            if not PLACEHOLDER.fullmatch("{" + alias + "}"):
                bad(alias or f"({collection})", "alias must be lowercase words joined by hyphens")
            if alias in by_alias:
                bad(alias, "alias used twice")
            by_alias[alias] = (collection, record)
            value = record.get(id_field)
            if not value:
                bad(alias, f"missing {id_field}")
            elif str(value) in ids:
                bad(alias, f"{id_field} {value} used twice")
            ids.add(str(value))

    def ref(alias: str, record: Mapping[str, Any], key: str, collection: str) -> Mapping[str, Any] | None:
        target = record.get(key)
        found = by_alias.get(str(target)) if target else None
        if found is None or found[0] != collection:
            bad(alias, f"{key} {target!r} is not a seeded {collection[:-1]}")
            return None
        return found[1]

    for account in seed.records("accounts"):
        ref(str(account.get("alias")), account, "customer", "customers")
    for card in seed.records("cards"):
        alias = str(card.get("alias"))
        ref(alias, card, "customer", "customers")
        ref(alias, card, "account", "accounts")
    for consent in seed.records("consents"):
        alias = str(consent.get("alias"))
        ref(alias, consent, "customer", "customers")
        ref(alias, consent, "client", "clients")
    for payment in seed.records("payments"):
        alias = str(payment.get("alias"))
        ref(alias, payment, "customer", "customers")
        ref(alias, payment, "debtor_account", "accounts")
        if _amount(payment.get("amount")) is None:
            bad(alias, f"amount {payment.get('amount')!r} is not a decimal string")

    booked: dict[str, Decimal] = {}
    pending: dict[str, Decimal] = {}
    for tx in seed.records("transactions"):
        alias = str(tx.get("alias"))
        tx_account = ref(alias, tx, "account", "accounts")
        amount = _amount(tx.get("amount"))
        if amount is None or amount <= 0:
            bad(alias, f"amount {tx.get('amount')!r} is not a positive decimal string")
            continue
        if tx_account is None:
            continue
        if tx.get("currency") != tx_account.get("currency"):
            bad(
                alias,
                f"currency {tx.get('currency')!r} differs from the account's {tx_account.get('currency')!r}",
            )
        sign = {"CRDT": 1, "DBIT": -1}.get(str(tx.get("credit_debit_indicator")))
        if sign is None:
            bad(alias, "credit_debit_indicator must be CRDT or DBIT")
            continue
        bucket = {"BOOK": booked, "PDNG": pending}.get(str(tx.get("status")))
        if bucket is None:
            bad(alias, "status must be BOOK or PDNG")
            continue
        key = str(tx_account.get("alias"))
        bucket[key] = bucket.get(key, Decimal(0)) + sign * amount

    for account in seed.records("accounts"):
        alias = str(account.get("alias"))
        balances = account.get("balances") or {}
        overdraft = _amount(account.get("overdraft_limit"))
        want_booked = _amount(balances.get("booked")) if isinstance(balances, Mapping) else None
        want_available = _amount(balances.get("available")) if isinstance(balances, Mapping) else None
        if overdraft is None or want_booked is None or want_available is None:
            bad(alias, "overdraft_limit and balances.booked/available must be decimal strings")
            continue
        got_booked = booked.get(alias, Decimal(0))
        got_available = got_booked + pending.get(alias, Decimal(0)) + overdraft
        if got_booked != want_booked:
            bad(alias, f"booked balance {want_booked} but its BOOK transactions sum to {got_booked}")
        if got_available != want_available:
            bad(
                alias,
                f"available balance {want_available} but booked + pending + overdraft is {got_available}",
            )
    return out
