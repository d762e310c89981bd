"""Every operation of the contract is routed (method and path, with its operationId), or is one of
the operations the sandbox answers 501 for, which are listed in one place and printed here."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.routing import APIRoute
from sandbox_contract import operations

from futurebank.sandbox.entrypoints.app import build_api
from futurebank.sandbox.entrypoints.constants import API_PREFIX
from futurebank.sandbox.entrypoints.contract import SECURITY
from futurebank.sandbox.entrypoints.deps import Container
from futurebank.sandbox.entrypoints.routers.not_implemented import NOT_IMPLEMENTED_OPERATIONS

# Routes under /api/v1 that are not contract operations, and why.
EXTRA_ROUTES = {
    ("POST", "/oauth/token"): "development authorisation server: the contract's tokenUrl",
    ("GET", "/oauth/authorize"): "development authorisation server: the contract's authorizationUrl",
    ("POST", "/oauth/authorize"): "development authorisation server: the sign-in form posts here",
    ("GET", "/oauth/jwks"): "public key of the token signer",
}


@pytest.fixture(scope="module")
def routes(
    sqlite_template: object, tmp_path_factory: pytest.TempPathFactory
) -> dict[tuple[str, str], APIRoute]:
    from futurebank.sandbox import bootstrap
    from futurebank.sandbox.config import Settings

    data = tmp_path_factory.mktemp("conformance")
    c: Container = bootstrap.bootstrap(Settings(data_dir=data, seed=False))
    app = build_api(c)
    table = {
        (method, route.path): route
        for route in app.routes
        if isinstance(route, APIRoute)
        for method in route.methods
    }
    c.db.dispose()
    return table


def test_every_contract_operation_is_routed(routes: dict[tuple[str, str], APIRoute]) -> None:
    not_implemented = {op for op, *_ in NOT_IMPLEMENTED_OPERATIONS}
    print("\nOperations answered with 501 NOT_IMPLEMENTED (entrypoints/routers/not_implemented.py):")
    for op, method, path, _query in NOT_IMPLEMENTED_OPERATIONS:
        print(f"  {op:22s} {method:6s} {API_PREFIX}{path}  (scopes {' '.join(SECURITY[op].scopes)})")
    missing = []
    for op in operations():
        route = routes.get((op.method, API_PREFIX + op.path))
        if route is None:
            missing.append(f"{op.operation_id}: {op.method} {op.path} has no route")
        elif route.operation_id != op.operation_id:
            missing.append(
                f"{op.method} {op.path}: routed as {route.operation_id}, contract says {op.operation_id}"
            )
    assert not missing, "\n".join(missing)
    contract_ids = {op.operation_id for op in operations()}
    assert not_implemented <= contract_ids, (
        f"501 list names unknown operations: {not_implemented - contract_ids}"
    )


def test_no_undocumented_api_routes(routes: dict[tuple[str, str], APIRoute]) -> None:
    documented = {(op.method, API_PREFIX + op.path) for op in operations()}
    extra = {
        (m, p.removeprefix(API_PREFIX))
        for m, p in routes
        if p.startswith(API_PREFIX) and (m, p) not in documented
    }
    assert extra == set(EXTRA_ROUTES), (
        f"routes under {API_PREFIX} outside the contract: {extra - set(EXTRA_ROUTES)}"
    )


def test_every_operation_is_implemented() -> None:
    assert NOT_IMPLEMENTED_OPERATIONS == ()


def test_route_scopes_match_the_contract(make_container: Callable[..., Container]) -> None:
    """Each operation refuses a token that has every scope except the one the contract names."""
    from sandbox_helpers import token_for
    from starlette.testclient import TestClient

    from futurebank.sandbox.entrypoints.app import create_app
    from futurebank.sandbox.entrypoints.routers.oauth import ALL_SCOPES

    with TestClient(create_app(make_container()), raise_server_exceptions=False) as client:
        for op in operations():
            (scope,) = op.scopes
            others = " ".join(s for s in ALL_SCOPES if s != scope)
            token = token_for(client, "anna", others)
            path = op.path
            for p in op.parameters:
                if p["in"] == "path":
                    path = path.replace("{" + p["name"] + "}", "00000000-0000-4000-8000-000000000000")
            r = client.request(op.method, API_PREFIX + path, headers={"Authorization": f"Bearer {token}"})
            assert (r.status_code, r.json()["code"]) == (403, "INSUFFICIENT_SCOPE"), (
                f"{op.operation_id}: {r.text}"
            )
