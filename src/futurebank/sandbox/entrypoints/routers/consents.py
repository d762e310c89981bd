"""Consents: createConsent, listConsents, getConsent, revokeConsent."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from futurebank.sandbox.entrypoints import representations as rep
from futurebank.sandbox.entrypoints.auth import authenticate
from futurebank.sandbox.entrypoints.deps import container, correlation_id
from futurebank.sandbox.entrypoints.routers.common import API_PREFIX, links_for, position_datetime
from futurebank.sandbox.entrypoints.validation import (
    ConsentRequestIn,
    only_query,
    parse_datetime,
    path_uuid,
    query_cursor,
    query_limit,
    read_json,
)
from futurebank.sandbox.service_layer import handlers as h

router = APIRouter()


@router.post("/consents", operation_id="createConsent")
async def create_consent(request: Request) -> Response:
    c = container(request)
    actor = authenticate(request, c.tokens, "consents").actor(correlation_id(request))
    only_query(request)
    body = await read_json(request, ConsentRequestIn)
    data = h.ConsentRequestData(
        permissions=list(body.permissions),
        expires_at=parse_datetime(body.expires_at) if body.expires_at else None,
        transactions_from=parse_datetime(body.transactions_from) if body.transactions_from else None,
        transactions_to=parse_datetime(body.transactions_to) if body.transactions_to else None,
    )
    now = c.clock()
    consent = await c.call(lambda uow: h.create_consent(uow, actor, data, now, c.new_id))
    return rep.json_response(
        rep.consent(consent, now), 201, headers={"Location": f"{API_PREFIX}/consents/{consent.id}"}
    )


@router.get("/consents", operation_id="listConsents")
async def list_consents(request: Request) -> Response:
    c = container(request)
    actor = authenticate(request, c.tokens, "consents").actor(correlation_id(request))
    only_query(request, "limit", "cursor")
    limit = query_limit(request)
    collection = f"consents:{actor.customer_id or ''}:{actor.client_id}"
    after = position_datetime(c, collection, query_cursor(request))
    now = c.clock()
    rows, more = await c.call(
        lambda uow: h.list_consents(uow, actor, (after[0], str(after[1])) if after else None, limit, now)
    )
    cursor = c.cursors.encode(collection, [rows[-1].created_at.isoformat(), rows[-1].id]) if more else None
    self_href, next_href = links_for(request, cursor)
    return rep.json_response(rep.page([rep.consent(x, now) for x in rows], self_href, next_href))


@router.get("/consents/{consent_id}", operation_id="getConsent")
async def get_consent(request: Request, consent_id: str) -> Response:
    c = container(request)
    actor = authenticate(request, c.tokens, "consents").actor(correlation_id(request))
    only_query(request)
    cid = path_uuid("consent_id", consent_id)
    now = c.clock()
    consent = await c.call(lambda uow: h.get_consent(uow, actor, cid, now))
    return rep.json_response(rep.consent(consent, now))


@router.delete("/consents/{consent_id}", operation_id="revokeConsent")
async def revoke_consent(request: Request, consent_id: str) -> Response:
    c = container(request)
    actor = authenticate(request, c.tokens, "consents").actor(correlation_id(request))
    only_query(request)
    cid = path_uuid("consent_id", consent_id)
    now = c.clock()
    await c.call(lambda uow: h.revoke_consent(uow, actor, cid, now))
    return Response(status_code=204)
