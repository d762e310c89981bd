"""The spec's data model: need types, fields, link types and validation rules.

This module is the single source for the model. ``docs/conf.py`` and the rule-test fixtures
both read it. The rules' ids and texts live in ``futurebank.spec.rules`` with every other rule; here
each one gets its sphinx-needs schema. The build reports violations as
``file:line: <need id> breaks <rule id>: <rule text> (<detail>)``.
"""

from __future__ import annotations

from typing import Any

from futurebank.spec.rules import rule_texts

DISPOSITIONS = [
    "requirement",
    "decision",
    "constraint",
    "claim",
    "budget",
    "schedule",
    "duplicate",
    "courtesy",
]
RESOLVABLE_DISPOSITIONS = [d for d in DISPOSITIONS if d != "courtesy"]
SCOPE_DECISIONS = ["mvp", "later", "out"]

# (directive, title, id prefix, colour). Ids are PREFIX-NNNN, zero padded.
NEED_TYPES: list[tuple[str, str, str, str]] = [
    ("msg", "Chat message", "MSG-", "#E8EEF4"),
    ("scope", "Scope decision", "SCOPE-", "#D7ECD9"),
    ("finding", "Audit finding", "FND-", "#F8D9CF"),
    ("question", "Open question", "Q-", "#FFF1C1"),
    ("kpi", "KPI", "KPI-", "#E2DAF2"),
    ("adr", "Architecture decision", "ADR-", "#D4E4F7"),
    ("source", "Cited source", "SRC-", "#EEEEEE"),
    ("persona", "Persona", "PER-", "#F3E3F0"),
    ("epic", "Epic", "EP-", "#DDEFF0"),
    ("story", "User story", "US-", "#DDF0E3"),
    ("entity", "Data entity", "ENT-", "#F0EBDD"),
    ("op", "API operation", "OP-", "#E0E7FF"),
    ("event", "Event", "EVT-", "#E6F4FF"),
    ("nfr", "Non-functional requirement", "NFR-", "#FDE2E2"),
    ("risk", "Risk", "RISK-", "#FFE4CC"),
    ("phase", "Roadmap phase", "PH-", "#E9F5DB"),
    ("stage", "Rollout stage", "RS-", "#F5EBDB"),
]
# Items that must trace to chat messages or say why they are derived.
TRACED_TYPES = ["scope", "finding", "question", "kpi", "adr", "story", "nfr", "epic", "risk"]

# Hand-written items are numbered (US-0001); items generated from a contract file take their
# name from it (OP-createPayment from an operationId, ENT-Account from a schema, EVT-paymentCompleted).
ID_REGEX = (
    r"^((MSG|SCOPE|FND|Q|KPI|ADR|SRC|PER|EP|US|ENT|OP|EVT|NFR|RISK|PH|RS)-[0-9]{4}"
    r"|(OP|EVT)-[a-z][A-Za-z0-9]+|ENT-[A-Z][A-Za-z0-9]+)$"
)


def _enum(values: list[str]) -> dict[str, Any]:
    return {"type": "string", "enum": values}


