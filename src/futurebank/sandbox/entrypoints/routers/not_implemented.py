"""Operations the contract specifies but this sandbox does not implement: they answer 501
NOT_IMPLEMENTED after the usual authentication and scope checks. This tuple is the one list of
them; the conformance test prints it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from futurebank.sandbox.entrypoints.problems import ProblemError
from futurebank.sandbox.entrypoints.toolkit import Call, QueryModel, call_with

# (operationId, method, path under /api/v1, the query parameters it defines). Empty: the sandbox
# implements every operation of the contract; a new operation may be listed here until it is built.
NOT_IMPLEMENTED_OPERATIONS: tuple[tuple[str, str, str, type[QueryModel]], ...] = ()

router = APIRouter()


def _endpoint(operation_id: str, query: type[QueryModel]) -> Callable[..., Awaitable[Response]]:
    async def endpoint(call: Call[Any] = call_with(query)) -> Response:  # noqa: B008 - FastAPI idiom
        raise ProblemError(
            "NOT_IMPLEMENTED",
            "This server does not implement this operation yet.",
        )

    endpoint.__name__ = operation_id
    return endpoint


for _op, _method, _path, _query in NOT_IMPLEMENTED_OPERATIONS:
    router.add_api_route(_path, _endpoint(_op, _query), methods=[_method], operation_id=_op)
