"""Schemathesis hooks for the sandbox's contract run (loaded with SCHEMATHESIS_HOOKS=sandbox_st_hooks).

Two built-in checks judge a request by the contract's *schemas* alone. The contract also has rules
that a schema cannot express; for those, these two narrowed copies stand in for the built-ins, and
each exception is listed here with its reason. Everything else the built-ins decide unchanged.

* ``positive_data_acceptance`` ("valid data must get 2xx"): a schema-valid request may still be
  refused by a rule of the contract that lives in prose or in the data:
    - 400 INVALID_CURSOR: ``cursor`` is opaque; any made-up value (the contract's own example too)
      is rightly refused - the contract: "Never build it yourself".
    - 400 VALIDATION_FAILED for rules in the descriptions: a payment amount must be above zero
      (Money allows a sign), remittance text without control characters (NUL cannot be stored in
      PostgreSQL), consent ``expires_at`` in the future and at most 180 days ahead,
      ``transactions_to`` not before ``transactions_from``.
    - 422 business refusals the contract lists for the operation: INSUFFICIENT_FUNDS,
      CURRENCY_MISMATCH, SAME_ACCOUNT, IDEMPOTENCY_KEY_REUSED (generated keys repeat with other
      bodies), CARD_CLOSED.
* ``negative_data_rejection`` ("invalid data must get 4xx"): an invalid ``X-Correlation-ID``
  header is *not* refused, because the contract says the server then generates its own id
  (headers.X-Correlation-ID: "the request's X-Correlation-ID when it sent a valid UUID, otherwise
  one the server generated"). Cases whose only invalid part is that header are not judged.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

BUSINESS_422 = {
    "INSUFFICIENT_FUNDS",
    "CURRENCY_MISMATCH",
    "SAME_ACCOUNT",
    "IDEMPOTENCY_KEY_REUSED",
    "CARD_CLOSED",
}
# (pointer, field error code) of VALIDATION_FAILED answers that enforce a rule stated in prose.
PROSE_RULES = {
    ("/amount/amount", "MINIMUM"),
    ("/remittance_information", "CHARACTERS"),
    ("/expires_at", "INVALID"),
    ("/transactions_to", "INVALID"),
}
LENIENT_HEADERS = {"x-correlation-id"}


def _problem(response: Any) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except (ValueError, TypeError):
        return {}
    return body if isinstance(body, dict) else {}


def is_contract_rule_refusal(response: Any) -> bool:
    problem = _problem(response)
    code = problem.get("code")
    if response.status_code == 422 and code in BUSINESS_422:
        return True
    if response.status_code == 400 and code == "INVALID_CURSOR":
        return True
    if response.status_code == 400 and code == "VALIDATION_FAILED":
        errors = problem.get("errors") or []
        return bool(errors) and all((e.get("pointer"), e.get("code")) in PROSE_RULES for e in errors)
    return False


def only_lenient_header_negated(case: Any) -> bool:
    meta = getattr(case, "meta", None)
    data = getattr(getattr(meta, "phase", None), "data", None)
    if data is None:
        return False
    location = getattr(data, "parameter_location", None)
    names = {m.parameter.lower() for m in getattr(data, "mutations", ()) if m.parameter}
    if getattr(data, "parameter", None):
        names.add(str(data.parameter).lower())
    is_header = location is not None and location.name == "HEADER"
    return is_header and bool(names) and names <= LENIENT_HEADERS


@schemathesis.check
def sandbox_positive_data_acceptance(ctx: Any, response: Any, case: Any) -> bool | None:
    """positive_data_acceptance, except refusals by a contract rule the schema cannot express."""
    if is_contract_rule_refusal(response):
        return None
    return positive_data_acceptance(ctx, response, case)


@schemathesis.check
def sandbox_negative_data_rejection(ctx: Any, response: Any, case: Any) -> bool | None:
    """negative_data_rejection, except an invalid X-Correlation-ID (the contract replaces it)."""
    if only_lenient_header_negated(case):
        return None
    return negative_data_rejection(ctx, response, case)
