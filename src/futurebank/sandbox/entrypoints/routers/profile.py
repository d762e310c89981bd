"""Profile: getMyProfile."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from futurebank.sandbox.entrypoints import representations as rep
from futurebank.sandbox.entrypoints.auth import authenticate
from futurebank.sandbox.entrypoints.deps import container, correlation_id
from futurebank.sandbox.entrypoints.validation import only_query
from futurebank.sandbox.service_layer import handlers as h

router = APIRouter()


@router.get("/customers/me", operation_id="getMyProfile")
async def get_my_profile(request: Request) -> Response:
    c = container(request)
    actor = authenticate(request, c.tokens, "profile:read", customer_only=True).actor(correlation_id(request))
    only_query(request)
    now = c.clock()
    customer = await c.call(lambda uow: h.get_profile(uow, actor, now))
    return rep.json_response(rep.customer(customer))
