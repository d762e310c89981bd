"""Every scenario of docs/stories/features, run against the sandbox over HTTP.

The step definitions implement the vocabulary of docs/stories/steps.md. Each one is bound to the
regular expression the spec checker itself uses (``futurebank.spec.stories.VOCABULARY``), so a step
matches here exactly when the build accepts it. Requests go to the running sandbox (see conftest.py);
paths in steps are relative to the contract's server URL ``/api/v1``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from pytest_bdd import parsers, scenarios, step

from futurebank.spec.stories import PLACEHOLDER, VOCABULARY, load_seed

if TYPE_CHECKING:
    from conftest import Sandbox

FEATURES = Path(__file__).resolve().parents[2] / "docs" / "stories" / "features"
SEED = FEATURES.parent / "seed.yaml"
REDIRECT_URI = "http://127.0.0.1/acceptance/callback"  # never called: the code is read from Location
PROBLEM_MEDIA_TYPE = "application/problem+json"
# The vocabulary names balances by kind; the contract uses ISO 20022 balance type codes.
BALANCE_TYPES = {
    "booked": "ITBD",
    "available": "ITAV",
    "closing booked": "CLBD",
    "opening booked": "OPBD",
}
UUID_TEXT = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
MISSING = object()

scenarios(str(FEATURES))

F = TypeVar("F", bound=Callable[..., Any])
_PATTERNS = {p.key: p for p in VOCABULARY}


def vocab(key: str) -> Callable[[F], F]:
    """Bind a step definition to the vocabulary entry ``key`` (any keyword: Given, When, Then)."""
    return step(parsers.re(_PATTERNS[key].regex.pattern))


# ----------------------------------------------------------------------------------------------
# The scenario's state


@dataclass
class Caller:
    client_id: str
    customer: str | None  # seed alias of the customer the token acts for
    token: str | None


@dataclass(frozen=True)
class SentRequest:
    method: str
    url: str
    headers: dict[str, str]
    content: bytes | None


class World:
    """One scenario: the caller, the last request and response, and the values saved so far."""

    def __init__(self, sandbox: Sandbox, aliases: dict[str, str], usernames: dict[str, str]) -> None:
        self.sandbox = sandbox
        self.aliases = aliases
        self.usernames = usernames
        self.http = httpx.Client(base_url=sandbox.base_url, timeout=15.0, follow_redirects=False)
        self.saved: dict[str, str] = {}
        self.caller: Caller | None = None
        self.sent: SentRequest | None = None
        self._response: httpx.Response | None = None

    def close(self) -> None:
        self.http.close()

    # -- placeholders ----------------------------------------------------------------------

    def resolve(self, text: str) -> str:
        """Replace {name} by a value saved earlier in the scenario, else by a seed alias's id."""

        def one(match: re.Match[str]) -> str:
            name = match[1]
            if name in self.saved:
                return self.saved[name]
            if name in self.aliases:
                return self.aliases[name]
            pytest.fail(f"{{{name}}} is neither saved earlier in the scenario nor a seed alias")

        return PLACEHOLDER.sub(one, text)

    # -- tokens from the sandbox's development authorisation server -------------------------

    def _secret(self, client_id: str) -> str:
        if client_id not in self.sandbox.clients:
            pytest.fail(f"{client_id!r} is not a client app of the sandbox's authorisation server")
        return self.sandbox.clients[client_id]

    def _username(self, customer: str) -> str:
        if customer not in self.usernames:
            pytest.fail(f"{customer!r} is not a customer alias of docs/stories/seed.yaml")
        return self.usernames[customer]

    def _token(self, response: httpx.Response, what: str) -> str:
        if response.status_code != 200:
            pytest.fail(f"token for {what}: {response.status_code} {response.text}")
        token = response.json().get("access_token")
        assert isinstance(token, str) and token, f"token for {what}: no access_token in {response.text}"
        return token

    def authorization_code_token(self, client_id: str, customer: str, scopes: str) -> str:
        """The contract's authorizationCode flow with PKCE (S256), as a client app runs it."""
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        state = secrets.token_urlsafe(12)
        request = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": scopes,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        page = self.http.get("/oauth/authorize", params=request)
        assert page.status_code == 200, f"sign-in page for {client_id}: {page.status_code} {page.text}"
        # The customer signs in at the bank and approves (the sandbox's dev page: pick the customer).
        approval = {k: request[k] for k in ("client_id", "redirect_uri", "scope", "state", "code_challenge")}
        approved = self.http.post("/oauth/authorize", data={**approval, "customer": self._username(customer)})
        assert approved.status_code in (302, 303), f"approval: {approved.status_code} {approved.text}"
        query = parse_qs(urlsplit(approved.headers["location"]).query)
        assert query.get("state") == [state], f"state not returned intact: {approved.headers['location']}"
        token = self.http.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
            auth=(client_id, self._secret(client_id)),
        )
        return self._token(token, f"{client_id} acting for {customer}")

    def client_credentials_token(self, client_id: str, scopes: str) -> str:
        token = self.http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": scopes},
            auth=(client_id, self._secret(client_id)),
        )
        return self._token(token, f"{client_id} (client credentials)")

    def authorise_consent(self, customer: str, consent_id: str) -> None:
        """The customer approves a client app's consent at the bank.

        The sandbox's authorisation server does this through its development grant for demo
        customers (``consent_id`` parameter); the token it also issues is not used.
        """
        client_id = self.require_caller().client_id
        response = self.http.post(
            "/oauth/token",
            data={
                "grant_type": "urn:futurebank:params:oauth:grant-type:demo-customer",
                "customer": self._username(customer),
                "consent_id": consent_id,
            },
            auth=(client_id, self._secret(client_id)),
        )
        self._token(response, f"{customer} authorising consent {consent_id} of {client_id}")

    # -- requests --------------------------------------------------------------------------

    def require_caller(self) -> Caller:
        if self.caller is None:
            pytest.fail("no caller: a Given step must say who sends the request")
        return self.caller

    def send(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        content: bytes | None = None,
        media_type: str | None = None,
    ) -> httpx.Response:
        caller = self.require_caller()
        all_headers: dict[str, str] = {"Accept": "application/json, application/problem+json"}
        if caller.token is not None:
            all_headers["Authorization"] = f"Bearer {caller.token}"
        if media_type is not None:
            all_headers["Content-Type"] = media_type
        all_headers.update(headers or {})
        self.sent = SentRequest(method, self.resolve(path), all_headers, content)
        return self.replay()

    def replay(self) -> httpx.Response:
        if self.sent is None:
            pytest.fail("no earlier request to send again")
        sent = self.sent
        self._response = self.http.request(sent.method, sent.url, headers=sent.headers, content=sent.content)
        return self._response

    # -- the last response -----------------------------------------------------------------

    @property
    def response(self) -> httpx.Response:
        if self._response is None:
            pytest.fail("no response yet: a When step must send a request first")
        return self._response

    def describe(self) -> str:
        r = self.response
        return f"{r.request.method} {r.request.url} -> {r.status_code} {r.text[:1500]}"

    def body(self) -> Any:
        try:
            return self.response.json()
        except ValueError:
            pytest.fail(f"the response body is not JSON: {self.describe()}")

    def field(self, path: str) -> Any:
        """The value at a dotted path (``amount.amount``; a number indexes a list), or MISSING."""
        value: Any = self.body()
        for part in path.split("."):
            if isinstance(value, dict) and part in value:
                value = value[part]
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                return MISSING
        return value

    def listed(self) -> list[Any]:
        """The response's list member: the body itself if it is an array, else its one top-level array."""
        body = self.body()
        if isinstance(body, list):
            return body
        arrays = [v for v in body.values() if isinstance(v, list)] if isinstance(body, dict) else []
        assert len(arrays) == 1, f"expected exactly one top-level array: {self.describe()}"
        return arrays[0]


