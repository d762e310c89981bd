"""Defects found by probing the running sandbox at its HTTP edge (issue 7, item 5): the token
endpoint's per-peer rate limit, duplicate JSON members, bidi controls in free text, validation
messages in words, and a raw non-ASCII request target."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sandbox_helpers import ANNA_CURRENT, ANNA_SAVINGS, BORIS_CURRENT, DEMO_GRANT, bearer, token_for
from starlette.testclient import TestClient

from futurebank.sandbox.entrypoints.app import create_app
from futurebank.sandbox.entrypoints.deps import Container

API = "/api/v1"


def test_a_bearer_header_does_not_buy_the_token_endpoint_a_fresh_bucket(
    make_container: Callable[..., Container],
) -> None:
    container = make_container(rate_limit_rps=0.001, rate_limit_burst=3)
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        token = token_for(client)  # the peer's first of three
        guess = {"grant_type": DEMO_GRANT, "customer": "anna"}
        wrong = ("demo-app", "guessed-secret")
        assert [client.post(f"{API}/oauth/token", data=guess, auth=wrong).status_code for _ in range(2)] == [
            401,
            401,
        ]
        assert client.post(f"{API}/oauth/token", data=guess, auth=wrong).status_code == 429
        # The same guesses with a valid bearer token beside the form credentials: still this peer's.
        for headers in (bearer(token), bearer("not-a-token")):
            forms = {**guess, "client_id": "demo-app", "client_secret": "guess"}
            limited = client.post(f"{API}/oauth/token", data=forms, headers=headers)
            assert (limited.status_code, limited.json()["code"]) == (429, "RATE_LIMITED")
            assert int(limited.headers["retry-after"]) >= 1


def _payments_and_balance(client: TestClient, token: str) -> tuple[object, object]:
    payments = client.get(f"{API}/payments", headers=bearer(token)).json()["data"]
    balances = client.get(f"{API}/accounts/{ANNA_CURRENT}/balances", headers=bearer(token)).json()["data"]
    return payments, [(b["balance_type"], b["amount"]) for b in balances]


def _post_raw(client: TestClient, token: str, body: str) -> dict[str, Any]:
    headers = bearer(token, **{"Idempotency-Key": f"edge-{uuid.uuid4()}", "Content-Type": "application/json"})
    r = client.post(f"{API}/payments", content=body.encode("utf-8"), headers=headers)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = r.json()
    return problem


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        (
            f'{{"debtor_account_id":"{ANNA_CURRENT}","creditor_account_id":"{ANNA_SAVINGS}",'
            '"amount":{"amount":"1.00","currency":"RUB"},"amount":{"amount":"9000.00","currency":"RUB"}}',
            ["/amount"],
        ),
        (
            f'{{"debtor_account_id":"{ANNA_CURRENT}","creditor_account_id":"{ANNA_SAVINGS}",'
            '"amount":{"amount":"1.00","amount":"9000.00","currency":"RUB"}}',
            ["/amount/amount"],
        ),
        (
            f'{{"debtor_account_id":"{ANNA_CURRENT}","debtor_account_id":"{ANNA_SAVINGS}",'
            f'"creditor_account_id":"{BORIS_CURRENT}","creditor_account_id":"{ANNA_SAVINGS}",'
            '"amount":{"amount":"1.00","currency":"RUB"}}',
            ["/debtor_account_id", "/creditor_account_id"],
        ),
    ],
)
def test_repeated_json_members_are_refused_and_book_nothing(
    client: TestClient, body: str, pointers: list[str]
) -> None:
    token = token_for(client)
    before = _payments_and_balance(client, token)
    problem = _post_raw(client, token, body)
    assert problem["code"] == "VALIDATION_FAILED"
    assert [(e["pointer"], e["code"]) for e in problem["errors"]] == [
        (p, "DUPLICATE_MEMBER") for p in pointers
    ]
    assert _payments_and_balance(client, token) == before


@pytest.mark.parametrize("char", [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))])
def test_bidi_controls_in_free_text_are_refused(client: TestClient, char: str) -> None:
    token = token_for(client)
    before = _payments_and_balance(client, token)
    body = {
        "debtor_account_id": ANNA_CURRENT,
        "creditor_account_id": ANNA_SAVINGS,
        "amount": {"amount": "1.00", "currency": "RUB"},
        "remittance_information": f"rent {char}00.0001 tnuocca{char} ok",
    }
    problem = _post_raw(client, token, json.dumps(body, ensure_ascii=False))
    assert [(e["pointer"], e["code"]) for e in problem["errors"]] == [("/remittance_information", "PATTERN")]
    assert "bidirectional" in problem["errors"][0]["detail"]
    assert _payments_and_balance(client, token) == before


def test_free_text_around_the_bidi_controls_is_accepted(client: TestClient) -> None:
    # U+2029 (paragraph separator's neighbour range) and U+200F (a mark, not an embedding) are not refused;
    # nor are right-to-left letters.
    token = token_for(client)
    body = {
        "debtor_account_id": ANNA_CURRENT,
        "creditor_account_id": ANNA_SAVINGS,
        "amount": {"amount": "1.00", "currency": "RUB"},
        "remittance_information": "שכר דירה \u200f ok \u2065 \u206a",
    }
    r = client.post(f"{API}/payments", json=body, headers=bearer(token, **{"Idempotency-Key": "edge-ok"}))
    assert r.status_code == 201, r.text


REGEX_HINTS = re.compile(r"\^|\$'|\[0-9\]|\\d|\{\d+(,\d*)?\}|\(\?|pattern '")


@pytest.mark.parametrize(
    ("amount", "pointer", "words"),
    [
        (
            {"amount": "1.234", "currency": "RUB"},
            "/amount/amount",
            "positive decimal with at most 2 fraction",
        ),
        ({"amount": "-5.00", "currency": "RUB"}, "/amount/amount", "positive decimal"),
        ({"amount": "0.00", "currency": "RUB"}, "/amount/amount", "positive decimal"),
        ({"amount": "10.00", "currency": "rub"}, "/amount/currency", "three capital letters"),
    ],
)
def test_validation_errors_say_what_to_fix_in_words(
    client: TestClient, amount: dict[str, str], pointer: str, words: str
) -> None:
    token = token_for(client)
    body = {"debtor_account_id": ANNA_CURRENT, "creditor_account_id": ANNA_SAVINGS, "amount": amount}
    problem = _post_raw(client, token, json.dumps(body))
    [error] = problem["errors"]
    assert error["pointer"] == pointer and error["code"] == "PATTERN"
    assert words in error["detail"], error
    assert not REGEX_HINTS.search(json.dumps(problem)), problem


def test_no_body_error_quotes_a_regular_expression(client: TestClient) -> None:
    token = token_for(client)
    bodies: list[dict[str, Any]] = [
        {"debtor_account_id": ANNA_CURRENT, "creditor_account_number": "12345", "amount": {"amount": "1"}},
        {
            "debtor_account_id": "x",
            "creditor_account_id": ANNA_SAVINGS,
            "amount": {"amount": "1e3", "currency": "EURO"},
        },
        {
            "debtor_account_id": ANNA_CURRENT,
            "creditor_account_id": ANNA_SAVINGS,
            "amount": {"amount": 1, "currency": 643},
        },
        {
            "debtor_account_id": ANNA_CURRENT,
            "creditor_account_number": "4081781000000000000١",
            "amount": {"amount": "١٠.٠٠", "currency": "RUB"},
        },
    ]
    for body in bodies:
        problem = _post_raw(client, token, json.dumps(body, ensure_ascii=False))
        assert problem["code"] == "VALIDATION_FAILED", problem
        assert not REGEX_HINTS.search(json.dumps(problem, ensure_ascii=False)), problem