NEEDS_FIELDS: dict[str, dict[str, Any]] = {
    # chat messages
    "sent_at": {
        "description": "RFC 3339 timestamp with offset",
        "nullable": True,
        "schema": {"type": "string"},
    },
    "author": {"description": "Author handle in the chat", "nullable": True, "schema": {"type": "string"}},
    "role": {"description": "Author's role (our assumption)", "nullable": True, "schema": {"type": "string"}},
    "disposition": {
        "description": "What the message is for the spec",
        "nullable": True,
        "schema": _enum(DISPOSITIONS),
    },
    # every traced item
    "derived": {
        "description": "One-line rationale when the item traces to no chat message",
        "default": "",
        "schema": {"type": "string"},
    },
    # scope decisions
    "decision": {"description": "mvp / later / out", "nullable": True, "schema": _enum(SCOPE_DECISIONS)},
    "area": {
        "description": "pillar or cross-cutting",
        "nullable": True,
        "schema": _enum(["pillar", "cross-cutting"]),
    },
    "reopen_when": {
        "description": "Measurable trigger that reopens a later/out decision",
        "default": "",
        "schema": {"type": "string"},
    },
    # findings and questions
    "category": {
        "description": "Finding category",
        "nullable": True,
        "schema": _enum(["date", "sum", "progress", "vendor", "kpi", "headcount", "consistency", "legal"]),
    },
    "severity": {
        "description": "high / medium / low",
        "nullable": True,
        "schema": _enum(["high", "medium", "low"]),
    },
    "owner": {
        "description": "Role that must answer or own this",
        "default": "",
        "schema": {"type": "string"},
    },
    # KPIs and NFRs: every number has a baseline or target, a unit and a method
    "metric": {"description": "What is measured", "default": "", "schema": {"type": "string"}},
    "unit": {"description": "Unit of the metric", "default": "", "schema": {"type": "string"}},
    "baseline": {
        "description": "Value today, or how it will be established",
        "default": "",
        "schema": {"type": "string"},
    },
    "target": {"description": "Target value", "default": "", "schema": {"type": "string"}},
    "deadline": {"description": "Date the target must be met", "default": "", "schema": {"type": "string"}},
    "method": {"description": "How it is measured", "default": "", "schema": {"type": "string"}},
    # ADRs
    "adr_status": {
        "description": "MADR status",
        "nullable": True,
        "schema": _enum(["proposed", "accepted", "rejected", "deprecated", "superseded"]),
    },
    "decided": {"description": "Decision date (YYYY-MM-DD)", "default": "", "schema": {"type": "string"}},
    # sources
    "publisher": {"description": "Who published the source", "default": "", "schema": {"type": "string"}},
    "published": {"description": "Publication date or year", "default": "", "schema": {"type": "string"}},
    "url": {"description": "Link to the source", "default": "", "schema": {"type": "string"}},
    # stories and the body of the spec (issue 3)
    "priority": {
        "description": "MoSCoW",
        "nullable": True,
        "schema": _enum(["must", "should", "could", "wont"]),
    },
    "release": {"description": "mvp / later", "nullable": True, "schema": _enum(["mvp", "later"])},
    "likelihood": {
        "description": "Risk likelihood",
        "nullable": True,
        "schema": _enum(["high", "medium", "low"]),
    },
    "impact": {"description": "Risk impact", "nullable": True, "schema": _enum(["high", "medium", "low"])},
    # the workshop record (docs/workshop, futurebank.spec.workshop): written onto the needs by the build
    "decider": {"description": "Role that accepted the item", "default": "", "schema": {"type": "string"}},
    "accepted_on": {"description": "Date it was accepted", "default": "", "schema": {"type": "string"}},
    "decision_record": {
        "description": "Where the decision is recorded",
        "default": "",
        "schema": {"type": "string"},
    },
    "owner_role": {"description": "Role of the owner", "default": "", "schema": {"type": "string"}},
    "urgency": {
        "description": "blocks-m0 / blocks-phase / informs",
        "default": "",
        "schema": {"type": "string"},
    },
    "due": {"description": "Due date from the roadmap", "default": "", "schema": {"type": "string"}},
    "agenda_order": {"description": "Sort key of the agenda", "default": "", "schema": {"type": "string"}},
    "answer": {"description": "The answer given", "default": "", "schema": {"type": "string"}},
    "answered_by": {"description": "Role that answered", "default": "", "schema": {"type": "string"}},
    "answered_on": {"description": "Date of the answer", "default": "", "schema": {"type": "string"}},
    "answer_record": {
        "description": "Where the answer is recorded",
        "default": "",
        "schema": {"type": "string"},
    },
    "suspect": {
        "description": "Upstream items that changed since the item was reviewed",
        "default": "",
        "schema": {"type": "string"},
    },
}

NEEDS_LINKS: dict[str, dict[str, Any]] = {
    "traces": {"incoming": "resolved by", "outgoing": "traces to"},
    "duplicates": {"incoming": "repeated by", "outgoing": "repeats"},
    "cites": {"incoming": "cited by", "outgoing": "cites"},
    "raises": {"incoming": "raised by", "outgoing": "raises"},
    "scoped_by": {"incoming": "puts in scope", "outgoing": "in scope by"},
    "refines": {"incoming": "refined by", "outgoing": "refines"},
    "actor": {"incoming": "acts in", "outgoing": "actor"},
    "serves": {"incoming": "served by", "outgoing": "serves"},
    "exposes": {"incoming": "exposed by", "outgoing": "exposes"},
    "measures": {"incoming": "measured by", "outgoing": "measures"},
    "mitigates": {"incoming": "mitigated by", "outgoing": "mitigates"},
    "blocks": {"incoming": "blocked by", "outgoing": "blocks"},
    "superseded_by": {"incoming": "supersedes", "outgoing": "superseded by"},
}


def _select_type(need_type: str, **extra: dict[str, Any]) -> dict[str, Any]:
    return {"properties": {"type": {"const": need_type}, **extra}}


def _require_nonempty(*fields: str) -> dict[str, Any]:
    return {
        "properties": {f: {"type": "string", "minLength": 1} for f in fields},
        "required": list(fields),
    }


def _require_links(link: str, minimum: int = 1) -> dict[str, Any]:
    # minItems alone does not flag an absent link list: the field must also be required
    return {"properties": {link: {"type": "array", "minItems": minimum}}, "required": [link]}


