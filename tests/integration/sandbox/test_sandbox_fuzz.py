"""Garbage in, problems out: random methods, paths, queries, headers and bodies never produce a
500 or a stack trace; every error is application/problem+json with a code from the contract."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sandbox_contract import contract, operations
from sandbox_helpers import ANNA_CURRENT, bearer, token_for
from starlette.testclient import TestClient

CODES = set(contract()["components"]["schemas"]["Problem"]["properties"]["code"]["enum"])
NOT_IMPLEMENTED = {
    "startConversation",
    "sendAssistantMessage",
    "requestHandoff",
}

ids = st.one_of(
    st.just(ANNA_CURRENT),
    st.uuids().map(str),
    st.text(alphabet="abcdef0123456789-%./\\'\"<>", min_size=0, max_size=40),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
payment_like = st.fixed_dictionaries(
    {},
    optional={
        "debtor_account_id": ids,
        "creditor_account_id": ids,
        "creditor_account_number": st.from_regex(r"[0-9]{18,21}", fullmatch=True),
        "amount": st.fixed_dictionaries(
            {}, optional={"amount": st.text(max_size=20) | json_values, "currency": st.text(max_size=4)}
        ),
        "remittance_information": st.text(max_size=160),
        "locked": json_values,
        "permissions": st.lists(
            st.sampled_from(["accounts", "balances", "transactions", "loans"]) | json_values, max_size=4
        ),
        "expires_at": st.text(max_size=30),
    },
)
bodies = st.one_of(
    st.none(),
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    payment_like.map(lambda v: json.dumps(v).encode()),
)
queries = st.dictionaries(
    st.sampled_from(
        ["limit", "cursor", "booked_from", "booked_to", "credit_debit_indicator", "period_from", "x"]
    ),
    st.text(max_size=30),
    max_size=4,
)
content_types = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "",
        "application/xml",
        "application/json; charset=latin-1",
    ]
)
methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])


@given(
    op=st.sampled_from(operations()),
    method=st.one_of(st.none(), methods),
    path_id=ids,
    query=queries,
    body=bodies,
    content_type=content_types,
    key=st.one_of(st.none(), st.text(max_size=70)),
    authed=st.booleans(),
)
@settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_random_requests_never_crash(
    client: TestClient,
    op: object,
    method: str | None,
    path_id: str,
    query: dict[str, str],
    body: bytes | None,
    content_type: str,
    key: str | None,
    authed: bool,
) -> None:
    path = "/api/v1" + op.path  # type: ignore[attr-defined]
    for name in ("account_id", "transaction_id", "payment_id", "card_id", "consent_id", "conversation_id"):
        path = path.replace("{" + name + "}", path_id)
    headers = {"Content-Type": content_type} if content_type else {}
    if authed:
        headers.update(bearer(_token(client)))
    if key is not None and key.isascii() and key.isprintable():
        headers["Idempotency-Key"] = key
    try:
        r = client.request(method or op.method, path, params=query, content=body, headers=headers)  # type: ignore[attr-defined]
    except UnicodeEncodeError:  # the client cannot even send such a URL; nothing reached the server
        return
    allowed_5xx = {501} if op.operation_id in NOT_IMPLEMENTED else set()  # type: ignore[attr-defined]
    assert r.status_code < 500 or r.status_code in allowed_5xx, f"{r.status_code} {r.text}"
    assert "Traceback" not in r.text
    assert r.headers.get("x-correlation-id")
    if r.status_code >= 400 and r.request.method != "HEAD":
        assert r.headers["content-type"] == "application/problem+json", r.text
        problem = r.json()
        assert problem["code"] in CODES and problem["status"] == r.status_code
        assert problem["correlation_id"] == r.headers["x-correlation-id"]


_tokens: dict[int, str] = {}


def _token(client: TestClient) -> str:
    if id(client) not in _tokens:
        _tokens[id(client)] = token_for(client)
    return _tokens[id(client)]
