"""Regression tests for the defects an outside probe of the running sandbox found (issue 7, item 5).
Each failed before its fix."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable

import httpx
import pytest
from sandbox_helpers import ANNA_CURRENT, ANNA_SAVINGS, DEMO_GRANT, bearer, run_live, token_for
from starlette.testclient import TestClient

from futurebank.sandbox import bootstrap
from futurebank.sandbox.entrypoints.app import create_app
from futurebank.sandbox.entrypoints.deps import Container

API = "/api/v1"
CNS_ANNA_DEMO = "50000000-0000-4000-8000-000000000001"
CNS_ANNA_BUDGET = "50000000-0000-4000-8000-000000000002"
CNS_ANNA_OLD = "50000000-0000-4000-8000-000000000003"


def consent_ids(client: TestClient, token: str) -> set[str]:
    r = client.get(f"{API}/consents?limit=100", headers=bearer(token))
    assert r.status_code == 200, r.text
    return {c["consent_id"] for c in r.json()["data"]}


def test_third_party_app_manages_only_its_own_consents(client: TestClient) -> None:
    """Change C-09: budget-app, holding Anna's token, must not see or revoke demo-app's consent."""
    budget = token_for(client, "anna", "consents", client_id="budget-app")
    assert consent_ids(client, budget) == {CNS_ANNA_BUDGET, CNS_ANNA_OLD}
    for method in ("GET", "DELETE"):
        r = client.request(method, f"{API}/consents/{CNS_ANNA_DEMO}", headers=bearer(budget))
        assert (r.status_code, r.json()["code"]) == (404, "RESOURCE_NOT_FOUND"), method
    demo = token_for(client, "anna", "consents")
    mine = client.get(f"{API}/consents/{CNS_ANNA_DEMO}", headers=bearer(demo)).json()
    assert mine["status"] == "authorised"  # untouched by the refused revocation
    # The bank's own app manages every consent of its customer, whichever app it was given to.
    assert {CNS_ANNA_DEMO, CNS_ANNA_BUDGET, CNS_ANNA_OLD} <= consent_ids(client, demo)
    assert client.delete(f"{API}/consents/{CNS_ANNA_BUDGET}", headers=bearer(demo)).status_code == 204


# Every operation a customer token can call, with a request that would otherwise succeed or get 4xx.
CUSTOMER_OPERATIONS = [
    ("GET", "/customers/me", None),
    ("GET", "/accounts", None),
    ("GET", "/payments", None),
    ("GET", "/cards", None),
    ("GET", "/consents", None),
    ("POST", "/consents", {"permissions": ["accounts"]}),
]


def test_a_removed_customers_token_is_401_on_every_operation(
    client: TestClient, container: Container
) -> None:
    """Change C-08 for all operations: before, createConsent answered 500 and the lists 200 and []."""
    token = token_for(client, "vera")
    bootstrap.reset(container.db, history=False)  # vera is gone; her token is still signed and unexpired
    for method, path, body in CUSTOMER_OPERATIONS:
        r = client.request(method, API + path, json=body, headers=bearer(token))
        assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED"), (method, path, r.text)
        assert r.headers["www-authenticate"].startswith("Bearer ")
    payment = {
        "debtor_account_id": ANNA_CURRENT,
        "creditor_account_id": ANNA_SAVINGS,
        "amount": {"amount": "1.00", "currency": "RUB"},
    }
    r = client.post(f"{API}/payments", json=payment, headers=bearer(token, **{"Idempotency-Key": "gone-1"}))
    assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED")


@pytest.mark.parametrize("value", ["\u0663", "+5", "-5", "\uff15", " 5"])
def test_integer_query_parameters_take_ascii_digits_only(client: TestClient, value: str) -> None:
    r = client.get(f"{API}/payments", params={"limit": value}, headers=bearer(token_for(client)))
    assert (r.status_code, r.json()["code"]) == (400, "VALIDATION_FAILED")
    assert [e["pointer"] for e in r.json()["errors"]] == ["#/query/limit"]


def test_a_replayed_refusal_carries_the_retrys_correlation_id(client: TestClient) -> None:
    """Change C-11: body and X-Correlation-ID header of a replay agree (both the retry's)."""
    body = {
        "debtor_account_id": ANNA_CURRENT,
        "creditor_account_id": ANNA_SAVINGS,
        "amount": {"amount": "99999.00", "currency": "RUB"},
    }
    headers = bearer(token_for(client), **{"Idempotency-Key": "refused-cid"})
    first = client.post(f"{API}/payments", json=body, headers=headers)
    second = client.post(f"{API}/payments", json=body, headers=headers)
    assert first.status_code == second.status_code == 422
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json()["correlation_id"] == second.headers["x-correlation-id"]
    assert first.json()["correlation_id"] != second.json()["correlation_id"]
    same = {k: v for k, v in first.json().items() if k != "correlation_id"}
    assert same == {k: v for k, v in second.json().items() if k != "correlation_id"}


@pytest.mark.parametrize("user", ["vera", "gleb"])
def test_history_customers_hold_the_demo_app_consent_the_readme_promises(
    client: TestClient, user: str
) -> None:
    token = token_for(client, user)
    r = client.get(f"{API}/accounts", headers=bearer(token))
    assert r.status_code == 200, r.text
    account = r.json()["data"][0]["account_id"]
    r = client.get(f"{API}/accounts/{account}/transactions?limit=5", headers=bearer(token))
    assert r.status_code == 200 and r.json()["data"], r.text


def test_rate_limit_bucket_is_per_customer_of_an_app(make_container: Callable[..., Container]) -> None:
    """One customer of demo-app exhausting the bucket must not starve another customer of demo-app."""
    container = make_container(rate_limit_rps=0.01, rate_limit_burst=3)
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        anna = bearer(token_for(client, "anna"))
        boris = bearer(token_for(client, "boris"))
        statuses = [client.get(f"{API}/cards", headers=anna).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert client.get(f"{API}/cards", headers=boris).status_code == 200


@pytest.mark.parametrize("backend", ["sqlite"])  # a file lock held by another connection: SQLite only
def test_a_foreign_write_lock_is_503_and_health_stays_up(
    make_container: Callable[..., Container], database_url: str
) -> None:
    """Another process holding SQLite's write lock: liveness answers at once, and a payment with a
    fresh key gets 503 DATABASE_BUSY with Retry-After (not 409 IDEMPOTENCY_KEY_IN_FLIGHT)."""
    container = make_container()  # the default busy timeout (2 s)
    with run_live(container) as server:
        token = token_for(httpx, "anna", base=server.base_url)
        other = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # as another process would: the file's write lock
        try:
            answers: dict[str, httpx.Response] = {}

            def pay() -> None:
                answers["pay"] = httpx.post(
                    f"{server.base_url}{API}/payments",
                    json={
                        "debtor_account_id": ANNA_CURRENT,
                        "creditor_account_id": ANNA_SAVINGS,
                        "amount": {"amount": "1.00", "currency": "RUB"},
                    },
                    headers=bearer(token, **{"Idempotency-Key": str(uuid.uuid4())}),
                    timeout=30,
                )

            payer = threading.Thread(target=pay)
            payer.start()
            time.sleep(0.5)  # the payment is now waiting for the lock
            started = time.monotonic()
            health = httpx.get(f"{server.base_url}/health", timeout=30)
            waited = time.monotonic() - started
            assert health.status_code == 200
            assert waited < 1.5, f"/health took {waited:.1f} s while a transaction waited for the lock"
            payer.join(30)
            # The authorisation server's own lookup (not a bus message) waits for the same lock.
            sign_in = httpx.post(
                f"{server.base_url}{API}/oauth/token",
                data={"grant_type": DEMO_GRANT, "customer": "anna"},
                auth=("demo-app", "demo-app-secret"),
                timeout=30,
            )
        finally:
            other.rollback()
            other.close()
        assert (sign_in.status_code, sign_in.json()["code"]) == (503, "DATABASE_BUSY"), sign_in.text
        assert int(sign_in.headers["retry-after"]) >= 1
        r = answers["pay"]
        assert (r.status_code, r.json()["code"]) == (503, "DATABASE_BUSY"), r.text
        assert int(r.headers["retry-after"]) >= 1
        assert r.headers["content-type"] == "application/problem+json"


# --- a second outside probe (2026-12-03): each test below failed before its fix ----------------------

PAYMENT = {
    "debtor_account_id": ANNA_CURRENT,
    "creditor_account_id": ANNA_SAVINGS,
    "amount": {"amount": "1.00", "currency": "RUB"},
}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("booked_from", "0001-01-01T00:00:00+03:00"),
        ("booked_to", "0001-01-01T00:00:00+00:01"),
        ("booked_from", "9999-12-31T23:59:59-10:00"),
        ("booked_to", "9999-12-31T23:59:59-23:59"),
        ("booked_to", "9999-12-31T21:00:00Z"),
    ],
)
def test_a_date_time_past_the_year_range_in_a_query_is_a_400(
    client: TestClient, name: str, value: str
) -> None:
    r = client.get(
        f"{API}/accounts/{ANNA_CURRENT}/transactions", params={name: value}, headers=bearer(token_for(client))
    )
    assert (r.status_code, r.json()["code"]) == (400, "VALIDATION_FAILED"), r.text
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [(f"#/query/{name}", "OUT_OF_RANGE")]
    assert "0001-01-01T00:00:00Z" in r.json()["errors"][0]["detail"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("transactions_from", "0001-01-01T00:00:00+03:00"),
        ("transactions_to", "9999-12-31T23:59:59-10:00"),
        ("transactions_to", "9999-12-31T23:59:59Z"),  # fits UTC, not the Moscow time a consent is shown in
    ],
)
def test_a_consent_date_past_the_year_range_is_a_400(client: TestClient, name: str, value: str) -> None:
    app_token = token_for(client, None, "consents", client_id="budget-app")
    r = client.post(
        f"{API}/consents", json={"permissions": ["transactions"], name: value}, headers=bearer(app_token)
    )
    assert (r.status_code, r.json()["code"]) == (400, "VALIDATION_FAILED"), r.text
    assert [(e["pointer"], e["code"]) for e in r.json()["errors"]] == [(f"/{name}", "OUT_OF_RANGE")]
    assert client.get(f"{API}/consents", headers=bearer(app_token)).status_code == 200  # nothing kept