def _links_point_to(link: str, need_type: str) -> dict[str, Any]:
    return {link: {"type": "array", "items": {"local": {"properties": {"type": {"const": need_type}}}}}}


RULES_TEXT = rule_texts("needs")

# The sphinx-needs schemas of the needs rules; their ids and texts come from futurebank.spec.rules.
RULES: list[dict[str, Any]] = [
    {
        "id": "R-01-msg-disposition",
        "message": RULES_TEXT["R-01-msg-disposition"],
        "select": _select_type("msg"),
        "validate": {"local": {"required": ["disposition"]}},
    },
    {
        "id": "R-02-msg-resolved",
        "message": RULES_TEXT["R-02-msg-resolved"],
        "select": {
            "properties": {"type": {"const": "msg"}, "disposition": _enum(RESOLVABLE_DISPOSITIONS)},
            "required": ["disposition"],
        },
        "validate": {
            "network_back": {
                "traces": {
                    "type": "array",
                    "minContains": 1,
                    "contains": {"local": {"properties": {"type": {"type": "string"}}}},
                }
            }
        },
    },
    {
        "id": "R-03-msg-duplicate-names-original",
        "message": RULES_TEXT["R-03-msg-duplicate-names-original"],
        "select": {
            "properties": {"type": {"const": "msg"}, "disposition": {"const": "duplicate"}},
            "required": ["disposition"],
        },
        "validate": {"local": _require_links("duplicates"), "network": _links_point_to("duplicates", "msg")},
    },
    {
        "id": "R-04-item-traced",
        "message": RULES_TEXT["R-04-item-traced"],
        "select": {"properties": {"type": _enum(TRACED_TYPES), "derived": {"const": ""}}},
        "validate": {"local": _require_links("traces")},
    },
    {
        "id": "R-05-traces-point-to-messages",
        "message": RULES_TEXT["R-05-traces-point-to-messages"],
        "select": {"properties": {"type": _enum(TRACED_TYPES)}},
        "validate": {"network": _links_point_to("traces", "msg")},
    },
    {
        "id": "R-06-scope-decision",
        "message": RULES_TEXT["R-06-scope-decision"],
        "select": _select_type("scope"),
        "validate": {"local": {"required": ["decision", "area"]}},
    },
    {
        "id": "R-07-scope-evidence",
        "message": RULES_TEXT["R-07-scope-evidence"],
        "select": _select_type("scope"),
        "validate": {"local": _require_links("cites"), "network": _links_point_to("cites", "source")},
    },
    {
        "id": "R-08-scope-reopen-trigger",
        "message": RULES_TEXT["R-08-scope-reopen-trigger"],
        "select": {
            "properties": {"type": {"const": "scope"}, "decision": _enum(["later", "out"])},
            "required": ["decision"],
        },
        "validate": {"local": _require_nonempty("reopen_when")},
    },
    {
        "id": "R-09-finding-raises-question",
        "message": RULES_TEXT["R-09-finding-raises-question"],
        "select": _select_type("finding"),
        "validate": {
            "local": {"allOf": [{"required": ["category", "severity"]}, _require_links("raises")]},
            "network": _links_point_to("raises", "question"),
        },
    },
    {
        "id": "R-10-question-owner",
        "message": RULES_TEXT["R-10-question-owner"],
        "select": _select_type("question"),
        "validate": {"local": _require_nonempty("owner")},
    },
    {
        "id": "R-11-kpi-measurable",
        "message": RULES_TEXT["R-11-kpi-measurable"],
        "select": _select_type("kpi"),
        "validate": {
            "local": _require_nonempty("metric", "unit", "baseline", "target", "deadline", "method")
        },
    },
    {
        "id": "R-12-source-citable",
        "message": RULES_TEXT["R-12-source-citable"],
        "select": _select_type("source"),
        "validate": {"local": _require_nonempty("publisher", "published", "url")},
    },
    {
        "id": "R-13-adr-status",
        "message": RULES_TEXT["R-13-adr-status"],
        "select": _select_type("adr"),
        "validate": {"local": {"allOf": [{"required": ["adr_status"]}, _require_nonempty("decided")]}},
    },
]

RULE_IDS = [rule["id"] for rule in RULES]


def sphinx_config() -> dict[str, Any]:
    """The sphinx-needs configuration values, for ``docs/conf.py`` and test fixtures."""
    return {
        "needs_types": [
            {"directive": d, "title": t, "prefix": p, "color": c, "style": "node"}
            for d, t, p, c in NEED_TYPES
        ],
        "needs_id_regex": ID_REGEX,
        "needs_id_required": True,
        "needs_fields": NEEDS_FIELDS,
        "needs_links": NEEDS_LINKS,
        "needs_schema_definitions": {"schemas": RULES},
        "needs_build_json": True,
        "needs_reproducible_json": True,
        "needs_flow_engine": "graphviz",
    }
