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


# --- found by an outside probe (2026-12-03); each failed before its fix ------------------------------


def _code_for(
    client: TestClient, client_id: str, redirect_uri: str = "http://127.0.0.1/callback"
) -> tuple[str, str]:
    """An authorization code for Anna and its PKCE verifier."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    form = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": "accounts:read",
        "state": "s",
        "code_challenge": challenge,
        "customer": "anna",
    }
    approved = client.post("/api/v1/oauth/authorize", data=form, follow_redirects=False)
    assert approved.status_code == 303, approved.text
    return parse_qs(urlsplit(approved.headers["location"]).query)["code"][0], verifier


def _exchange(code: str, verifier: str, **extra: str) -> dict[str, str]:
    base = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
    return {**base, "redirect_uri": "http://127.0.0.1/callback", **extra}


def test_a_client_given_a_secret_must_use_it_to_redeem_a_code(client: TestClient) -> None:
    """RFC 6749 4.1.3: budget-app (third party, confidential) redeemed its code with no secret."""
    code, verifier = _code_for(client, "budget-app")
    r = client.post(TOKEN, data=_exchange(code, verifier, client_id="budget-app"))
    assert (r.status_code, r.json()["error"]) == (401, "invalid_client")
    # The bank's own app runs on the customer's device as a public client: PKCE stands in for a secret.
    code, verifier = _code_for(client, "demo-app")
    assert client.post(TOKEN, data=_exchange(code, verifier, client_id="demo-app")).status_code == 200


def test_a_code_exchange_needs_the_redirect_uri_of_its_request(client: TestClient) -> None:
    code, verifier = _code_for(client, "demo-app")
    form = {k: v for k, v in _exchange(code, verifier, client_id="demo-app").items() if k != "redirect_uri"}
    r = client.post(TOKEN, data=form)
    assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")


def test_pkce_values_follow_rfc_7636(client: TestClient) -> None:
    page = client.get(
        "/api/v1/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": "demo-app",
            "redirect_uri": "/console/x",
            "code_challenge": "x",
            "code_challenge_method": "S256",
        },
    )
    assert page.status_code == 400 and "43-character code_challenge" in page.text
    verifier = "short"
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    approved = client.post(
        "/api/v1/oauth/authorize",
        data={"client_id": "demo-app", "redirect_uri": "http://127.0.0.1/callback", "state": "s"}
        | {"code_challenge": challenge, "customer": "anna"},
        follow_redirects=False,
    )
    code = parse_qs(urlsplit(approved.headers["location"]).query)["code"][0]
    r = client.post(TOKEN, data=_exchange(code, verifier, client_id="demo-app"))
    assert (r.status_code, r.json()["error"]) == (400, "invalid_grant")  # a 5-character verifier


@pytest.mark.parametrize(
    "uri", ["http://127.0.0.1:9/cb#frag", "/\\evil.example", "http://evil\\@127.0.0.1/cb"]
)
def test_a_redirect_uri_with_a_fragment_or_backslash_is_refused(client: TestClient, uri: str) -> None:
    page = client.get(
        "/api/v1/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": "demo-app",
            "redirect_uri": uri,
            "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
            "code_challenge_method": "S256",
        },
    )
    assert page.status_code == 400 and "redirect_uri" in page.text


@pytest.mark.parametrize(
    "scope",
    [
        "consents\taccounts:read",
        "consents\naccounts:read",
        "consents  accounts:read",
        "consents\u00a0accounts:read",
        " consents",
    ],
)
def test_scopes_are_separated_by_single_spaces_only(client: TestClient, scope: str) -> None:
    r = client.post(
        TOKEN,
        data={"grant_type": "client_credentials", "scope": scope},
        auth=("budget-app", "budget-app-secret"),
    )
    assert (r.status_code, r.json()["error"]) == (400, "invalid_scope"), r.text


def test_the_authorization_page_refuses_repeated_parameters(client: TestClient) -> None:
    query = (
        "response_type=code&client_id=demo-app&client_id=budget-app&redirect_uri=/console/x"
        "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
    )
    page = client.get("/api/v1/oauth/authorize?" + query)
    assert page.status_code == 400 and "repeated parameters: client_id" in page.text


def test_one_client_authentication_method_per_request(client: TestClient) -> None:
    form = {"grant_type": "client_credentials", "client_id": "budget-app", "client_secret": "WRONG"}
    r = client.post(TOKEN, data=form, auth=("demo-app", "demo-app-secret"))
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request"), r.text


def test_a_missing_grant_type_is_an_invalid_request(client: TestClient) -> None:
    r = client.post(TOKEN, data={"scope": "consents"}, auth=("budget-app", "budget-app-secret"))
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")


def test_error_descriptions_hold_only_the_characters_rfc_6749_allows(client: TestClient) -> None:
    r = client.post(
        TOKEN, data={"grant_type": DEMO_GRANT, "customer": 'é"\\'}, auth=("demo-app", "demo-app-secret")
    )
    description = r.json()["error_description"]
    assert r.json()["error"] == "invalid_grant"
    assert all(
        ch == " " or ch == "!" or 0x23 <= ord(ch) <= 0x5B or 0x5D <= ord(ch) <= 0x7E for ch in description
    )


def test_the_token_endpoint_refuses_a_content_coding(client: TestClient) -> None:
    r = client.post(
        TOKEN,
        content=b"grant_type=client_credentials",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Content-Encoding": "gzip"},
        auth=("budget-app", "budget-app-secret"),
    )
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")
