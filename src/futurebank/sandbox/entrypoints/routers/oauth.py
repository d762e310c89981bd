"""Development authorisation server (sandbox only; not part of the contract's paths).

POST /oauth/token grants (RFC 6749 form posts, client authentication by HTTP Basic or form fields):

* ``client_credentials`` - a token for the client app itself (consents it created, no customer data).
  A staff client (``Settings.staff_clients``, the support agents' desk) gets the scope ``agent`` this
  way and only this way: the handoff queue and transcripts, never a customer's accounts.
* ``authorization_code`` with PKCE (S256) - after ``GET /oauth/authorize``, a dev sign-in page that
  lets you pick a demo customer; this is the contract's authorizationCode flow, used by the console.
* ``urn:futurebank:params:oauth:grant-type:demo-customer`` with ``customer=<username>`` - a
  dev-only shortcut for scripts: a token for a demo customer without the browser round trip.
  With ``consent_id=<id>`` it also authorises that client-created consent for the customer.

The password grant is refused: OAuth 2.1 removes it. Errors use RFC 6749's JSON error format.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import re
import secrets
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import yaml
from fastapi import APIRouter, Depends
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from futurebank.sandbox.domain.commands import AuthoriseConsent
from futurebank.sandbox.domain.errors import DomainError
from futurebank.sandbox.entrypoints.deps import AuthCode, Container, container, correlation_id
from futurebank.sandbox.service_layer import handlers as h
from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

router = APIRouter()

DEMO_GRANT = "urn:futurebank:params:oauth:grant-type:demo-customer"
CONTRACT = Path(__file__).resolve().parents[5] / "docs" / "api" / "openapi.yaml"


def contract_scopes(contract: Path = CONTRACT) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The scopes the contract's OAuth2 flows grant: (authorization code, client credentials).

    Read from the contract file so the sandbox cannot drift from it. The client credentials flow
    lists only the scopes a client app may hold for itself.
    """
    flows = yaml.safe_load(contract.read_text(encoding="utf-8"))["components"]["securitySchemes"]["oauth2"][
        "flows"
    ]
    return tuple(flows["authorizationCode"]["scopes"]), tuple(flows["clientCredentials"]["scopes"])


# Scopes only the bank's staff clients (``Settings.staff_clients``) are given, by client credentials.
STAFF_SCOPES = ("agent",)
ALL_SCOPES, _CONTRACT_CLIENT_SCOPES = contract_scopes()
CLIENT_SCOPES = tuple(s for s in _CONTRACT_CLIENT_SCOPES if s not in STAFF_SCOPES)
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_DESCRIPTION_UNSAFE = re.compile(r"[^\x20\x21\x23-\x5B\x5D-\x7E]")
# RFC 6749 3.3: scope = scope-token *( SP scope-token ), a token being visible ASCII but " and \.
_SCOPE = re.compile(r"[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*")
# RFC 7636 4.1 and 4.2: a verifier is 43 to 128 unreserved characters; an S256 challenge is the
# 43-character base64url (no padding) of its SHA-256.
_PKCE_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_PKCE_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status

    def response(self) -> JSONResponse:
        headers = dict(_NO_STORE)
        if self.status == 401:
            headers["WWW-Authenticate"] = 'Basic realm="futurebank"'
        # RFC 6749 5.2: error_description holds %x20-21 / %x23-5B / %x5D-7E only; an echoed value
        # with other characters (non-ASCII, quotes, backslashes) is shown with "?" in their place.
        description = _DESCRIPTION_UNSAFE.sub("?", self.description)
        return JSONResponse(
            {"error": self.error, "error_description": description}, self.status, headers=headers
        )


async def _form(request: Request) -> dict[str, str]:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "send the parameters as application/x-www-form-urlencoded")
    codings = [c.strip().lower() for c in ",".join(request.headers.getlist("content-encoding")).split(",")]
    if any(coding and coding != "identity" for coding in codings):
        raise OAuthError("invalid_request", "send the form without a Content-Encoding")
    try:
        pairs = parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True)
    except ClientDisconnect:  # the client left mid-body: its fault, not the server's
        raise OAuthError("invalid_request", "the request body ended before it was complete") from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise OAuthError("invalid_request", "the form is not valid UTF-8 url-encoded data") from exc
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise OAuthError("invalid_request", f"parameter {key} repeated")
        form[key] = value
    return form


