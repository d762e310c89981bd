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

from futurebank.spec.stories import PLACEHOLDER, VOCABULARY, load_features, load_seed

if TYPE_CHECKING:
    from conftest import Sandbox, Twin

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


_BOUND: set[str] = set()


def vocab(key: str) -> Callable[[F], F]:
    """Bind a step definition to the vocabulary entry ``key`` (any keyword: Given, When, Then)."""
    _BOUND.add(key)
    return step(parsers.re(_PATTERNS[key].regex.pattern))


def test_every_vocabulary_entry_has_one_step_definition() -> None:
    assert sorted(set(_PATTERNS) - _BOUND) == [], "vocabulary entries without a step definition"


def test_every_step_in_the_features_matches_exactly_one_vocabulary_entry() -> None:
    features, problems = load_features(FEATURES)
    assert not problems, [v.message() for v in problems]
    wrong = {
        f"{sc.path}:{st.line} {st.text!r}": [p.key for p in VOCABULARY if p.regex.match(st.text)]
        for feature in features
        for sc in feature.scenarios
        for st in (*sc.background, *sc.steps)
        if sum(1 for p in VOCABULARY if p.regex.match(st.text)) != 1
    }
    assert not wrong, wrong


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

    def __init__(
        self,
        sandbox: Sandbox,
        aliases: dict[str, str],
        usernames: dict[str, str],
        start_twin: Callable[[], Twin] | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.start_twin = start_twin
        self.twin: Twin | None = None
        self.aliases = aliases
        self.usernames = usernames
        self.http = httpx.Client(base_url=sandbox.base_url, timeout=15.0, follow_redirects=False)
        self.saved: dict[str, str] = {}
        self.caller: Caller | None = None
        self.sent: SentRequest | None = None
        self._response: httpx.Response | None = None

    def close(self) -> None:
        self.http.close()
        if self.twin is not None:
            self.twin.stop()

    @property
    def origin(self) -> str:
        """Where the operations endpoints are: the shared sandbox, or this scenario's own twin."""
        return self.twin.origin if self.twin is not None else self.sandbox.origin

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
def world(
    sandbox: Sandbox,
    seed_aliases: dict[str, str],
    seed_usernames: dict[str, str],
    start_twin_on_postgres: Callable[[], Twin],
) -> Iterator[World]:
    w = World(sandbox, seed_aliases, seed_usernames, start_twin_on_postgres)
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
    actual = [item_field(item, field) for item in items]
    wrong = ["<missing>" if v is MISSING else v for v in actual if v is MISSING or text_of(v) != expected]
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


# ----------------------------------------------------------------------------------------------
# Steps that only @not-in-sandbox scenarios use. By default those scenarios are skipped (see
# futurebank.spec.acceptance_results); with --acceptance-run-all they run and show what is missing.
# Assistant and sustainability steps follow the contract's shapes; operations steps use what the
# sandbox has (/health, /metrics, the audit chain) and fail plainly where it has nothing.


def _tooling_missing(what: str) -> None:
    pytest.fail(f"needs operations tooling the sandbox does not have: {what}")


def _assistant_reply(world: World) -> dict[str, Any]:
    body = world.body()
    assert world.response.status_code in (200, 201) and isinstance(body, dict), (
        f"no assistant reply: {world.describe()}"
    )
    return body


@vocab("start-conversation")
def _start_conversation(world: World) -> None:
    body = json.dumps({"channel": "mobile", "locale": "ru-RU"}).encode()
    response = world.send("POST", "/assistant/conversations", content=body, media_type="application/json")
    if response.status_code == 201:
        world.saved["conversation"] = str(response.json()["conversation_id"])
        world.saved["ai-disclosure"] = str(response.json().get("ai_disclosure", ""))


def _message(world: World, message: dict[str, str]) -> None:
    body = json.dumps(message, ensure_ascii=False).encode()
    response = world.send(
        "POST",
        "/assistant/conversations/{conversation}/messages",
        content=body,
        media_type="application/json",
    )
    reply = response.json() if response.status_code in (200, 201) else {}
    if isinstance(reply, dict) and isinstance(reply.get("proposed_action"), dict):
        # The contract: an action runs only when a later message names this reply in confirmation_for.
        world.saved["proposal"] = str(reply.get("message_id"))


@vocab("tell-assistant")
def _tell_assistant(world: World, text: str) -> None:
    _message(world, {"text": world.resolve(text)})


@vocab("confirm-proposal")
def _confirm_proposal(world: World) -> None:
    if "proposal" not in world.saved:
        pytest.fail("the assistant has proposed no action to confirm")
    _message(world, {"text": "Да", "confirmation_for": world.saved["proposal"]})


@vocab("ask-human")
def _ask_human(world: World) -> None:
    body = json.dumps({"reason": "customer_request"}).encode()
    world.send(
        "POST", "/assistant/conversations/{conversation}/handoff", content=body, media_type="application/json"
    )


@vocab("disclosure")
def _disclosure(world: World) -> None:
    text = world.saved.get("ai-disclosure", "")
    assert re.search(r"\bAI\b|\bИИ\b|искусственн", text, re.IGNORECASE), f"no AI disclosure in {text!r}"


@vocab("reply-intent")
def _reply_intent(world: World, intent: str) -> None:
    reply = _assistant_reply(world)
    assert reply.get("intent") == intent, (
        f"intent {reply.get('intent')!r}, expected {intent!r}: {world.describe()}"
    )


@vocab("reply-ai")
def _reply_ai(world: World) -> None:
    reply = _assistant_reply(world)
    assert reply.get("role") == "assistant" and reply.get("ai_generated") is True, world.describe()


@vocab("reply-confirm")
def _reply_confirm(world: World) -> None:
    reply = _assistant_reply(world)
    assert isinstance(reply.get("proposed_action"), dict), f"no proposed_action: {world.describe()}"


def _facts(world: World) -> list[dict[str, Any]]:
    """The reply's `facts`: the contract puts every figure an assistant reply states there (SCOPE-0001)."""
    facts = _assistant_reply(world).get("facts")
    assert isinstance(facts, list), f"the assistant's reply has no facts list: {world.describe()}"
    return [f for f in facts if isinstance(f, dict)]


@vocab("reply-amount")
def _reply_amount(world: World, amount: str, currency: str) -> None:
    expected = {"amount": world.resolve(amount), "currency": world.resolve(currency)}
    stated = [f.get("money") for f in _facts(world)]
    assert expected in stated, f"no fact states {expected}; facts state {stated}: {world.describe()}"


@vocab("reply-no-amount")
def _reply_no_amount(world: World) -> None:
    stated = [f.get("money") for f in _facts(world) if "money" in f]
    assert not stated, f"the reply states amounts {stated}: {world.describe()}"


@vocab("reply-transaction")
def _reply_transaction(world: World, transaction: str) -> None:
    expected = world.resolve(transaction)
    named = [f.get("transaction_id") for f in _facts(world) if f.get("kind") == "transaction"]
    assert expected in named, f"no transaction fact names {expected}; they name {named}: {world.describe()}"


@vocab("handoff-transcript")
def _handoff_transcript(world: World, n: str) -> None:
    count = world.field("transcript_message_count")
    assert count == int(n), f"transcript_message_count {count!r}, expected {n}: {world.describe()}"


@vocab("open-transcript")
def _open_transcript(world: World) -> None:
    """The compliance officer's review tool, run as a staff member would run it, on the sandbox's
    database (a back-office tool, not a client-app operation)."""
    import os
    import subprocess
    import sys

    if "conversation" not in world.saved:
        pytest.fail("no conversation was started earlier in the scenario")
    env = {
        **os.environ,
        "DATABASE_URL": world.sandbox.db.engine.url.render_as_string(hide_password=False),
        "SANDBOX_DATA_DIR": str(world.sandbox.log.parent),
        "SANDBOX_SEED": "0",
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "futurebank.sandbox",
            "transcript",
            world.saved["conversation"],
            "--officer",
            "CO-0001",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    world.saved["transcript-review"] = done.stdout


@vocab("transcript-review")
def _transcript_review(world: World, n: str) -> None:
    review = json.loads(world.saved.get("transcript-review") or "{}")
    messages = review.get("messages") or []
    assert len(messages) == int(n), f"{len(messages)} messages: {messages}"
    first = messages[0]
    assert first["role"] == "assistant" and first["ai_generated"] is True, first
    assert first["text"] == world.saved.get("ai-disclosure"), first


def _decimal(value: Any) -> float:
    assert isinstance(value, str) and re.fullmatch(r"[0-9]{1,12}(\.[0-9]{1,3})?", value), f"{value!r}"
    return float(value)


@vocab("footprint-categories")
def _footprint_categories(world: World, mccs: str) -> None:
    categories = world.field("categories")
    assert isinstance(categories, list), f"no categories: {world.describe()}"
    for mcc in (m.strip() for m in mccs.split(",")):
        entries = [c for c in categories if mcc in (c.get("mcc_codes") or [])]
        assert len(entries) == 1, f"MCC {mcc} is in {len(entries)} categories: {world.describe()}"
        estimate = entries[0].get("estimate") or {}
        low, mid, high = (_decimal(estimate.get(k)) for k in ("low_kg", "co2e_kg", "high_kg"))
        assert low <= mid <= high, f"MCC {mcc}: range {low}..{high} does not hold {mid}"


@vocab("footprint-method")
def _footprint_method(world: World) -> None:
    method = world.field("method")
    assert isinstance(method, dict), f"no method: {world.describe()}"
    assert method.get("approach") and method.get("factor_set"), f"method or factor set missing: {method}"


@vocab("green-labels")
def _green_labels(world: World) -> None:
    products = world.listed()
    assert products, f"no products listed: {world.describe()}"
    for product in products:
        label = product.get("green_label") or {}
        assert label.get("taxonomy") == "ru_decree_1587" and label.get("taxonomy_area"), f"{product}"


@vocab("read-health")
def _read_health(world: World) -> None:
    world.caller = world.caller or Caller("operations", None, None)
    # The sandbox's health check is outside the API (not part of the contract).
    world.send("GET", world.origin + "/health")


@vocab("read-ready")
def _read_ready(world: World) -> None:
    world.caller = world.caller or Caller("operations", None, None)
    world.send("GET", world.origin + "/ready")


@vocab("health")
def _health(world: World, health: str) -> None:
    assert world.field("status") == health, world.describe()


@vocab("scrape-metrics")
def _scrape_metrics(world: World) -> None:
    caller = world.caller
    world.caller = Caller("operations", None, None)
    world.send("GET", world.sandbox.origin + "/metrics")
    world.caller = caller


@vocab("metric")
def _metric(world: World, metric: str, labels: str) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    wanted = dict(pair.strip().split("=", 1) for pair in labels.split(","))
    samples = [s for family in text_string_to_metric_families(world.response.text) for s in family.samples]
    named = [s for s in samples if s.name == metric]
    found = [s for s in named if all(s.labels.get(k) == v for k, v in wanted.items())]
    assert found, f"no {metric} series with {wanted}; series: {[s.labels for s in named][:20]}"


@vocab("dependency-down")
def _dependency_down(world: World, dependency: str) -> None:
    if dependency != "database":
        pytest.fail(f"the sandbox can take down only its database, not {dependency!r}")
    assert world.start_twin is not None
    # A sandbox of this scenario's own on PostgreSQL, then the database server stopped under it.
    world.twin = world.start_twin()
    world.twin.stop_database()


@vocab("error-rate")
def _error_rate(world: World, operation: str, percent: str, minutes: str) -> None:
    world.saved["error-rate"] = json.dumps(
        {"operation": operation, "percent": float(percent), "minutes": int(minutes)}
    )


@vocab("alert")
def _alert(world: World, alert: str, minutes: str) -> None:
    """Prometheus's own rule engine (``promtool test rules``) evaluates the rules generated from the
    SLOs over the request series the sandbox exports, at the given error rate for the given time (in
    promtool's simulated time: ten real minutes would not fit a test run)."""
    import shutil
    import subprocess
    import tempfile

    import yaml

    from futurebank.cli import main as futurebank

    if "error-rate" not in world.saved:
        pytest.fail("no error rate was set earlier in the scenario")
    given = json.loads(world.saved["error-rate"])
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool not found: scripts/bootstrap.sh prometheus installs it")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        assert futurebank(["ops", "generate", "--root", str(FEATURES.parents[2]), "--out", str(out)]) == 0
        groups = yaml.safe_load((out / "slo-rules.yml").read_text(encoding="utf-8"))["groups"]
        rules = [r for g in groups for r in g["rules"]]
        alert_rule = next((r for r in rules if r.get("alert") == alert), None)
        if alert_rule is None:
            pytest.fail(f"no alert {alert!r} among the rules generated from docs/nfr/slos.yaml")
        slo = alert_rule["labels"]["slo"]
        objective = next(
            r["labels"]["objective"]
            for r in rules
            if r.get("labels", {}).get("slo") == slo and "objective" in r["labels"]
        )
        per_minute = 1000
        bad = round(per_minute * given["percent"] / 100)
        series = 'futurebank_http_requests_total{{operation_id="{op}",http_response_status_code="{code}"}}'
        test = {
            "rule_files": ["slo-rules.yml"],
            "evaluation_interval": "1m",
            "tests": [
                {
                    "interval": "1m",
                    "input_series": [
                        {
                            "series": series.format(op=given["operation"], code="201"),
                            "values": f"0+{per_minute - bad}x{given['minutes']}",
                        },
                        {
                            "series": series.format(op=given["operation"], code="503"),
                            "values": f"0+{bad}x{given['minutes']}",
                        },
                    ],
                    "alert_rule_test": [
                        {
                            "alertname": alert,
                            "eval_time": f"{minutes}m",
                            "exp_alerts": [
                                {
                                    "exp_labels": {**alert_rule["labels"], "objective": objective},
                                    "exp_annotations": alert_rule["annotations"],
                                }
                            ],
                        }
                    ],
                }
            ],
        }
        (out / "scenario.test.yml").write_text(yaml.safe_dump(test), encoding="utf-8")
        done = subprocess.run(
            [promtool, "test", "rules", "scenario.test.yml"],
            cwd=out,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 0, f"{alert} did not fire within {minutes} minutes:\n{done.stdout}{done.stderr}"


def _kpi_event_of_last_request(world: World, event: str) -> dict[str, Any]:
    """The KPI event the last request caused, read from the sandbox's stand-in for the KPI topic
    (the relay publishes within a second), checked against the event contract's payload schema."""
    import time

    import jsonschema
    import yaml

    correlation = world.response.headers.get("X-Correlation-ID", "")
    sink = world.sandbox.log.parent / "kpi-events.jsonl"
    schema = yaml.safe_load((FEATURES.parents[1] / "entities" / "KpiEvent.schema.yaml").read_text())
    deadline = time.monotonic() + 10
    while True:
        lines = sink.read_text(encoding="utf-8").splitlines() if sink.exists() else []
        found = [json.loads(line) for line in lines]
        mine = [e for e in found if e.get("correlation_id") == correlation and e["data"]["event"] == event]
        if mine or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert mine, f"no KPI event {event!r} for correlation id {correlation} in {sink} ({len(found)} events)"
    assert len(mine) == 1, f"{len(mine)} KPI events {event!r} for one request"
    published = mine[0]
    assert published["event_type"] == "kpi.recorded" and UUID_TEXT.match(published["event_id"]), published
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(
        published["data"]
    )
    return dict(published["data"])


@vocab("kpi-event")
def _kpi_event(world: World, event: str, field: str, value: str) -> None:
    data = _kpi_event_of_last_request(world, event)
    assert data.get(field) == value, (
        f"KPI event {event}: {field} is {data.get(field)!r}, not {value!r}: {data}"
    )


@vocab("kpi-no-field")
def _kpi_no_field(world: World, event: str, field: str) -> None:
    data = _kpi_event_of_last_request(world, event)
    assert field not in data, f"KPI event {event} carries {field}: {data}"
    # Nothing that identifies the customer directly either (US-0024's rules).
    text = json.dumps(data)
    for identifying in ("10000000-0000-4000-8000-000000000001", "Anna", "40817810", "2005-06-15"):
        assert identifying not in text, f"KPI event {event} contains {identifying!r}: {data}"


def _audit_entries(world: World) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from futurebank.sandbox.adapters import orm

    with world.sandbox.db.engine.connect() as conn:
        rows = conn.execute(select(orm.audit_log).order_by(orm.audit_log.c.seq)).mappings().all()
    return [dict(row) for row in rows]


@vocab("audit-altered")
def _audit_altered(world: World) -> None:
    from sqlalchemy import func, select, update

    from futurebank.sandbox.adapters import orm

    log = orm.audit_log
    with world.sandbox.db.engine.begin() as conn:
        # The database refuses UPDATE of audit entries; an attacker who owns it switches that off.
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_append_only_update")
        else:
            conn.exec_driver_sql("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        last = conn.execute(select(func.max(log.c.seq))).scalar_one()
        assert last is not None, "the audit log is empty"
        conn.execute(update(log).where(log.c.seq == last).values(outcome="altered"))


@vocab("verify-audit")
def _verify_audit(world: World) -> None:
    from futurebank.sandbox import bootstrap

    _, problems = bootstrap.verify_audit(world.sandbox.db)
    world.saved["audit-verification"] = "broken" if problems else "intact"


@vocab("audit-result")
def _audit_result(world: World, result: str) -> None:
    assert world.saved.get("audit-verification") == result, world.saved.get("audit-verification")


@vocab("audit-record")
def _audit_record(world: World, operation: str, customer: str, value: str) -> None:
    customer_id, correlation_id = world.resolve("{" + customer + "}"), world.resolve(value)
    found = [
        e
        for e in _audit_entries(world)
        if e["action"] == operation
        and e["customer_id"] == customer_id
        and e["correlation_id"] == correlation_id
    ]
    assert len(found) == 1, f"{len(found)} audit records of {operation} for {customer} with {correlation_id}"


@vocab("audit-no-token")
def _audit_no_token(world: World) -> None:
    token = world.require_caller().token
    assert token, "the caller has no token"
    leaked = [e["seq"] for e in _audit_entries(world) if token in json.dumps(e, default=str)]
    assert not leaked, f"the access token is in audit records {leaked}"
