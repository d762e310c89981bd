"""Generated from the contract: every operation, called by Boris with Anna's ids, is refused and
the answer leaks nothing about Anna (no name, number, amount or id she did not send herself).
Operations without ids (lists, creating one's own consent) succeed and show only Boris's data.
The support agents' operations refuse his customer token with 403 INSUFFICIENT_SCOPE.
Afterwards Anna's data (her conversation's transcript included) is exactly as before."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sandbox_contract import Operation, operations
from sandbox_helpers import ANNA, ANNA_CURRENT, ANNA_SAVINGS, bearer, token_for
from starlette.testclient import TestClient

API = "/api/v1"
# Anna's resource for each path parameter of the contract.
ANNAS = {
    "account_id": ANNA_CURRENT,
    "transaction_id": "30000000-0000-4000-8000-000000000003",
    "payment_id": "60000000-0000-4000-8000-000000000001",
    "card_id": "40000000-0000-4000-8000-000000000001",
    "consent_id": "50000000-0000-4000-8000-000000000002",
}
# What must never appear in Boris's answers (besides what his own request contained).
ANNA_SECRETS = [
    "Anna",
    "Smirnova",
    "anna.smirnova",
    "+79990000001",
    "40817810000000000001",
    "42301810000000000002",
    "25000.00",
    "24650.00",
    "Stolovaya",
    ANNA,
    ANNA_SAVINGS,
    *ANNAS.values(),
]
WITHOUT_IDS = {
    "createConsent",
    "listConsents",
    "getMyProfile",
    "listAccounts",
    "listPayments",
    "listCards",
    "listGreenProducts",
    "startConversation",
}
# Staff operations (scope agent): no customer's token can hold the scope.
STAFF_ONLY = {"listHandoffs", "getHandoff", "acceptHandoff", "closeHandoff"}


@pytest.fixture
def annas(client: TestClient) -> dict[str, str]:
    """Anna's resources, with a conversation handed off to the agents' queue."""
    anna = bearer(token_for(client, "anna"))
    started = client.post(
        f"{API}/assistant/conversations", json={"channel": "web", "locale": "en-US"}, headers=anna
    )
    cid = started.json()["conversation_id"]
    handoff = client.post(
        f"{API}/assistant/conversations/{cid}/handoff", json={"reason": "complaint"}, headers=anna
    )
    assert handoff.status_code == 201, handoff.text
    return {**ANNAS, "conversation_id": cid, "handoff_id": handoff.json()["handoff_id"]}


def _request(op: Operation, annas: dict[str, str]) -> tuple[str, dict[str, str], Any]:
    path = op.path
    query: dict[str, str] = {}
    for p in op.parameters:
        if p["in"] == "path":
            path = path.replace("{" + p["name"] + "}", annas[p["name"]])
        elif p["in"] == "query" and p.get("required"):
            query[p["name"]] = str(p["example"])
    body = op.example_body()
    if isinstance(body, dict):  # the contract's example dates may lie in the past by now
        body = {k: v for k, v in body.items() if k not in ("expires_at", "transactions_to")}
    if isinstance(body, dict) and "debtor_account_id" in body:  # pay from Anna's account
        body = {**body, "debtor_account_id": ANNA_CURRENT}
        if "creditor_account_id" in body:
            body["creditor_account_id"] = ANNA_SAVINGS
    return path, query, body


def _snapshot(client: TestClient, annas: dict[str, str]) -> str:
    anna = bearer(token_for(client, "anna"))
    transcript = f"{API}/assistant/conversations/{annas['conversation_id']}/messages"
    parts = [
        client.get(transcript, headers=anna).json()["data"],
        client.get(f"{API}/accounts/{ANNA_CURRENT}/balances", headers=anna).json()["data"],
        client.get(f"{API}/cards", headers=anna).json()["data"],
        client.get(f"{API}/consents", headers=anna).json()["data"],
        client.get(f"{API}/payments", headers=anna).json()["data"],
    ]
    for part in parts:  # reference times are "now" and change between calls
        for item in part:
            item.pop("reference_date_time", None)
    return json.dumps(parts, sort_keys=True)


@pytest.mark.parametrize("op", operations(), ids=lambda op: op.operation_id)
def test_another_customers_resources_are_refused_without_leaks(
    client: TestClient, op: Operation, annas: dict[str, str]
) -> None:
    before = _snapshot(client, annas)
    path, query, body = _request(op, annas)
    headers = bearer(token_for(client, "boris"), **{"Idempotency-Key": f"boris-{op.operation_id}"})
    response = client.request(op.method, API + path, params=query, json=body, headers=headers)
    text = response.text
    if response.headers.get("content-type") == "application/problem+json":
        # The problem echoes the request's own path in "instance": Boris's input, not a leak.
        problem = response.json()
        problem.pop("instance", None)
        text = json.dumps(problem)
    if op.operation_id in WITHOUT_IDS:
        assert response.status_code in (200, 201), text
    elif op.operation_id in STAFF_ONLY:
        assert (response.status_code, response.json()["code"]) == (403, "INSUFFICIENT_SCOPE"), text
    else:
        assert response.status_code == 404, f"{op.operation_id}: {response.status_code} {text}"
        assert response.json()["code"] == "RESOURCE_NOT_FOUND"
    secrets = [*ANNA_SECRETS, annas["conversation_id"], annas["handoff_id"]]
    leaked = [secret for secret in secrets if secret in text]
    assert not leaked, f"{op.operation_id} leaked {leaked}: {text}"
    assert _snapshot(client, annas) == before, f"{op.operation_id} changed Anna's data"