def _client(c: Container, request: Request, form: dict[str, str], secret_required: bool = True) -> str:
    """The authenticated client. ``secret_required=False`` lets the bank's own apps, which run on the
    customer's device as public clients (PKCE instead of a secret), omit it; every other client was
    given a secret and must use it (RFC 6749 4.1.3)."""
    client_id, secret = form.get("client_id"), form.get("client_secret")
    headers = request.headers.getlist("authorization")
    if len(headers) > 1:
        raise OAuthError("invalid_request", "send one Authorization header")
    header = headers[0] if headers else ""
    if header[:6].lower() == "basic ":
        if secret is not None:  # RFC 6749 2.3: one authentication method per request
            raise OAuthError("invalid_request", "authenticate with Basic credentials or the form, not both")
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
            basic_id, _, basic_secret = decoded.partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise OAuthError("invalid_client", "malformed Basic credentials", 401) from exc
        if client_id is not None and client_id != basic_id:
            raise OAuthError("invalid_request", "client_id differs from the Basic credentials")
        client_id, secret = basic_id, basic_secret
    if not client_id or client_id not in c.settings.clients:
        raise OAuthError("invalid_client", "unknown client", 401)
    public = not secret_required and client_id in c.settings.first_party_clients
    if (not public or secret) and not secrets.compare_digest(secret or "", c.settings.clients[client_id]):
        raise OAuthError("invalid_client", "wrong or missing client secret", 401)
    return client_id


def _scopes(form: dict[str, str], allowed: tuple[str, ...]) -> list[str]:
    text = form.get("scope", "")
    if not text:
        return list(allowed)
    if not _SCOPE.fullmatch(text):
        raise OAuthError("invalid_scope", "scope must be scope tokens separated by single spaces")
    requested = text.split(" ")
    bad = [s for s in requested if s not in allowed]
    if bad:
        raise OAuthError("invalid_scope", f"not available for this grant: {' '.join(bad)}")
    return [s for s in allowed if s in requested]


def _token_response(c: Container, client_id: str, customer_id: str | None, scopes: list[str]) -> JSONResponse:
    token, ttl = c.tokens.issue(client_id, customer_id, scopes)
    body: dict[str, Any] = {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": ttl,
        "scope": " ".join(scopes),
    }
    return JSONResponse(body, headers=_NO_STORE)


async def _customer_id(c: Container, username: str) -> str:
    customer = await c.call(lambda uow: uow.customers.by_username(username))
    if customer is None:
        raise OAuthError("invalid_grant", f"no demo customer called {username!r}")
    return customer.id


@router.post("/oauth/token", name="oauthToken", include_in_schema=False)
async def token(request: Request) -> Response:
    c = container(request)
    try:
        form = await _form(request)
        grant = form.get("grant_type", "")
        if not grant:
            raise OAuthError("invalid_request", "grant_type is missing")
        if grant == "client_credentials":
            client_id = _client(c, request, form)
            allowed = STAFF_SCOPES if client_id in c.settings.staff_clients else CLIENT_SCOPES
            return _token_response(c, client_id, None, _scopes(form, allowed))
        if grant == DEMO_GRANT:
            client_id = _customer_client(c, _client(c, request, form))
            customer_id = await _customer_id(c, form.get("customer", ""))
            scopes = _scopes(form, ALL_SCOPES)
            if form.get("consent_id"):
                await _authorise_consent(c, request, client_id, customer_id, form["consent_id"])
            return _token_response(c, client_id, customer_id, scopes)
        if grant == "authorization_code":
            return await _exchange_code(c, request, form)
        if grant == "password":
            raise OAuthError("unsupported_grant_type", "the password grant is not allowed (OAuth 2.1)")
        raise OAuthError(
            "unsupported_grant_type",
            f"grant_type must be client_credentials, authorization_code or {DEMO_GRANT}",
        )
    except OAuthError as err:
        return err.response()


async def _authorise_consent(
    c: Container, request: Request, client_id: str, customer_id: str, consent_id: str
) -> None:
    actor = h.Actor(client_id, customer_id, correlation_id(request))
    try:
        await c.handle(AuthoriseConsent(consent_id.lower()), actor)
    except DomainError as exc:
        raise OAuthError("invalid_grant", f"consent {consent_id}: {exc.detail}") from exc


def _customer_client(c: Container, client_id: str) -> str:
    """A staff client never acts for a customer: its tokens must not read customers' accounts."""
    if client_id in c.settings.staff_clients:
        raise OAuthError("unauthorized_client", "a staff client gets client credentials tokens only")
    return client_id


async def _exchange_code(c: Container, request: Request, form: dict[str, str]) -> Response:
    client_id = _customer_client(c, _client(c, request, form, secret_required=False))
    code = c.auth_codes.pop(form.get("code", ""), None)
    if code is None or code.expires_at < time.time() or code.client_id != client_id:
        raise OAuthError("invalid_grant", "unknown, used or expired authorization code")
    if form.get("redirect_uri") != code.redirect_uri:  # RFC 6749 4.1.3: required, and the same
        raise OAuthError("invalid_grant", "redirect_uri is missing or differs from the authorization request")
    verifier = form.get("code_verifier", "")
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    if not _PKCE_VERIFIER.fullmatch(verifier) or not secrets.compare_digest(digest, code.code_challenge):
        raise OAuthError("invalid_grant", "PKCE code_verifier does not match the code_challenge")
    return _token_response(c, client_id, code.customer_id, code.scopes)