def test_a_footprint_from_the_first_day_of_the_calendar_is_answered(client: TestClient) -> None:
    token = token_for(client)
    answers = [
        client.get(
            f"{API}/accounts/{ANNA_CURRENT}/carbon-footprint",
            params={"period_from": day, "period_to": day},
            headers=bearer(token),
        )
        for day in ("0001-01-01", "0001-01-02")
    ]
    assert [a.status_code for a in answers] == [200, 200], answers[0].text


def test_bidi_controls_are_refused_in_assistant_text_and_a_handoff_comment(client: TestClient) -> None:
    token = token_for(client)
    conversation = client.post(
        f"{API}/assistant/conversations", json={"channel": "web", "locale": "en-US"}, headers=bearer(token)
    ).json()["conversation_id"]
    base = f"{API}/assistant/conversations/{conversation}"
    for control in ("\u202e", "\u2066", "\u202a"):
        r = client.post(
            f"{base}/messages", json={"text": f"what is my balance{control}"}, headers=bearer(token)
        )
        assert (r.status_code, r.json()["errors"][0]["pointer"]) == (400, "/text"), r.text
        r = client.post(
            f"{base}/handoff",
            json={"reason": "complaint", "comment": f"bad {control}"},
            headers=bearer(token),
        )
        assert (r.status_code, r.json()["errors"][0]["pointer"]) == (400, "/comment"), r.text
    stored = client.get(f"{base}/messages", headers=bearer(token)).json()["data"]
    assert [m for m in stored if m["role"] == "customer"] == []  # nothing was kept
    ok = client.post(f"{base}/messages", json={"text": "line one\nline two"}, headers=bearer(token))
    assert ok.status_code == 201, ok.text  # line breaks stay allowed in a message


