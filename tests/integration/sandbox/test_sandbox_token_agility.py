"""Crypto-agility through the running app (ADR-0017, NFR-0016): each configured signing algorithm
issues tokens the API accepts, the JWKS route publishes the current and the previous key, a change of
algorithm keeps live tokens working, and a key no longer published is refused. Also the probe's
malformed claims in tokens signed with the server's own key (issue 7, item 5)."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from typing import Any

import pytest
from sandbox_helpers import DEMO_GRANT, bearer
from starlette.testclient import TestClient

from futurebank.sandbox.adapters.tokens import SUPPORTED_ALGORITHMS
from futurebank.sandbox.entrypoints.app import create_app
from futurebank.sandbox.entrypoints.deps import Container

ME = "/api/v1/customers/me"
JWKS = "/api/v1/oauth/jwks"


def customer_token(client: TestClient) -> str:
    r = client.post(
        "/api/v1/oauth/token",
        data={"grant_type": DEMO_GRANT, "customer": "anna"},
        auth=("demo-app", "demo-app-secret"),
    )
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def test_every_algorithm_and_a_rotation_across_them(make_container: Callable[..., Container]) -> None:
    live: list[tuple[str, str]] = []  # (algorithm, token) issued before the next restart
    for alg in SUPPORTED_ALGORITHMS:  # each step is a restart with SANDBOX_TOKEN_ALG changed
        container = make_container(token_alg=alg)
        with TestClient(create_app(container), raise_server_exceptions=False) as client:
            published = client.get(JWKS).json()["keys"]
            assert [k["alg"] for k in published] == [alg, *[a for a, _ in live[-1:]]]
            token = customer_token(client)
            assert client.get(ME, headers=bearer(token)).status_code == 200
            if live:  # the token of the previous algorithm is still accepted after the rotation
                assert client.get(ME, headers=bearer(live[-1][1])).status_code == 200
            if len(live) >= 2:  # the one before that was signed by a key no longer published
                r = client.get(ME, headers=bearer(live[-2][1]))
                assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED")
            live.append((alg, token))


def test_rotation_in_a_running_server(container: Container, client: TestClient) -> None:
    old = customer_token(client)
    container.tokens.rotate()
    assert len(client.get(JWKS).json()["keys"]) == 2
    assert client.get(ME, headers=bearer(old)).status_code == 200
    container.tokens.rotate()
    assert client.get(ME, headers=bearer(old)).status_code == 401
    assert client.get(ME, headers=bearer(customer_token(client))).status_code == 200


def _crafted(container: Container, **changes: Any) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": container.settings.issuer,
        "aud": container.settings.audience,
        "sub": "10000000-0000-4000-8000-000000000001",
        "customer_id": "10000000-0000-4000-8000-000000000001",
        "client_id": "demo-app",
        "scope": "profile:read",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "5b0c3b8e-9a8e-4b7e-8f7e-3c2d1a0b9f10",
        **changes,
    }
    return container.tokens.sign(claims)


@pytest.mark.parametrize(
    "changes",
    [{"exp": str(int(time.time()) + 600)}, {"exp": 1e20}, {"client_id": "rogue-app"}],
    ids=["exp-as-string", "exp-1e20", "unregistered-client"],
)
def test_probe_claims_signed_with_the_servers_key_get_401(
    container: Container, client: TestClient, changes: dict[str, Any]
) -> None:
    assert client.get(ME, headers=bearer(_crafted(container))).status_code == 200  # the twin is fine
    r = client.get(ME, headers=bearer(_crafted(container, **changes)))
    assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED")
    assert 'error="invalid_token"' in r.headers["www-authenticate"]


def test_hostile_tokens_get_401_not_500(container: Container, client: TestClient) -> None:
    kid = container.tokens.keys.current.kid
    valid_head = container.tokens.sign({}).split(".")[0]
    nested = base64.urlsafe_b64encode(b"[" * 11_000).rstrip(b"=").decode()
    for token in (f"{valid_head}.\u00e9.AA", f"{nested}.e30.AA", f"{valid_head}.e30.", kid):
        r = client.get(ME, headers={"Authorization": f"Bearer {token}".encode()})
        assert (r.status_code, r.json()["code"]) == (401, "UNAUTHENTICATED"), token[:40]