def _safe_redirect(uri: str) -> bool:
    """Dev server: only same-origin paths or loopback hosts may receive codes."""
    parts = urlsplit(uri)
    if "#" in uri or "\\" in uri:  # RFC 6749 3.1.2: no fragment; a backslash is no URI character
        return False
    if not parts.scheme and not parts.netloc and uri.startswith("/"):
        return True
    return parts.scheme in ("http", "https") and parts.hostname in ("127.0.0.1", "localhost", "::1")


@router.get("/oauth/authorize", name="oauthAuthorize", include_in_schema=False)
async def authorize_page(request: Request) -> Response:
    c = container(request)
    q = request.query_params
    problems = []
    repeated = sorted({k for k in q if len(q.getlist(k)) > 1})
    if repeated:  # RFC 6749 3.1: a parameter must not be included more than once
        problems.append(f"repeated parameters: {', '.join(repeated)}")
    if q.get("response_type") != "code":
        problems.append("response_type must be code")
    if q.get("client_id") not in c.settings.clients:
        problems.append("unknown client_id")
    elif q.get("client_id") in c.settings.staff_clients:
        problems.append("a staff client gets client credentials tokens only")
    if not _safe_redirect(q.get("redirect_uri", "")):
        problems.append("redirect_uri must be a loopback or same-origin URL")
    if q.get("code_challenge_method") != "S256" or not _PKCE_CHALLENGE.fullmatch(q.get("code_challenge", "")):
        problems.append("PKCE with code_challenge_method=S256 and a 43-character code_challenge is required")
    try:
        _scopes({"scope": q.get("scope", "")}, ALL_SCOPES)
    except OAuthError as err:
        problems.append(err.description)
    if problems:
        return HTMLResponse(_page("Cannot sign in", "<p>" + html.escape("; ".join(problems)) + "</p>"), 400)
    customers = await c.call(lambda uow: list_demo_customers(uow))
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in q.items()
        if k in ("client_id", "redirect_uri", "scope", "state", "code_challenge")
    )
    options = "".join(
        f'<label><input type="radio" name="customer" value="{html.escape(u)}"{" checked" if i == 0 else ""}> '
        f"{html.escape(u)} ({html.escape(n)})</label><br>"
        for i, (u, n) in enumerate(customers)
    )
    body = (
        f"<p>Development sign-in for <b>{html.escape(q.get('client_id', ''))}</b>. Pick a demo customer; "
        "no password is asked (sandbox only).</p>"
        f'<form method="post" action="authorize">{hidden}{options}'
        '<p><button type="submit">Approve</button></p></form>'
    )
    return HTMLResponse(_page("Sign in to futurebank sandbox", body))


def list_demo_customers(uow: UnitOfWork) -> list[tuple[str, str]]:
    return [(cu.username, cu.full_name) for cu in uow.customers.all()]


@router.post("/oauth/authorize", name="oauthApprove", include_in_schema=False)
async def authorize_approve(request: Request, c: Annotated[Container, Depends(container)]) -> Response:
    try:
        form = await _form(request)
        client_id = form.get("client_id", "")
        redirect_uri = form.get("redirect_uri", "")
        if (
            client_id not in c.settings.clients
            or client_id in c.settings.staff_clients
            or not _safe_redirect(redirect_uri)
            or not _PKCE_CHALLENGE.fullmatch(form.get("code_challenge", ""))
        ):
            raise OAuthError("invalid_request", "bad authorization request")
        scopes = _scopes(form, ALL_SCOPES)
        customer_id = await _customer_id(c, form.get("customer", ""))
    except OAuthError as err:
        return HTMLResponse(_page("Cannot sign in", f"<p>{html.escape(err.description)}</p>"), 400)
    code = secrets.token_urlsafe(24)
    now = time.time()
    for stale in [k for k, v in c.auth_codes.items() if v.expires_at < now]:
        c.auth_codes.pop(stale, None)
    c.auth_codes[code] = AuthCode(
        client_id, customer_id, scopes, redirect_uri, form["code_challenge"], now + 120
    )
    params = {"code": code}
    if form.get("state"):
        params["state"] = form["state"]
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(redirect_uri + separator + urlencode(params), status_code=303)


@router.get("/oauth/jwks", name="oauthJwks", include_in_schema=False)
async def jwks(request: Request) -> Response:
    return JSONResponse(container(request).tokens.jwks())


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font:16px system-ui,sans-serif;max-width:40em;margin:3em auto}</style>"
        f"<h1>{html.escape(title)}</h1>{body}</html>"
    )
