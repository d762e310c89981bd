"""Operations the contract specifies but this sandbox does not implement: they answer 501
NOT_IMPLEMENTED after the usual authentication and scope checks. This tuple is the one list of
them; the conformance test prints it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from futurebank.sandbox.entrypoints.auth import authenticate
from futurebank.sandbox.entrypoints.deps import container
from futurebank.sandbox.entrypoints.problems import ProblemError
from futurebank.sandbox.entrypoints.validation import only_query

# (operationId, method, path under /api/v1, scope)
NOT_IMPLEMENTED_OPERATIONS: tuple[tuple[str, str, str, str], ...] = (
    ("getCarbonFootprint", "GET", "/accounts/{account_id}/carbon-footprint", "sustainability:read"),
    ("listGreenProducts", "GET", "/green-products", "sustainability:read"),
)

# Query parameters each operation defines; any other one is refused first (guideline API-016).
_QUERY: dict[str, tuple[str, ...]] = {"getCarbonFootprint": ("period_from", "period_to")}

router = APIRouter()


def _endpoint(operation_id: str, scope: str) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        authenticate(request, container(request).tokens, scope)
        only_query(request, *_QUERY.get(operation_id, ()))
        raise ProblemError(
            "NOT_IMPLEMENTED",
            "The reference sandbox does not implement the sustainability operations.",
        )

    endpoint.__name__ = operation_id
    return endpoint


for _op, _method, _path, _scope in NOT_IMPLEMENTED_OPERATIONS:
    router.add_api_route(_path, _endpoint(_op, _scope), methods=[_method], operation_id=_op)
