"""The sandbox's HTTP behaviour, operation by operation, on both database backends."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest
from sandbox_helpers import (
    ANNA,
    ANNA_CURRENT,
    ANNA_SAVINGS,
    BORIS_CURRENT,
    BORIS_USD,
    bearer,
    token_for,
)
from starlette.testclient import TestClient

from futurebank.sandbox import bootstrap
from futurebank.sandbox.entrypoints.deps import Container
from futurebank.sandbox.entrypoints.representations import MSK

API = "/api/v1"
CARD_ANNA = "40000000-0000-4000-8000-000000000001"
CARD_ANNA_OLD = "40000000-0000-4000-8000-000000000002"
CONSENT_ANNA_BUDGET = "50000000-0000-4000-8000-000000000002"
CONSENT_ANNA_OLD = "50000000-0000-4000-8000-000000000003"
PAY_ANNA_DINNER = "60000000-0000-4000-8000-000000000001"
TX_CAFE = "30000000-0000-4000-8000-000000000003"
# Consents may last at most 180 days (the contract), so request dates are relative to today.
IN_90_DAYS = (datetime.now(MSK) + timedelta(days=90)).replace(microsecond=0).isoformat()


def pay(client: TestClient, token: str, body: dict[str, object], key: str | None = None) -> object:
    headers = bearer(token, **({"Idempotency-Key": key} if key else {}))
    return client.post(f"{API}/payments", json=body, headers=headers)


def test_profile(client: TestClient) -> None:
    r = client.get(f"{API}/customers/me", headers=bearer(token_for(client)))
    assert r.status_code == 200
    assert r.json() == {
        "customer_id": ANNA,
        "full_name": "Anna Smirnova",
        "date_of_birth": "2005-06-15",
        "email": "anna.smirnova@example.com",
        "phone": "+79990000001",
        "preferred_language": "ru",
        "customer_since": "2023-09-01",
    }
    assert r.headers["content-type"] == "application/json"


def test_accounts_and_balances_follow_the_seed(client: TestClient) -> None:
    h = bearer(token_for(client))
    accounts = client.get(f"{API}/accounts", headers=h).json()
    assert [a["account_id"] for a in accounts["data"]] == [ANNA_CURRENT, ANNA_SAVINGS]
    assert accounts["links"] == {"self": f"{API}/accounts"}
    balances = client.get(f"{API}/accounts/{ANNA_CURRENT}/balances", headers=h).json()["data"]
    assert {b["balance_type"]: b["amount"] for b in balances} == {
        "ITAV": {"amount": "24650.00", "currency": "RUB"},
        "ITBD": {"amount": "25000.00", "currency": "RUB"},
    }


def test_transactions_window_paging_and_filters(client: TestClient) -> None:
    h = bearer(token_for(client))
    window = "booked_from=2026-11-02T00:00:00Z&booked_to=2026-11-06T00:00:00Z"
    url = f"{API}/accounts/{ANNA_CURRENT}/transactions?{window}&limit=2"
    first = client.get(url, headers=h)
    assert first.status_code == 200
    page = first.json()
    assert [t["transaction_id"][-2:] for t in page["data"]] == ["04", "03"]
    second = client.get(page["links"]["next"], headers=h).json()
    assert [t["transaction_id"][-2:] for t in second["data"]] == ["02"]
    assert "next" not in second["links"]
    credits = client.get(
        f"{API}/accounts/{ANNA_CURRENT}/transactions?credit_debit_indicator=CRDT", headers=h
    ).json()
    assert [t["transaction_id"][-2:] for t in credits["data"]] == ["01"]


def test_transaction_with_merchant(client: TestClient) -> None:
    r = client.get(f"{API}/accounts/{ANNA_CURRENT}/transactions/{TX_CAFE}", headers=bearer(token_for(client)))
    body = r.json()
    assert r.status_code == 200
    assert body["amount"] == {"amount": "1200.00", "currency": "RUB"}
    assert body["merchant"] == {"name": "Stolovaya No. 1", "mcc": "5812"}
    assert body["credit_debit_indicator"] == "DBIT" and body["status"] == "BOOK"
    wrong_account = client.get(
        f"{API}/accounts/{ANNA_SAVINGS}/transactions/{TX_CAFE}", headers=bearer(token_for(client))
    )
    assert wrong_account.status_code == 404


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("cursor=not-a-cursor", "INVALID_CURSOR"),
        ("cursor=" + "A" * 40, "INVALID_CURSOR"),
        ("booked_from=yesterday", "VALIDATION_FAILED"),
        ("booked_from=2026-11-02T00:00:00", "VALIDATION_FAILED"),  # no offset
        ("limit=0", "VALIDATION_FAILED"),
        ("limit=101", "VALIDATION_FAILED"),
        ("limit=ten", "VALIDATION_FAILED"),
        ("credit_debit_indicator=BOTH", "VALIDATION_FAILED"),
        ("limit=1&limit=2", "VALIDATION_FAILED"),
    ],
)
def test_bad_queries_are_problems(client: TestClient, query: str, code: str) -> None:
    r = client.get(f"{API}/accounts/{ANNA_CURRENT}/transactions?{query}", headers=bearer(token_for(client)))
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == code


def test_cursor_is_bound_to_its_filters(client: TestClient) -> None:
    h = bearer(token_for(client))
    page = client.get(f"{API}/accounts/{ANNA_CURRENT}/transactions?limit=1", headers=h).json()
    cursor = page["links"]["next"].split("cursor=")[1]
    other = client.get(
        f"{API}/accounts/{ANNA_CURRENT}/transactions?limit=1&credit_debit_indicator=DBIT&cursor={cursor}",
        headers=h,
    )
    assert other.json()["code"] == "INVALID_CURSOR"


def test_own_transfer_moves_money_and_is_idempotent(client: TestClient) -> None:
    token = token_for(client)
    body = {
        "debtor_account_id": ANNA_CURRENT,
        "creditor_account_id": ANNA_SAVINGS,
        "amount": {"amount": "5000.00", "currency": "RUB"},
        "remittance_information": "To savings",
    }
    first = pay(client, token, body, "own-1")
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "ACSC"
    assert first.headers["location"] == f"{API}/payments/{first.json()['payment_id']}"
    again = pay(client, token, body, '"own-1"')  # the Structured Field form is the same key
    assert (again.status_code, again.content) == (201, first.content)
    assert again.headers["idempotent-replayed"] == "true"
    balances = client.get(f"{API}/accounts/{ANNA_CURRENT}/balances", headers=bearer(token)).json()["data"]
    assert balances[1]["amount"]["amount"] == "20000.00"
    savings = client.get(f"{API}/accounts/{ANNA_SAVINGS}/balances", headers=bearer(token)).json()["data"]
    assert savings[1]["amount"]["amount"] == "15000.00"
    reused = pay(client, token, {**body, "amount": {"amount": "1.00", "currency": "RUB"}}, "own-1")
    assert (reused.status_code, reused.json()["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")


def test_pay_another_customer_by_number(client: TestClient) -> None:
    token = token_for(client)
    r = pay(
        client,
        token,
        {
            "debtor_account_id": ANNA_CURRENT,
            "creditor_account_number": "40817810000000000003",
            "amount": {"amount": "1500.00", "currency": "RUB"},
        },
        "p2p-1",
    )
    assert r.status_code == 201
    body = r.json()
    assert body["creditor_name"] == "Boris I." and "creditor_account_id" not in body
    boris = token_for(client, "boris")
    booked = client.get(f"{API}/accounts/{BORIS_CURRENT}/balances", headers=bearer(boris)).json()["data"][1]
    assert booked["amount"]["amount"] == "13500.00"
    listed = client.get(f"{API}/payments", headers=bearer(token)).json()["data"]
    assert [p["payment_id"] for p in listed][:2] == [body["payment_id"], PAY_ANNA_DINNER]


@pytest.mark.parametrize(
    ("body", "status", "code", "pointer"),
    [
        (
            {"creditor_account_id": ANNA_SAVINGS, "amount": {"amount": "24700.00", "currency": "RUB"}},
            422,
            "INSUFFICIENT_FUNDS",
            "/amount/amount",
        ),
        (
            {
                "creditor_account_number": "40817810000000000001",
                "amount": {"amount": "1.00", "currency": "RUB"},
            },
            422,
            "SAME_ACCOUNT",
            None,
        ),
        (
            {"creditor_account_id": ANNA_CURRENT, "amount": {"amount": "1.00", "currency": "RUB"}},
            422,
            "SAME_ACCOUNT",
            None,
        ),
        (
            {
                "creditor_account_number": "40817840000000000004",
                "amount": {"amount": "1.00", "currency": "RUB"},
            },
            422,
            "CURRENCY_MISMATCH",
            "/amount/currency",
        ),
        (
            {"creditor_account_id": ANNA_SAVINGS, "amount": {"amount": "1.00", "currency": "XYZ"}},
            422,
            "CURRENCY_MISMATCH",
            "/amount/currency",
        ),
        (
            {"creditor_account_id": ANNA_SAVINGS, "amount": {"amount": "10.005", "currency": "RUB"}},
            400,
            "VALIDATION_FAILED",
            "/amount/amount",
        ),
        (
            {"creditor_account_id": ANNA_SAVINGS, "amount": {"amount": "-100.00", "currency": "RUB"}},
            400,
            "VALIDATION_FAILED",
            "/amount/amount",
        ),
        (
            {"creditor_account_id": ANNA_SAVINGS, "amount": {"amount": "0", "currency": "RUB"}},
            400,
            "VALIDATION_FAILED",
            "/amount/amount",
        ),
        (
            {"creditor_account_id": ANNA_SAVINGS, "amount": {"amount": 1, "currency": "RUB"}},
            400,
            "VALIDATION_FAILED",
            "/amount/amount",
        ),
        (
            {"creditor_account_id": ANNA_SAVINGS, "amount": {"amount": "1.00", "currency": "RUB"}, "fee": 1},
            400,
            "VALIDATION_FAILED",
            "/fee",
        ),
        ({"amount": {"amount": "1.00", "currency": "RUB"}}, 400, "VALIDATION_FAILED", None),
        (
            {
                "creditor_account_id": ANNA_SAVINGS,
                "creditor_account_number": "42301810000000000002",
                "amount": {"amount": "1.00", "currency": "RUB"},
            },
            400,
            "VALIDATION_FAILED",
            None,
        ),
        (
            {"creditor_account_id": BORIS_CURRENT, "amount": {"amount": "1.00", "currency": "RUB"}},
            404,
            "RESOURCE_NOT_FOUND",
            "/creditor_account_id",
        ),
        (
            {
                "creditor_account_number": "40817810999999999999",
                "amount": {"amount": "1.00", "currency": "RUB"},
            },
            404,
            "RESOURCE_NOT_FOUND",
            "/creditor_account_number",
        ),
        (
            {
                "creditor_account_id": ANNA_SAVINGS,
                "amount": {"amount": "1.00", "currency": "RUB"},
                "remittance_information": "a\u0000b",
            },
            400,
            "VALIDATION_FAILED",
            "/remittance_information",
        ),
        (
            {
                "creditor_account_id": ANNA_SAVINGS,
                "amount": {"amount": "1.00", "currency": "RUB"},
                "remittance_information": "C1 \u0085 control",
            },
            400,
            "VALIDATION_FAILED",
            "/remittance_information",
        ),
        (
            {"creditor_account_id": ANNA_SAVINGS, "amount": {"amount": "0.00", "currency": "RUB"}},
            400,
            "VALIDATION_FAILED",
            "/amount/amount",
        ),
        (
            {"creditor_account_id": ANNA_SAVINGS, "amount": {"amount": "0.00", "currency": "XYZ"}},
            400,  # the schema (PositiveMoney) is checked before the currency
            "VALIDATION_FAILED",
            "/amount/amount",
        ),
    ],
)
def test_refused_payments_leave_no_trace(
    client: TestClient, body: dict[str, object], status: int, code: str, pointer: str | None
) -> None:
    token = token_for(client)
    before = client.get(f"{API}/payments", headers=bearer(token)).json()["data"]
    r = pay(client, token, {"debtor_account_id": ANNA_CURRENT, **body}, f"bad-{uuid.uuid4()}")
    assert r.status_code == status, r.text
    problem = r.json()
    assert problem["code"] == code and problem["status"] == status
    if pointer:
        assert pointer in [e["pointer"] for e in problem["errors"]]
    assert client.get(f"{API}/payments", headers=bearer(token)).json()["data"] == before
    balances = client.get(f"{API}/accounts/{ANNA_CURRENT}/balances", headers=bearer(token)).json()["data"]
    assert balances[1]["amount"]["amount"] == "25000.00"


def test_business_refusal_is_replayed_for_the_same_key(client: TestClient) -> None:
    token = token_for(client)
    body = {
        "debtor_account_id": ANNA_CURRENT,
        "creditor_account_id": ANNA_SAVINGS,
        "amount": {"amount": "99999.00", "currency": "RUB"},
    }
    first = pay(client, token, body, "refused-1")
    second = pay(client, token, body, "refused-1")
    assert first.status_code == second.status_code == 422
    # The same problem; only the correlation id is the retry's own (changes C-11).
    assert {**first.json(), "correlation_id": ""} == {**second.json(), "correlation_id": ""}


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "IDEMPOTENCY_KEY_MISSING"),
        ({"Idempotency-Key": "has space"}, "VALIDATION_FAILED"),
        ({"Idempotency-Key": "x" * 65}, "VALIDATION_FAILED"),
    ],
)
def test_idempotency_key_header_checks(client: TestClient, headers: dict[str, str], code: str) -> None:
    body = {
        "debtor_account_id": ANNA_CURRENT,
        "creditor_account_id": ANNA_SAVINGS,
        "amount": {"amount": "1.00", "currency": "RUB"},
    }
    r = client.post(f"{API}/payments", json=body, headers=bearer(token_for(client), **headers))
    assert (r.status_code, r.json()["code"]) == (400, code)


def test_payment_of_another_customer_is_not_found(client: TestClient) -> None:
    r = client.get(f"{API}/payments/{PAY_ANNA_DINNER}", headers=bearer(token_for(client, "boris")))
    assert (r.status_code, r.json()["code"]) == (404, "RESOURCE_NOT_FOUND")
    assert PAY_ANNA_DINNER not in r.text.replace(r.json()["instance"], "")


def test_cards_lock_unlock_and_closed(client: TestClient) -> None:
    h = bearer(token_for(client))
    locked = client.patch(f"{API}/cards/{CARD_ANNA}/controls", json={"locked": True}, headers=h)
    assert locked.status_code == 200 and locked.json()["controls"]["locked"] is True
    again = client.patch(f"{API}/cards/{CARD_ANNA}/controls", json={"locked": True}, headers=h)
    assert again.json()["controls"] == locked.json()["controls"]  # unchanged: same updated_at
    assert client.get(f"{API}/cards/{CARD_ANNA}", headers=h).json()["controls"]["locked"] is True
    closed = client.patch(f"{API}/cards/{CARD_ANNA_OLD}/controls", json={"locked": True}, headers=h)
    assert (closed.status_code, closed.json()["code"]) == (422, "CARD_CLOSED")
    not_bool = client.patch(f"{API}/cards/{CARD_ANNA}/controls", json={"locked": "yes"}, headers=h)
    assert (not_bool.status_code, not_bool.json()["errors"][0]["pointer"]) == (400, "/locked")
    listed = client.get(f"{API}/cards", headers=h).json()["data"]
    assert {c["card_id"]: c["status"] for c in listed} == {CARD_ANNA: "active", CARD_ANNA_OLD: "closed"}


def test_consent_flow_client_credentials_then_customer_authorises(client: TestClient) -> None:
    app_token = token_for(client, None, "consents", client_id="budget-app")
    created = client.post(
        f"{API}/consents",
        json={"permissions": ["accounts", "balances", "transactions"], "expires_at": IN_90_DAYS},
        headers=bearer(app_token),
    )
    assert created.status_code == 201, created.text
    consent = created.json()
    assert consent["status"] == "awaiting_authorisation" and consent["client_id"] == "budget-app"
    assert created.headers["location"] == f"{API}/consents/{consent['consent_id']}"
    # Before authorisation the app's customer token cannot read transactions (its seeded consent
    # lacks that permission, and the new one is not authorised yet).
    budget_anna = token_for(client, "anna", "transactions:read", client_id="budget-app")
    refused = client.get(f"{API}/accounts/{ANNA_CURRENT}/transactions", headers=bearer(budget_anna))
    assert (refused.status_code, refused.json()["code"]) == (403, "CONSENT_REQUIRED")
    # The customer's authorisation step (dev grant with consent_id).
    r = client.post(
        f"{API}/oauth/token",
        data={
            "grant_type": "urn:futurebank:params:oauth:grant-type:demo-customer",
            "customer": "anna",
            "consent_id": consent["consent_id"],
        },
        auth=("budget-app", "budget-app-secret"),
    )
    assert r.status_code == 200, r.text
    seen = client.get(f"{API}/consents/{consent['consent_id']}", headers=bearer(app_token)).json()
    assert seen["status"] == "authorised" and seen["expires_at"] == IN_90_DAYS
    allowed = client.get(f"{API}/accounts/{ANNA_CURRENT}/transactions", headers=bearer(budget_anna))
    assert allowed.status_code == 200


def test_revoke_consent_takes_effect_at_once(client: TestClient) -> None:
    anna = bearer(token_for(client, "anna", "consents"))
    assert client.delete(f"{API}/consents/{CONSENT_ANNA_BUDGET}", headers=anna).status_code == 204
    assert client.get(f"{API}/consents/{CONSENT_ANNA_BUDGET}", headers=anna).json()["status"] == "revoked"
    budget = bearer(token_for(client, "anna", "accounts:read", client_id="budget-app"))
    r = client.get(f"{API}/accounts", headers=budget)
    assert (r.status_code, r.json()["code"]) == (403, "CONSENT_REQUIRED")
    again = client.delete(f"{API}/consents/{CONSENT_ANNA_OLD}", headers=anna)
    assert (again.status_code, again.json()["code"]) == (409, "CONSENT_NOT_ACTIVE")
    boris = bearer(token_for(client, "boris", "consents"))
    assert client.delete(f"{API}/consents/{CONSENT_ANNA_BUDGET}", headers=boris).status_code == 404


def test_consents_listed_newest_first(client: TestClient) -> None:
    listed = client.get(f"{API}/consents", headers=bearer(token_for(client, "anna", "consents"))).json()[
        "data"
    ]
    assert [c["consent_id"][-1] for c in listed] == ["2", "1", "3"]
    assert [c["status"] for c in listed] == ["authorised", "authorised", "revoked"]
    paged = client.get(
        f"{API}/consents?limit=1", headers=bearer(token_for(client, "anna", "consents"))
    ).json()
    assert len(paged["data"]) == 1 and "next" in paged["links"]


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"permissions": ["accounts", "loans"]}, "/permissions/1"),
        ({"permissions": []}, "/permissions"),
        ({"permissions": ["accounts", "accounts"]}, "/permissions"),
        ({"permissions": ["accounts"], "expires_at": "tomorrow"}, "/expires_at"),
        ({"permissions": ["accounts"], "expires_at": "2020-01-01T00:00:00Z"}, "/expires_at"),
        ({"permissions": ["accounts"], "expires_at": "2099-01-01T00:00:00Z"}, "/expires_at"),
        ({"permissions": ["accounts"], "extra": True}, "/extra"),
    ],
)
def test_bad_consent_requests(client: TestClient, body: dict[str, object], pointer: str) -> None:
    r = client.post(
        f"{API}/consents",
        json=body,
        headers=bearer(token_for(client, None, "consents", client_id="budget-app")),
    )
    assert r.status_code == 400
    assert pointer in [e["pointer"] for e in r.json()["errors"]]


@pytest.mark.parametrize(
    ("body", "pointer", "field_code"),
    [
        ({"expires_at": "2020-01-01T00:00:00Z"}, "/expires_at", "OUT_OF_RANGE"),
        ({"expires_at": "2099-01-01T00:00:00Z"}, "/expires_at", "OUT_OF_RANGE"),
        (
            {
                "transactions_from": "2026-06-01T00:00:00+03:00",
                "transactions_to": "2026-05-01T00:00:00+03:00",
            },
            "/transactions_to",
            "BEFORE_TRANSACTIONS_FROM",
        ),
    ],
)
def test_consent_rules_answer_the_documented_field_codes(
    client: TestClient, body: dict[str, object], pointer: str, field_code: str
) -> None:
    """createConsent's description states these rules with their field error codes (changes C-04)."""
    r = client.post(
        f"{API}/consents",
        json={"permissions": ["accounts"], **body},
        headers=bearer(token_for(client, None, "consents", client_id="budget-app")),
    )
    assert (r.status_code, r.json()["code"]) == (400, "VALIDATION_FAILED")
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [(pointer, field_code)]