def test_two_idempotency_key_lines_are_refused_like_two_keys_in_one(client: TestClient) -> None:
    token = token_for(client)
    before = client.get(f"{API}/payments?limit=100", headers=bearer(token)).json()["data"]
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    headers = [("Authorization", f"Bearer {token}"), ("Idempotency-Key", first), ("Idempotency-Key", second)]
    r = client.post(f"{API}/payments", json=PAYMENT, headers=headers)
    assert (r.status_code, r.json()["code"]) == (400, "VALIDATION_FAILED"), r.text
    one_line = bearer(token, **{"Idempotency-Key": f"{first}, {second}"})
    assert client.post(f"{API}/payments", json=PAYMENT, headers=one_line).status_code == 400
    after = client.get(f"{API}/payments?limit=100", headers=bearer(token)).json()["data"]
    assert after == before  # nothing booked


def test_two_authorization_lines_are_unauthenticated(client: TestClient) -> None:
    anna, boris = token_for(client, "anna"), token_for(client, "boris")
    headers = [("Authorization", f"Bearer {anna}"), ("Authorization", f"Bearer {boris}")]
    r = client.get(f"{API}/accounts", headers=headers)
    assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED"), r.text


@pytest.mark.parametrize("coding", ["gzip", "br", "gzip, identity"])
def test_a_compressed_body_is_415_naming_what_is_taken(client: TestClient, coding: str) -> None:
    headers = bearer(token_for(client), **{"Idempotency-Key": str(uuid.uuid4()), "Content-Encoding": coding})
    r = client.post(f"{API}/payments", json=PAYMENT, headers=headers)
    assert (r.status_code, r.json()["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE"), r.text
    assert r.headers["accept-encoding"] == "identity"
    plain = bearer(
        token_for(client), **{"Idempotency-Key": str(uuid.uuid4()), "Content-Encoding": "identity"}
    )
    assert client.post(f"{API}/payments", json=PAYMENT, headers=plain).status_code == 201


def _payment_server_errors(base_url: str) -> float:
    metrics = httpx.get(f"{base_url}/metrics", timeout=10).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("futurebank_http_errors_total{")
        and 'operation_id="createPayment"' in line
        and 'http_response_status_code="500"' in line
    )


def test_a_client_that_leaves_mid_body_is_not_a_server_error(
    make_container: Callable[..., Container],
) -> None:
    """An aborted upload or a broken chunked body counted as 500 of createPayment: any client could
    push the payment error rate, which the SLOs and the rollout gates watch, up to a rollback."""
    with run_live(make_container()) as server:
        token = token_for(httpx, "anna", base=server.base_url).encode()
        host, port = server.base_url.removeprefix("http://").split(":")
        head = b"POST /api/v1/payments HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token
        head += b"\r\nContent-Type: application/json\r\n"
        with socket.create_connection((host, int(port))) as sock:
            sock.sendall(head + b'Idempotency-Key: left-1\r\nContent-Length: 100\r\n\r\n{"debtor')
            time.sleep(0.5)
        with socket.create_connection((host, int(port))) as sock:
            chunked = b"Idempotency-Key: left-2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            sock.sendall(head + chunked + b"zz\r\n{}\r\n0\r\n\r\n")
            assert sock.recv(12).startswith(b"HTTP/1.1 400")
        time.sleep(0.5)
        assert _payment_server_errors(server.base_url) == 0