def text_of(value: Any) -> str:
    """A JSON value as the scenarios write it: strings as they are, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def item_field(item: Any, path: str) -> Any:
    value = item
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


@pytest.fixture(scope="session")
def seed_usernames() -> dict[str, str]:
    """Customer alias -> the username the authorisation server's sign-in page offers."""
    seed = load_seed(SEED)
    return {str(c["alias"]): str(c.get("username") or c["alias"]) for c in seed.records("customers")}


@pytest.fixture
def world(sandbox: Sandbox, seed_aliases: dict[str, str], seed_usernames: dict[str, str]) -> Iterator[World]:
    w = World(sandbox, seed_aliases, seed_usernames)
    yield w
    w.close()


# ----------------------------------------------------------------------------------------------
# Context (Given)


@vocab("seeded")
def _seeded(world: World) -> None:
    world.sandbox.reset()


@vocab("customer-token")
def _customer_token(world: World, customer: str, scopes: str) -> None:
    token = world.authorization_code_token("demo-app", customer, scopes)
    world.caller = Caller("demo-app", customer, token)


@vocab("client-customer-token")
def _client_customer_token(world: World, client: str, customer: str, scopes: str) -> None:
    token = world.authorization_code_token(client, customer, scopes)
    world.caller = Caller(client, customer, token)


