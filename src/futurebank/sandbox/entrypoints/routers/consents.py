"""Consents: createConsent, listConsents, getConsent, revokeConsent."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from starlette.responses import Response

from futurebank.sandbox.domain import commands as cmd
from futurebank.sandbox.domain import queries as q
from futurebank.sandbox.entrypoints import representations as rep
from futurebank.sandbox.entrypoints.toolkit import ApiCall, ConsentId, PageCall, json_body
from futurebank.sandbox.entrypoints.validation import ConsentRequestIn, parse_datetime

router = APIRouter()


@router.post("/consents", operation_id="createConsent")
async def create_consent(
    call: ApiCall, body: Annotated[ConsentRequestIn, json_body(ConsentRequestIn)]
) -> Response:
    dates = {
        name: parse_datetime(value)
        for name, value in body.model_dump(exclude={"permissions"}).items()
        if value
    }
    consent = await call.handle(cmd.CreateConsent(permissions=tuple(body.permissions), **dates))
    return call.created(rep.consent(consent, call.now()), f"/consents/{consent.id}")


@router.get("/consents", operation_id="listConsents")
async def list_consents(call: PageCall) -> Response:
    collection = f"consents:{call.actor.customer_id or ''}:{call.actor.client_id}"
    after = call.after(collection)
    message = q.ListConsents((after[0], str(after[1])) if after else None, call.query.limit)
    rows, more = await call.handle(message)
    now = call.now()
    last = [rows[-1].created_at.isoformat(), rows[-1].id] if more else None
    return call.page([rep.consent(x, now) for x in rows], collection, last)


@router.get("/consents/{consent_id}", operation_id="getConsent")
async def get_consent(call: ApiCall, consent_id: ConsentId) -> Response:
    consent = await call.handle(q.GetConsent(consent_id))
    return call.json(rep.consent(consent, call.now()))


@router.delete("/consents/{consent_id}", operation_id="revokeConsent")
async def revoke_consent(call: ApiCall, consent_id: ConsentId) -> Response:
    await call.handle(cmd.RevokeConsent(consent_id))
    return Response(status_code=204)
