"""Schemathesis hooks for the sandbox's contract run (loaded with SCHEMATHESIS_HOOKS=sandbox_st_hooks).

The built-in check ``positive_data_acceptance`` ("valid data must get 2xx") judges a request by the
contract's *schemas* alone. A few rules of the contract cannot be a schema; this narrowed copy stands
in for the built-in, and each exception is listed here with its reason. Everything else the built-in
decides unchanged. (``negative_data_rejection`` runs unchanged: since the contract dropped
``format: uuid`` from the X-Correlation-ID request parameter, docs/api/changes.md C-01, no header is
both schema-invalid and accepted.)

* 400 INVALID_CURSOR: ``cursor`` is opaque; any made-up value (the contract's own example too) is
  rightly refused - the contract: "Never build it yourself".
* 400 VALIDATION_FAILED for the createConsent rules its description states (relative to the request
  time, so no schema can hold them; docs/api/changes.md C-04): ``expires_at`` later than the request
  and at most 180 days after it (OUT_OF_RANGE), ``transactions_to`` not before ``transactions_from``
  (BEFORE_TRANSACTIONS_FROM); and the getCarbonFootprint period rules (docs/api/changes.md C-09):
  ``period_from`` not after today (IN_FUTURE) nor before the official rates the estimate has
  (OUT_OF_DATA_RANGE), ``period_to`` not before ``period_from`` (BEFORE_PERIOD_FROM) and at most 366
  days after it (OUT_OF_RANGE).
* 422 business refusals the contract lists for the operation: INSUFFICIENT_FUNDS, CURRENCY_MISMATCH,
  SAME_ACCOUNT, IDEMPOTENCY_KEY_REUSED (generated keys repeat with other bodies), CARD_CLOSED.

Zero or negative payment amounts and control characters in remittance text are no longer exceptions:
the contract's schemas (PositiveMoney, the remittance_information pattern) now refuse them too.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis
from schemathesis.specs.openapi.checks import positive_data_acceptance

BUSINESS_422 = {
    "INSUFFICIENT_FUNDS",
    "CURRENCY_MISMATCH",
    "SAME_ACCOUNT",
    "IDEMPOTENCY_KEY_REUSED",
    "CARD_CLOSED",
}
# (pointer, field error code) of VALIDATION_FAILED answers that enforce a rule stated in a description.
PROSE_RULES = {
    ("/expires_at", "OUT_OF_RANGE"),
    ("/transactions_to", "BEFORE_TRANSACTIONS_FROM"),
    ("#/query/period_from", "IN_FUTURE"),
    ("#/query/period_from", "OUT_OF_DATA_RANGE"),
    ("#/query/period_to", "BEFORE_PERIOD_FROM"),
    ("#/query/period_to", "OUT_OF_RANGE"),
}


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


@schemathesis.check
def sandbox_positive_data_acceptance(ctx: Any, response: Any, case: Any) -> bool | None:
    """positive_data_acceptance, except refusals by a contract rule the schema cannot express."""
    if is_contract_rule_refusal(response):
        return None
    return positive_data_acceptance(ctx, response, case)