@pytest.mark.parametrize("path", ["/customers/me", "/accounts", "/cards", "/green-products", "/consents"])
def test_unknown_query_parameters_are_refused_everywhere(client: TestClient, path: str) -> None:
    """Guideline API-016 (changes C-05): no operation silently ignores a parameter it does not define."""
    r = client.get(f"{API}{path}?status=enabled", headers=bearer(token_for(client)))
    assert (r.status_code, r.json()["code"]) == (400, "VALIDATION_FAILED")
    assert r.json()["errors"] == [
        {
            "pointer": "#/query/status",
            "code": "UNKNOWN_PARAMETER",
            "detail": "The parameter is not defined for this operation.",
        }
    ]


def test_scopes_and_authentication(client: TestClient) -> None:
    assert client.get(f"{API}/accounts").json()["code"] == "UNAUTHENTICATED"
    assert client.get(f"{API}/accounts", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    r = client.get(f"{API}/accounts", headers=bearer(token_for(client, "anna", "payments:read")))
    assert (r.status_code, r.json()["code"]) == (403, "INSUFFICIENT_SCOPE")
    app_only = token_for(client, None, "accounts:read")
    r = client.get(f"{API}/accounts", headers=bearer(app_only))
    assert (r.status_code, r.json()["code"]) == (403, "CONSENT_REQUIRED")


def test_formerly_unimplemented_operations_answer(client: TestClient) -> None:
    """The assistant and sustainability operations answered 501 until the MVP pillars were built."""
    h = bearer(token_for(client))
    r = client.post(
        f"{API}/assistant/conversations", json={"channel": "mobile", "locale": "ru-RU"}, headers=h
    )
    assert r.status_code == 201, r.text
    assert client.get(f"{API}/green-products").status_code == 401


def test_errors_are_problems(client: TestClient) -> None:
    h = bearer(token_for(client))
    r = client.post(
        f"{API}/payments",
        content=b'{"debtor_account_id": ',
        headers={**h, "Idempotency-Key": "m1", "Content-Type": "application/json"},
    )
    assert (r.status_code, r.json()["code"]) == (400, "MALFORMED_JSON")
    r = client.post(
        f"{API}/payments",
        content=b"pay Boris",
        headers={**h, "Idempotency-Key": "m2", "Content-Type": "text/plain"},
    )
    assert (r.status_code, r.json()["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    r = client.post(
        f"{API}/payments",
        content=b"{" + b" " * 70000 + b"}",
        headers={**h, "Idempotency-Key": "m3", "Content-Type": "application/json"},
    )
    assert (r.status_code, r.json()["code"]) == (413, "PAYLOAD_TOO_LARGE")
    r = client.delete(f"{API}/accounts", headers=h)
    assert (r.status_code, r.json()["code"], r.headers["allow"]) == (405, "METHOD_NOT_ALLOWED", "GET")
    r = client.get(f"{API}/accounts/not-a-uuid", headers=h)
    assert (r.status_code, r.json()["errors"][0]["pointer"]) == (400, "#/path/account_id")
    r = client.get(f"{API}/no/such/thing", headers=h)
    assert (r.status_code, r.json()["code"]) == (404, "RESOURCE_NOT_FOUND")
    assert r.json()["correlation_id"] == r.headers["x-correlation-id"]


def test_correlation_id_echoed_or_generated(client: TestClient) -> None:
    h = bearer(token_for(client))
    cid = "3f1c1f0e-7a55-4d5b-9a53-0c8a7c1e2b10"
    assert (
        client.get(f"{API}/accounts", headers={**h, "X-Correlation-ID": cid}).headers["x-correlation-id"]
        == cid
    )
    generated = client.get(f"{API}/accounts", headers={**h, "X-Correlation-ID": "not-a-uuid"}).headers[
        "x-correlation-id"
    ]
    assert uuid.UUID(generated) and generated != "not-a-uuid"


def test_profile_of_a_removed_customer_is_unauthenticated(client: TestClient, container: Container) -> None:
    """getMyProfile has no 404 (changes C-08): a token whose customer is gone no longer authenticates."""
    token = token_for(client, "vera")
    assert client.get(f"{API}/customers/me", headers=bearer(token)).status_code == 200
    bootstrap.reset(container.db, history=False)  # only the seed contract's customers remain
    r = client.get(f"{API}/customers/me", headers=bearer(token))
    assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED")
    assert r.headers["www-authenticate"].startswith("Bearer ")


def test_usd_account_balances(client: TestClient) -> None:
    r = client.get(f"{API}/accounts/{BORIS_USD}/balances", headers=bearer(token_for(client, "boris")))
    assert r.json()["data"][0]["amount"] == {"amount": "300.00", "currency": "USD"}
