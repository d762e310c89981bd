"""Cards: listCards, getCard, updateCardControls."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from futurebank.sandbox.entrypoints import representations as rep
from futurebank.sandbox.entrypoints.auth import authenticate
from futurebank.sandbox.entrypoints.deps import container, correlation_id
from futurebank.sandbox.entrypoints.routers.common import self_link
from futurebank.sandbox.entrypoints.validation import CardControlsUpdateIn, only_query, path_uuid, read_json
from futurebank.sandbox.service_layer import handlers as h

router = APIRouter()


@router.get("/cards", operation_id="listCards")
async def list_cards(request: Request) -> Response:
    c = container(request)
    actor = authenticate(request, c.tokens, "cards:read", customer_only=True).actor(correlation_id(request))
    only_query(request)
    now = c.clock()
    cards = await c.call(lambda uow: h.list_cards(uow, actor, now))
    return rep.json_response(rep.page([rep.card(x) for x in cards], self_link(request)))


@router.get("/cards/{card_id}", operation_id="getCard")
async def get_card(request: Request, card_id: str) -> Response:
    c = container(request)
    actor = authenticate(request, c.tokens, "cards:read", customer_only=True).actor(correlation_id(request))
    only_query(request)
    cid = path_uuid("card_id", card_id)
    now = c.clock()
    card = await c.call(lambda uow: h.get_card(uow, actor, cid, now))
    return rep.json_response(rep.card(card))


@router.patch("/cards/{card_id}/controls", operation_id="updateCardControls")
async def update_card_controls(request: Request, card_id: str) -> Response:
    c = container(request)
    actor = authenticate(request, c.tokens, "cards:write", customer_only=True).actor(correlation_id(request))
    only_query(request)
    cid = path_uuid("card_id", card_id)
    body = await read_json(request, CardControlsUpdateIn)
    now = c.clock()
    card = await c.call(lambda uow: h.update_card_controls(uow, actor, cid, body.locked, now))
    return rep.json_response(rep.card(card))
