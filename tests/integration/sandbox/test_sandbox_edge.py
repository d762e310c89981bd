"""Defects found by probing the running sandbox at its HTTP edge (issue 7, item 5): the token
endpoint's per-peer rate limit, duplicate JSON members, bidi controls in free text, validation
messages in words, and a raw non-ASCII request target."""

from __future__ import annotations

from collections.abc import Callable

from sandbox_helpers import DEMO_GRANT, bearer, token_for
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
