"""Payments: createPayment (idempotent), listPayments, getPayment."""

from __future__ import annotations

import json
import re

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from futurebank.sandbox.domain.errors import DomainError
from futurebank.sandbox.domain.idempotency import fingerprint
from futurebank.sandbox.domain.money import Money
from futurebank.sandbox.entrypoints import representations as rep
from futurebank.sandbox.entrypoints.auth import authenticate
from futurebank.sandbox.entrypoints.deps import container, correlation_id
from futurebank.sandbox.entrypoints.errors import domain_problem_body
from futurebank.sandbox.entrypoints.problems import FieldError, ProblemError
from futurebank.sandbox.entrypoints.routers.common import API_PREFIX, links_for, position_datetime
from futurebank.sandbox.entrypoints.validation import (
    PaymentInitiationIn,
    canonical,
    only_query,
    path_uuid,
    query_cursor,
    query_limit,
    read_json,
)
from futurebank.sandbox.service_layer import handlers as h
from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

router = APIRouter()
# The draft's Structured Field string form ("…") and the bare form denote the same key.
KEY_RE = re.compile(r'^("[A-Za-z0-9._:-]{1,64}"|[A-Za-z0-9._:-]{1,64})$')


def _idempotency_key(request: Request) -> str:
    key = request.headers.get("idempotency-key")
    if key is None:
        raise ProblemError(
            "IDEMPOTENCY_KEY_MISSING", "This operation moves money and needs an Idempotency-Key header."
        )
    if not KEY_RE.match(key):
        raise ProblemError(
            "VALIDATION_FAILED",
            "The Idempotency-Key header is invalid.",
            [
                FieldError(
                    "#/header/Idempotency-Key", "PATTERN", "1 to 64 characters from A-Z a-z 0-9 . _ : -"
                )
            ],
        )
    return key.strip('"')


@router.post("/payments", operation_id="createPayment")
async def create_payment(request: Request) -> Response:
    c = container(request)
    principal = authenticate(request, c.tokens, "payments:write", customer_only=True)
    only_query(request)
    actor = principal.actor(correlation_id(request))
    key = _idempotency_key(request)
    body = await read_json(request, PaymentInitiationIn)
    try:
        amount = Money.parse(body.amount.amount, body.amount.currency)
    except DomainError as exc:  # e.g. an unknown currency code: the accounts' currency differs
        raise ProblemError(
            "CURRENCY_MISMATCH",
            f"The amount is in {body.amount.currency}, which no account of this bank holds.",
            [FieldError("/amount/currency", "CURRENCY_MISMATCH", "Must be the accounts' currency.")],
        ) from exc
    # Zero and negative amounts never get here: PositiveMoneyIn's pattern (the contract's) refuses them.
    data = h.PaymentRequestData(
        debtor_account_id=body.debtor_account_id,
        amount=amount,
        creditor_account_id=body.creditor_account_id,
        creditor_account_number=body.creditor_account_number,
        remittance_information=body.remittance_information,
    )
    instance = request.url.path
    print_ = fingerprint("POST", instance, canonical(body))

    def action(uow: UnitOfWork) -> tuple[int, bytes]:
        payment = h.create_payment(uow, actor, data, c.clock(), c.new_id)
        return 201, rep.dumps(rep.payment(payment))

    def render_error(exc: DomainError) -> tuple[int, bytes]:
        return domain_problem_body(exc, instance)

    scope = (actor.client_id, actor.customer_id or "", key)
    result = await c.call_sync(lambda: c.service.run_idempotent(scope, print_, action, render_error))
    headers = {"Idempotent-Replayed": "true"} if result.replayed else {}
    media_type = "application/json" if result.status < 400 else "application/problem+json"
    if result.status == 201:
        headers["Location"] = f"{API_PREFIX}/payments/{json.loads(result.body)['payment_id']}"
    return Response(content=result.body, status_code=result.status, media_type=media_type, headers=headers)


@router.get("/payments", operation_id="listPayments")
async def list_payments(request: Request) -> Response:
    c = container(request)
    actor = authenticate(request, c.tokens, "payments:read", customer_only=True).actor(
        correlation_id(request)
    )
    only_query(request, "limit", "cursor")
    limit = query_limit(request)
    collection = f"payments:{actor.customer_id}"
    after = position_datetime(c, collection, query_cursor(request))
    now = c.clock()
    rows, more = await c.call(
        lambda uow: h.list_payments(uow, actor, (after[0], str(after[1])) if after else None, limit, now)
    )
    cursor = c.cursors.encode(collection, [rows[-1].created_at.isoformat(), rows[-1].id]) if more else None
    self_href, next_href = links_for(request, cursor)
    return rep.json_response(rep.page([rep.payment(p) for p in rows], self_href, next_href))


@router.get("/payments/{payment_id}", operation_id="getPayment")
async def get_payment(request: Request, payment_id: str) -> Response:
    c = container(request)
    actor = authenticate(request, c.tokens, "payments:read", customer_only=True).actor(
        correlation_id(request)
    )
    only_query(request)
    pid = path_uuid("payment_id", payment_id)
    now = c.clock()
    payment = await c.call(lambda uow: h.get_payment(uow, actor, pid, now))
    return rep.json_response(rep.payment(payment))
