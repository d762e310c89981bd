"""The fixed step vocabulary: one source, the checker enforces it and the steps page shows it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


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
        "Operations: make one backing service unreachable (the sandbox: its database, by stopping the "
        "PostgreSQL server under a sandbox of the scenario's own).",
    ),
    _p(
        "error-rate",
        'the error rate of operation "<operation>" is <percent> % for <minutes> minutes',
        "Operations: the operation's request series at that share of 5xx answers for that long.",
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
        "read-ready",
        "the operations engineer reads the readiness endpoint",
        "Read the readiness check (the database answers and is migrated).",
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
        "Open the saved conversation in the transcript review tool (the sandbox: `python -m "
        "futurebank.sandbox transcript ID --officer ID`, which records the read in the audit log).",
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
        "`errors[]` has an entry whose `pointer` is this JSON Pointer into the request body (or "
        "`#/query/<name>` for a query parameter).",
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
        "What the compliance officer sees: the messages in order, masked, the disclosure first.",
    ),
    _p(
        "footprint-categories",
        'the footprint covers the categories "<mccs>" with an estimate and an uncertainty range each',
        "The categories list these MCCs, each category with an estimate and its low/high range.",
    ),
    _p(
        "footprint-method",
        "the footprint names its method and emission-factor version",
        "The response identifies the method and factor-table version.",
    ),
    _p(
        "green-labels",
        "every listed product names its Decree 1587 taxonomy category",
        "Each green product carries its taxonomy category.",
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
        "The alert, one of the rules generated from docs/nfr/slos.yaml, fires when Prometheus's rule "
        "engine (promtool test rules) evaluates them over the series of the step before, in simulated time.",
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
        "The KPI topic received the event the last request caused, with this field value (the sandbox: "
        "its relay's `kpi-events.jsonl`, checked against the event contract).",
    ),
    _p(
        "kpi-no-field",
        'the KPI event "<event>" has no field "<field>"',
        "Data minimisation in KPI events: the field is absent, and no id, name, account or birth date "
        "appears.",
    ),
)
VOCABULARY_GROUPS: tuple[tuple[str, tuple[StepPattern, ...]], ...] = (
    ("Context (Given)", CONTEXT_STEPS),
    ("Requests (When)", REQUEST_STEPS),
    ("Outcomes (Then)", OUTCOME_STEPS),
)
VOCABULARY: tuple[StepPattern, ...] = CONTEXT_STEPS + REQUEST_STEPS + OUTCOME_STEPS

# Steps that define a {name} for later steps: pattern key -> group holding the name (or a fixed name).
SAVING_STEPS = {"field-save": "name", "header-save": "name"}
FIXED_SAVES = {"start-conversation": "conversation"}


def match_step(text: str) -> StepPattern | None:
    for pattern in VOCABULARY:
        if pattern.regex.match(text):
            return pattern
    return None
