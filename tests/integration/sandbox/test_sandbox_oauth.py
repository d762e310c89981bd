"""The development authorisation server: its grants, PKCE, and what it refuses."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
from sandbox_helpers import DEMO_GRANT, bearer
from starlette.testclient import TestClient

TOKEN = "/api/v1/oauth/token"


def test_authorization_code_with_pkce(client: TestClient) -> None:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    request = {
        "response_type": "code",
        "client_id": "budget-app",
        "redirect_uri": "http://127.0.0.1/callback",
        "scope": "accounts:read",
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = client.get("/api/v1/oauth/authorize", params=request)
    assert page.status_code == 200 and "anna" in page.text
    form = {k: request[k] for k in ("client_id", "redirect_uri", "scope", "state", "code_challenge")}
    approved = client.post(
        "/api/v1/oauth/authorize", data={**form, "customer": "anna"}, follow_redirects=False
    )
    assert approved.status_code == 303
    query = parse_qs(urlsplit(approved.headers["location"]).query)
    assert query["state"] == ["s1"]
    exchange = {
        "grant_type": "authorization_code",
        "code": query["code"][0],
        "redirect_uri": request["redirect_uri"],
    }
    wrong = client.post(
        TOKEN, data={**exchange, "code_verifier": "wrong"}, auth=("budget-app", "budget-app-secret")
    )
    assert wrong.json()["error"] == "invalid_grant"  # and the code is now used up
    page = client.get("/api/v1/oauth/authorize", params=request)
    approved = client.post(
        "/api/v1/oauth/authorize", data={**form, "customer": "anna"}, follow_redirects=False
    )
    code = parse_qs(urlsplit(approved.headers["location"]).query)["code"][0]
    token = client.post(
        TOKEN,
        data={**exchange, "code": code, "code_verifier": verifier},
        auth=("budget-app", "budget-app-secret"),
    )
    assert token.status_code == 200 and token.json()["scope"] == "accounts:read"
    assert token.headers["cache-control"] == "no-store"
    # budget-app holds Anna's consent for accounts: the token reads them.
    assert client.get("/api/v1/accounts", headers=bearer(token.json()["access_token"])).status_code == 200


@pytest.mark.parametrize(
    ("form", "auth", "status", "error"),
    [
        (
            {"grant_type": "password", "username": "anna", "password": "x"},
            ("demo-app", "demo-app-secret"),
            400,
            "unsupported_grant_type",
        ),
        ({"grant_type": "client_credentials"}, ("demo-app", "wrong"), 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, ("nobody", "x"), 401, "invalid_client"),
        (
            {"grant_type": "client_credentials", "scope": "payments:write"},
            ("demo-app", "demo-app-secret"),
            400,
            "invalid_scope",
        ),
        (
            {"grant_type": DEMO_GRANT, "customer": "nobody"},
            ("demo-app", "demo-app-secret"),
            400,
            "invalid_grant",
        ),
        (
            {"grant_type": DEMO_GRANT, "customer": "anna", "scope": "root"},
            ("demo-app", "demo-app-secret"),
            400,
            "invalid_scope",
        ),
    ],
)
def test_refusals(
    client: TestClient, form: dict[str, str], auth: tuple[str, str], status: int, error: str
) -> None:
    r = client.post(TOKEN, data=form, auth=auth)
    assert (r.status_code, r.json()["error"]) == (status, error)


def test_client_credentials_token_acts_for_no_customer(client: TestClient) -> None:
    token = client.post(
        TOKEN, data={"grant_type": "client_credentials"}, auth=("demo-app", "demo-app-secret")
    ).json()
    assert set(token["scope"].split()) == {
        "consents",
        "accounts:read",
        "transactions:read",
        "sustainability:read",
    }
    r = client.get("/api/v1/customers/me", headers=bearer(token["access_token"]))
    assert (r.status_code, r.json()["code"]) == (403, "INSUFFICIENT_SCOPE")


def test_jwks_and_token_signature(client: TestClient) -> None:
    keys = client.get("/api/v1/oauth/jwks").json()["keys"]
    assert keys[0]["alg"] == "ES256" and "d" not in keys[0]
    token = client.post(
        TOKEN, data={"grant_type": DEMO_GRANT, "customer": "anna"}, auth=("demo-app", "demo-app-secret")
    ).json()["access_token"]
    header, claims, signature = token.split(".")
    tampered = f"{header}.{claims[:-2]}AA.{signature}"
    assert client.get("/api/v1/accounts", headers=bearer(tampered)).status_code == 401
