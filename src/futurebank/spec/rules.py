"""Every rule the spec tooling checks, the one finding type its checks return, and the one error it raises.

The registry :data:`RULES` holds each rule id (``R-NN-name``, numbered once and never reused) with the text
that says what the rule requires and the family of checks that enforces it:

* ``needs``: sphinx-needs schema rules on the spec items (``futurebank.spec.needs_model``);
* ``chat``: the chat data files (``futurebank.spec.chat_data``);
* ``stories``: story pages, Gherkin features and the seed contract (``futurebank.spec.stories``);
* ``contract``: OpenAPI, AsyncAPI and entity schemas (``futurebank.spec.contract``);
* ``data``: YAML syntax of any spec data file (``futurebank.spec.yaml_lines``);
* ``c4``: the architecture model (``futurebank.spec.c4``);
* ``workshop``: the workshop record, roles, question plans and fingerprints (``futurebank.spec.workshop``);
* ``build``: the site build itself (``futurebank.spec.sphinx_ext`` and ``futurebank.spec.pages``).

Every check reports a :class:`Finding`; the build prints each one the same way,
``file:line: WARNING: <item> breaks <rule id>: <rule text> (<detail>) [<JSON pointer>]``, and
``sphinx-build -W`` fails on it. A new rule is one entry here plus the check and a test that breaks it
(``tests/unit/spec/test_rules_registry.py`` fails when a check names an id missing here).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

FAMILIES = (
    "needs",
    "chat",
    "stories",
    "contract",
    "data",
    "c4",
    "delivery",
    "operations",
    "workshop",
    "build",
)


@dataclass(frozen=True)
class Rule:
    id: str
    family: str
    text: str


def _rules(family: str, texts: dict[str, str]) -> list[Rule]:
    return [Rule(rule_id, family, text) for rule_id, text in texts.items()]


# In id order; an id is never reused, a retired rule keeps its number free.
ALL_RULES: list[Rule] = [
    *_rules(
        "needs",
        {
            "R-01-msg-disposition": "every chat message has exactly one disposition",
            "R-02-msg-resolved": "a message that is not courtesy is resolved by at least one spec item "
            "tracing to it",
            "R-03-msg-duplicate-names-original": "a duplicate message names the message it repeats",
            "R-04-item-traced": "a spec item traces to at least one chat message, or is marked derived with "
            "a rationale",
            "R-05-traces-point-to-messages": "traces links point to chat messages only",
            "R-06-scope-decision": "a scope record states its decision (mvp/later/out) and its area",
            "R-07-scope-evidence": "a scope record cites at least one public source",
            "R-08-scope-reopen-trigger": "a later or out decision names the measurable trigger that would "
            "reopen it",
            "R-09-finding-raises-question": "an audit finding has a category, a severity and raises a "
            "question for the stakeholders",
            "R-10-question-owner": "an open question names the role who must answer it",
            "R-11-kpi-measurable": "a KPI has a metric, unit, baseline, target, deadline and measurement "
            "method",
            "R-12-source-citable": "a source has a title, publisher, publication date and link",
            "R-13-adr-status": "an ADR has a MADR status and a decision date",
            "R-56-need-field-valid": "a need's fields have the type and the values needs_model declares",
        },
    ),
    *_rules(
        "chat",
        {
            "R-14-chat-annotation-known": "every annotation in docs/chat/annotations.yaml names a message "
            "of the chat",
            "R-15-chat-annotation-present": "every chat message has an annotation (translation and "
            "disposition)",
            "R-16-chat-annotation-shape": "an annotation is a mapping with en and disposition",
            "R-17-chat-translation-present": "every chat message has an English translation",
            "R-18-chat-participant-known": "every author of a message has a role in "
            "docs/chat/participants.yaml",
        },
    ),
    *_rules(
        "stories",
        {
            "R-19-story-complete": "a story states priority, release, traces, scoped_by, refines (an epic) "
            "and actor",
            "R-20-must-story-has-scenarios": "a must story has at least one happy-path scenario",
            "R-21-must-story-has-failure-path": "a must story has at least one scenario tagged @failure",
            "R-22-scenario-tag-names-story": "a scenario's @US-/@EP- tag names a story or epic that exists",
            "R-23-scenario-has-story-tag": "every scenario is tagged with the story id it specifies",
            "R-24-story-id-well-formed": "a story or epic id is well formed (US-NNNN, EP-NNNN) and unique",
            "R-25-scenario-name-unique": "scenario names are unique across all feature files",
            "R-26-step-in-vocabulary": "every step uses the fixed step vocabulary of docs/stories/steps.md",
            "R-27-reference-defined": "a {name} reference names a seed alias or a value saved earlier on",
            "R-28-seed-consistent": "the seed contract is consistent (unique ids, known references, "
            "balances add up)",
            "R-29-feature-parses": "a feature file is valid Gherkin",
        },
    ),
    *_rules(
        "contract",
        {
            "R-30-example-valid": "every example validates against the schema it illustrates (JSON Schema "
            "2020-12)",
            "R-31-openapi-valid": "docs/api/openapi.yaml is a valid OpenAPI 3.1 document "
            "(openapi-spec-validator)",
            "R-32-operation-serves-story": "every operation has an operationId and x-stories with at least "
            "one story id",
            "R-33-story-exists": "every story id named by an operation or event exists in the spec",
            "R-34-must-story-has-api": "every must story that needs the API is served by an operation or an "
            "event",
            "R-35-schema-matches-entity": "a component schema that exposes an entity agrees with the entity "
            "schema",
            "R-36-entity-annotated": "every entity property has a type, description, examples, "
            "personal-data class and retention",
            "R-37-entity-reference-exists": "x-references and $ref name existing entities",
            "R-38-money-moving-idempotent": "a money-moving POST requires Idempotency-Key and documents its "
            "400/409/422",
            "R-39-operation-conventions": "scopes, X-Correlation-ID, 400/401/429/500, Retry-After, "
            "problem+json and an example on every response",
            "R-40-problem-code-status": "a problem example's code, status and type match the stable "
            "error-code table",
            "R-41-asyncapi-valid": "docs/api/asyncapi.yaml is AsyncAPI 3.0 with story-linked operations and "
            "entity payloads",
            "R-42-versioned-server": "the server URL carries the major version (/api/v1)",
            "R-43-spectral-clean": "Spectral lints openapi.yaml and asyncapi.yaml with 0 errors",
            "R-84-problem-codes-table": "docs/api/problem-codes.yaml gives the problem type's base URI and "
            "each stable error code once, in UPPER_SNAKE, with an error status, a title and when it is "
            "answered, and the Problem code enum "
            "of openapi.yaml and of the Problem entity lists exactly those codes",
        },
    ),
    *_rules("data", {"R-44-yaml-syntax": "a spec data file is well-formed YAML"}),
    *_rules(
        "c4",
        {
            "R-45-c4-shape": "docs/architecture/c4.yaml has zones, people, systems and relationships as "
            "lists of mappings",
            "R-46-c4-field-present": "every C4 element, zone and relationship has its required fields",
            "R-47-c4-field-text": "C4 names, descriptions and technologies are text",
            "R-48-c4-id-unique": "C4 ids are unique across zones, people, systems and containers",
            "R-49-c4-element-known": "a relationship or view names an element that exists",
            "R-50-c4-zone-known": "an element's zone is a declared zone",
            "R-51-c4-scope-known": "an element's scope is ours, bank or external",
            "R-52-c4-shape-known": "a container's shape is app, database, queue or store",
            "R-53-c4-no-self-relationship": "a relationship joins two different elements",
        },
    ),
    *_rules(
        "build",
        {
            "R-54-generated-block-known": "a {generated} block names a registered page generator",
            "R-55-bench-result-readable": "build/bench/latest.json, when present, is a result of make bench",
        },
    ),
    *_rules(
        "delivery",
        {
            "R-57-roadmap-data-valid": "docs/delivery/roadmap.yaml has M0, phases that follow known phases, "
            "and rollout stages that fit in the MVP phase",
            "R-58-roadmap-deadline-agrees": "every phase deadline written on the roadmap page agrees with "
            "the roadmap data",
            "R-59-cost-model-valid": "docs/delivery/cost-model.yaml has months, the chat's budgets and cost "
            "lines, each a [low, high] range with a SRC- source or 'assumption'",
            "R-60-load-model-valid": "docs/nfr/load-model.yaml gives every input as a non-negative number "
            "with its source",
        },
    ),
    *_rules(
        "operations",
        {
            "R-75-slo-data-valid": "docs/nfr/slos.yaml has a window, SLOs with an objective between 0 and "
            "100 % and their operations, and burn-rate alerts with a factor and a short and a long window",
            "R-76-slo-covers-operations": "every operation of the contract is in exactly one SLO, and every "
            "operation an SLO names is in the contract",
            "R-77-slo-agrees-with-nfr": "the targets of NFR-0007 and NFR-0008 state each objective and each "
            "alert's factor and windows, and each performance NFR the p99 of its class, as "
            "docs/nfr/slos.yaml does",
            "R-82-gates-data-valid": "docs/delivery/rollout-gates.yaml gives every stage rollback criteria "
            "and, unless it is the last, go criteria, each a positive threshold with its window",
            "R-83-gates-agree-with-stages": "each stage's Go and Rollback text on the rollout page states "
            "the thresholds (or the stage it repeats) that docs/delivery/rollout-gates.yaml gives",
        },
    ),
    *_rules(
        "workshop",
        {
            "R-61-item-status": "every scope decision, ADR, NFR, story, KPI and rollout stage has one status "
            "in docs/workshop/record.yaml (proposed, accepted, rejected, or superseded naming the item that "
            "supersedes it)",
            "R-62-accepted-signed-off": "an accepted item names its deciding role from "
            "docs/workshop/roles.yaml, the date and the record of the decision",
            "R-63-accepted-not-blocked": "an item is not accepted while a question that blocks it is open",
            "R-64-role-register": "every question owner maps to exactly one role of docs/workshop/roles.yaml",
            "R-65-question-planned": "every question has a priority (blocks-m0, blocks-phase or informs "
            "with a roadmap phase), the items it blocks, and once answered its answer, answering role, date "
            "and record",
            "R-66-question-merged": "a merged question id is no longer defined and resolves to a surviving "
            "question",
            "R-67-adr-status-agrees": "an ADR's MADR status agrees with its status in the workshop record",
            "R-68-fingerprints-readable": "docs/workshop/fingerprints.yaml maps item ids to the fingerprints "
            "of the items they link to",
        },
    ),
    *_rules(
        "stories",
        {
            "R-70-story-has-criteria": "a story without scenarios lists its acceptance criteria in words "
            "(a **Acceptance criteria.** paragraph with at least one list item)",
        },
    ),
    *_rules(
        "delivery",
        {
            "R-78-flags-generated": "the flagd files in docs/delivery/flagd/ are what `futurebank flags "
            "generate` writes from docs/delivery/feature-flags.yaml and the load model's rollout_stages, "
            "and every operation a flag gates is in the contract",
        },
    ),
]

RULES: dict[str, Rule] = {rule.id: rule for rule in ALL_RULES}


def rule_texts(family: str) -> dict[str, str]:
    """Rule id -> text for one family, in id order."""
    return {rule.id: rule.text for rule in ALL_RULES if rule.family == family}


@dataclass(frozen=True)
class Finding:
    """One rule broken by one item at one place: the single shape every check returns."""

    rule: str
    item: str
    detail: str
    path: Path | str  # stored as a Path
    line: int
    pointer: str = ""

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise KeyError(f"unknown rule id {self.rule!r}: add it to futurebank.spec.rules.RULES")
        object.__setattr__(self, "path", Path(self.path))

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"

    def located(self, root: Path | None = None) -> str:
        """``file:line`` with the file relative to ``root`` when it lies inside it."""
        path = Path(self.path)
        if root is not None:
            with contextlib.suppress(ValueError):
                path = path.resolve().relative_to(root.resolve())
        return f"{path}:{self.line}"

    def message(self) -> str:
        """The warning text without location: item, rule id, rule text, detail and JSON pointer."""
        detail = f" ({self.detail})" if self.detail else ""
        where = f" [{self.pointer}]" if self.pointer else ""
        return f"{self.item} breaks {self.rule}: {RULES[self.rule].text}{detail}{where}"

    def __str__(self) -> str:
        return f"{self.location}: {self.message()}"


class SpecFileError(ValueError):
    """A spec data file breaks a rule so badly it cannot be read on; carries the :class:`Finding`."""

    def __init__(self, path: Path | str, line: int, rule: str, detail: str, item: str = "") -> None:
        self.finding = Finding(rule, item or Path(path).name, detail, Path(path), line)
        super().__init__(str(self.finding))
        self.path, self.line, self.rule, self.detail = str(path), line, rule, detail
