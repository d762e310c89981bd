"""Profile: getMyProfile."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from futurebank.sandbox.domain import queries as q
from futurebank.sandbox.entrypoints import representations as rep
from futurebank.sandbox.entrypoints.toolkit import ApiCall

router = APIRouter()


@router.get("/customers/me", operation_id="getMyProfile")
async def get_my_profile(call: ApiCall) -> Response:
    return call.json(rep.customer(await call.handle(q.GetMyProfile())))
