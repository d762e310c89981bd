"""Cards: listCards, getCard, updateCardControls."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from starlette.responses import Response

from futurebank.sandbox.domain import commands as cmd
from futurebank.sandbox.domain import queries as q
from futurebank.sandbox.entrypoints import representations as rep
from futurebank.sandbox.entrypoints.toolkit import ApiCall, CardId, json_body
from futurebank.sandbox.entrypoints.validation import CardControlsUpdateIn

router = APIRouter()


@router.get("/cards", operation_id="listCards")
async def list_cards(call: ApiCall) -> Response:
    return call.page([rep.card(x) for x in await call.handle(q.ListCards())])


@router.get("/cards/{card_id}", operation_id="getCard")
async def get_card(call: ApiCall, card_id: CardId) -> Response:
    return call.json(rep.card(await call.handle(q.GetCard(card_id))))


@router.patch("/cards/{card_id}/controls", operation_id="updateCardControls")
async def update_card_controls(
    call: ApiCall, card_id: CardId, body: Annotated[CardControlsUpdateIn, json_body(CardControlsUpdateIn)]
) -> Response:
    return call.json(rep.card(await call.handle(cmd.UpdateCardControls(card_id, body.locked))))
