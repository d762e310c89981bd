"""Defects found by probing the running sandbox at its HTTP edge (issue 7, item 5): the token
endpoint's per-peer rate limit, duplicate JSON members, bidi controls in free text, validation
messages in words, and a raw non-ASCII request target."""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sandbox_helpers import (
    ANNA_CURRENT,
    ANNA_SAVINGS,
    BORIS_CURRENT,
    DEMO_GRANT,
    bearer,
    free_port,
    token_for,
)
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


def _raw_exchange(base_url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send bytes as they are (no client library would send a raw non-ASCII target)."""
    host, port = base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(request)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in header_lines)}
    return int(status_line.split()[1]), headers, body


@contextlib.contextmanager
def _sandbox_process(database_url: str, tmp_path: Path) -> Iterator[str]:
    """``python -m futurebank.sandbox serve`` on a free port: the server as operators start it."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SANDBOX_DATA_DIR": str(tmp_path / "data"),
        "SANDBOX_SEED": "0",
        "SANDBOX_ACCESS_LOG": "0",
    }
    env.pop("SANDBOX_ISSUER", None)
    command = [sys.executable, "-m", "futurebank.sandbox", "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    stderr = process.stderr.read().decode() if process.stderr else ""
                    pytest.fail(f"the sandbox did not start: {stderr[-2000:]}", pytrace=False)
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)


UNPARSEABLE = [
    (b"GET /api/v1/accounts/\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n", "/api/v1/accounts/%C3%A9", "ASCII"),
    (b"GET /api/v1/accounts?q=\xd0\xb9 HTTP/1.1\r\nHost: x\r\n\r\n", "/api/v1/accounts?q=%D0%B9", "ASCII"),
    (b"GET /api/v1/accounts HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n", "/api/v1/accounts", "HTTP/1.1"),
]


def test_an_unparseable_request_gets_a_problem_not_plain_text(database_url: str, tmp_path: Path) -> None:
    with _sandbox_process(database_url, tmp_path) as base_url:
        for request_bytes, instance, words in UNPARSEABLE:
            status, headers, body = _raw_exchange(base_url, request_bytes)
            assert status == 400, request_bytes
            assert headers["content-type"] == "application/problem+json", (request_bytes, body)
            problem = json.loads(body)
            assert problem["code"] == "VALIDATION_FAILED" and problem["status"] == 400
            assert problem["instance"] == instance and words in problem["detail"], problem
            assert problem["correlation_id"] == headers["x-correlation-id"]
            assert headers["x-content-type-options"] == "nosniff"
        # a good request still gets its answer
        ok, _, _ = _raw_exchange(base_url, b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert ok == 200


def test_make_run_serves_with_the_problem_protocol(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from futurebank import serve
    from futurebank.sandbox.entrypoints.http_server import HTTP_PROTOCOL

    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>spec</title>", encoding="utf-8")
    started: dict[str, Any] = {}
    monkeypatch.setattr(serve, "build_app", lambda *args: object())
    monkeypatch.setattr("uvicorn.run", lambda app, **kwargs: started.update(kwargs))
    assert serve.main(["--site", str(site), "--port", str(free_port())]) == 0
    assert started["http"] is HTTP_PROTOCOL
