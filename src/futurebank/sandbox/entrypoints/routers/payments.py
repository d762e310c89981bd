"""Payments: createPayment (idempotent), listPayments, getPayment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from starlette.responses import Response

from futurebank.sandbox.domain import commands as cmd
from futurebank.sandbox.domain import queries as q
from futurebank.sandbox.entrypoints import representations as rep
from futurebank.sandbox.entrypoints.toolkit import ApiCall, IdempotencyKey, PageCall, PaymentId, json_body
from futurebank.sandbox.entrypoints.validation import PaymentInitiationFields, PaymentInitiationIn

router = APIRouter()


@router.post("/payments", operation_id="createPayment")
async def create_payment(
    call: ApiCall,
    key: IdempotencyKey,
    body: Annotated[PaymentInitiationFields, json_body(PaymentInitiationIn)],
) -> Response:
    # The body's fields are the command's (amount flattened): a new field passes through by name.
    fields = body.model_dump(exclude={"amount"})
    command = cmd.CreatePayment(key, amount=body.amount.amount, currency=body.amount.currency, **fields)
    outcome = await call.c.pay(command, call.actor)
    replayed = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    return call.created(rep.payment(outcome.payment), f"/payments/{outcome.payment.id}", replayed)


@router.get("/payments", operation_id="listPayments")
async def list_payments(call: PageCall) -> Response:
    collection = f"payments:{call.actor.customer_id}"
    after = call.after(collection)
    rows, more = await call.handle(
        q.ListPayments((after[0], str(after[1])) if after else None, call.query.limit)
    )
    last = [rows[-1].created_at.isoformat(), rows[-1].id] if more else None
    return call.page([rep.payment(p) for p in rows], collection, last)


@router.get("/payments/{payment_id}", operation_id="getPayment")
async def get_payment(call: ApiCall, payment_id: PaymentId) -> Response:
    return call.json(rep.payment(await call.handle(q.GetPayment(payment_id))))