@vocab("client-token")
def _client_token(world: World, client: str, scopes: str) -> None:
    world.caller = Caller(client, None, world.client_credentials_token(client, scopes))


@vocab("no-token")
def _no_token(world: World, customer: str) -> None:
    world.caller = Caller("demo-app", customer, None)


# ----------------------------------------------------------------------------------------------
# Requests (When)


@vocab("get")
def _get(world: World, path: str) -> None:
    world.send("GET", path)


@vocab("get-header")
def _get_header(world: World, path: str, header: str, value: str) -> None:
    world.send("GET", path, headers={header: world.resolve(value)})


def _body(world: World, docstring: str) -> bytes:
    return world.resolve(docstring).encode("utf-8")


@vocab("post")
def _post(world: World, path: str, docstring: str) -> None:
    world.send("POST", path, content=_body(world, docstring), media_type="application/json")


@vocab("post-idempotent")
def _post_idempotent(world: World, path: str, key: str, docstring: str) -> None:
    world.send(
        "POST",
        path,
        headers={"Idempotency-Key": world.resolve(key)},
        content=_body(world, docstring),
        media_type="application/json",
    )


@vocab("post-media")
def _post_media(world: World, path: str, media_type: str, docstring: str) -> None:
    world.send("POST", path, content=_body(world, docstring), media_type=media_type)


@vocab("patch")
def _patch(world: World, path: str, docstring: str) -> None:
    world.send("PATCH", path, content=_body(world, docstring), media_type="application/json")


@vocab("delete")
def _delete(world: World, path: str) -> None:
    world.send("DELETE", path)


@vocab("repeat")
def _repeat(world: World) -> None:
    world.replay()


@vocab("follow")
def _follow(world: World, field: str) -> None:
    link = world.field(field)
    assert isinstance(link, str) and link, f"no link at {field!r}: {world.describe()}"
    # A link is a URI reference: resolve it against the URL of the response that carried it.
    world.send("GET", urljoin(str(world.response.url), link))


@vocab("authorise-consent")
def _authorise_consent(world: World, customer: str, saved: str) -> None:
    consent_id = world.resolve("{" + saved + "}")
    world.authorise_consent(customer, consent_id)


# ----------------------------------------------------------------------------------------------
# Outcomes (Then)


@vocab("status")
def _status(world: World, status: str) -> None:
    assert world.response.status_code == int(status), f"expected {status}: {world.describe()}"


def _problem(world: World) -> dict[str, Any]:
    media_type = world.response.headers.get("content-type", "").split(";")[0].strip()
    assert media_type == PROBLEM_MEDIA_TYPE, f"expected {PROBLEM_MEDIA_TYPE}: {world.describe()}"
    body = world.body()
    assert isinstance(body, dict), f"a problem is a JSON object: {world.describe()}"
    return body


@vocab("problem-code")
def _problem_code(world: World, code: str) -> None:
    body = _problem(world)
    assert body.get("code") == code, f"expected problem code {code}: {world.describe()}"
    assert body.get("status") == world.response.status_code, f"problem status differs: {world.describe()}"


@vocab("problem-pointer")
def _problem_pointer(world: World, pointer: str) -> None:
    errors = _problem(world).get("errors") or []
    pointers = [e.get("pointer") for e in errors if isinstance(e, dict)]
    assert pointer in pointers, f"no error at {pointer!r} (errors at {pointers}): {world.describe()}"


@vocab("problem-correlation")
def _problem_correlation(world: World, header: str) -> None:
    body = _problem(world)
    value = world.response.headers.get(header)
    assert value, f"no response header {header}: {world.describe()}"
    assert body.get("correlation_id") == value, (
        f"correlation_id differs from {header} {value}: {world.describe()}"
    )


@vocab("field-string")
def _field_string(world: World, field: str, value: str) -> None:
    expected = world.resolve(value)
    actual = world.field(field)
    assert actual is not MISSING, f"no field {field!r}: {world.describe()}"
    assert isinstance(actual, str), f"{field!r} is {actual!r}, not a string: {world.describe()}"
    assert actual == expected, f"{field!r} is {actual!r}, expected {expected!r}: {world.describe()}"


@vocab("field-literal")
def _field_literal(world: World, field: str, literal: str) -> None:
    expected = json.loads(literal)
    actual = world.field(field)
    assert actual is not MISSING, f"no field {field!r}: {world.describe()}"
    # bool is an int in Python: compare the JSON types too, so 1 never passes for true.
    assert type(actual) is type(expected) and actual == expected, (
        f"{field!r} is {actual!r}, expected {literal}: {world.describe()}"
    )


@vocab("field-save")
def _field_save(world: World, field: str, name: str) -> None:
    actual = world.field(field)
    assert actual is not MISSING and actual is not None, f"no field {field!r}: {world.describe()}"
    world.saved[name] = text_of(actual)


@vocab("field-absent")
def _field_absent(world: World, field: str) -> None:
    actual = world.field(field)
    assert actual is MISSING, f"field {field!r} is present ({actual!r}): {world.describe()}"


@vocab("field-count")
def _field_count(world: World, field: str, n: str) -> None:
    actual = world.field(field)
    assert isinstance(actual, list), f"{field!r} is not an array: {world.describe()}"
    assert len(actual) == int(n), f"{field!r} has {len(actual)} items, expected {n}: {world.describe()}"


@vocab("lists")
def _lists(world: World, n: str) -> None:
    items = world.listed()
    assert len(items) == int(n), f"{len(items)} items listed, expected {n}: {world.describe()}"


@vocab("listed-values")
def _listed_values(world: World, field: str, values: str) -> None:
    expected = [v.strip() for v in world.resolve(values).split(",")]
    actual = [
        text_of(item_field(item, field)) if item_field(item, field) is not MISSING else "<missing>"
        for item in world.listed()
    ]
    assert actual == expected, f"{field!r} values are {actual}, expected {expected}: {world.describe()}"


@vocab("listed-every")
def _listed_every(world: World, field: str, value: str) -> None:
    expected = world.resolve(value)
    items = world.listed()
    assert items, f"nothing listed: {world.describe()}"
    wrong = [item_field(item, field) for item in items if item_field(item, field) != expected]
    assert not wrong, f"{field!r} differs from {expected!r} in {wrong}: {world.describe()}"


@vocab("balance")
def _balance(world: World, balance_type: str, amount: str, currency: str) -> None:
    code = BALANCE_TYPES.get(balance_type, balance_type)
    found = [b for b in world.listed() if isinstance(b, dict) and b.get("balance_type") == code]
    assert len(found) == 1, f"expected one {balance_type} ({code}) balance: {world.describe()}"
    money = found[0].get("amount")
    expected = {"amount": world.resolve(amount), "currency": world.resolve(currency)}
    assert money == expected, f"{balance_type} ({code}) is {money}, expected {expected}: {world.describe()}"


@vocab("header")
def _header(world: World, header: str, value: str) -> None:
    expected = world.resolve(value)
    actual = world.response.headers.get(header)
    assert actual == expected, f"header {header} is {actual!r}, expected {expected!r}: {world.describe()}"


@vocab("header-uuid")
def _header_uuid(world: World, header: str) -> None:
    actual = world.response.headers.get(header) or ""
    assert UUID_TEXT.match(actual), f"header {header} is {actual!r}, not a UUID: {world.describe()}"
    uuid.UUID(actual)


@vocab("header-save")
def _header_save(world: World, header: str, name: str) -> None:
    actual = world.response.headers.get(header)
    assert actual, f"no response header {header}: {world.describe()}"
    world.saved[name] = actual
