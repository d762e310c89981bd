"""Domain objects to the contract's JSON shapes (the only place that knows field names)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from typing import Any

from starlette.responses import Response

from futurebank.sandbox.adapters.repository import TransactionRow
from futurebank.sandbox.domain.cards import Card
from futurebank.sandbox.domain.commands import CreatePayment, echoed_fields
from futurebank.sandbox.domain.consents import Consent
from futurebank.sandbox.domain.customers import Customer
from futurebank.sandbox.domain.ledger import Account
from futurebank.sandbox.domain.money import Money
from futurebank.sandbox.domain.payments import Payment

# Shown in Moscow time (UTC+3 all year since 2014), as in the contract's examples.
MSK = timezone(timedelta(hours=3))


def ts(value: datetime) -> str:
    local = value.astimezone(MSK)
    return local.isoformat(timespec="seconds" if local.microsecond == 0 else "milliseconds")


def day(value: date) -> str:
    return value.isoformat()


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(content=dumps(data), status_code=status, media_type="application/json", headers=headers)


def dumps(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def customer(c: Customer) -> dict[str, Any]:
    out: dict[str, Any] = {"customer_id": c.id, "full_name": c.full_name}
    if c.date_of_birth is not None:
        out["date_of_birth"] = day(c.date_of_birth)
    if c.email:
        out["email"] = c.email
    if c.phone:
        out["phone"] = c.phone
    out["preferred_language"] = c.preferred_language
    out["customer_since"] = day(c.customer_since)
    return out


def account(a: Account) -> dict[str, Any]:
    out: dict[str, Any] = {
        "account_id": a.id,
        "account_number": a.number,
        "account_type": a.kind,
        "currency": a.currency,
    }
    if a.name:
        out["nickname"] = a.name
    out["status"] = a.status
    out["opened_at"] = ts(a.opened_at)
    return out


def balances(a: Account, now: datetime) -> list[dict[str, Any]]:
    at = ts(now)
    itav = Money.from_minor(a.booked_minor + a.pending_minor, a.currency)
    return [
        {"account_id": a.id, "balance_type": "ITAV", "amount": itav.as_json(), "reference_date_time": at},
        {"account_id": a.id, "balance_type": "ITBD", "amount": a.booked.as_json(), "reference_date_time": at},
    ]


def transaction(t: TransactionRow) -> dict[str, Any]:
    amount = Money.from_minor(abs(t.amount_minor), t.currency)
    out: dict[str, Any] = {
        "transaction_id": t.id,
        "account_id": t.account_id,
        "status": t.status,
        "credit_debit_indicator": "CRDT" if t.amount_minor > 0 else "DBIT",
        "amount": amount.as_json(),
        "booking_date_time": ts(t.booked_at),
        "value_date_time": ts(t.booked_at),
    }
    info = t.description
    if not info and t.kind == "transfer":
        direction = "from" if t.amount_minor > 0 else "to"
        info = f"Transfer {direction} {t.counterparty_name}" if t.counterparty_name else "Transfer"
    if info:
        out["transaction_information"] = info[:140]
    if t.card_id:
        out["card_id"] = t.card_id
    if t.payment_id:
        out["payment_id"] = t.payment_id
    if t.merchant_name and t.mcc:
        merchant: dict[str, Any] = {"name": t.merchant_name, "mcc": t.mcc}
        if t.merchant_city:
            merchant["city"] = t.merchant_city
        if t.merchant_country:
            merchant["country"] = t.merchant_country
        out["merchant"] = merchant
    return out


def payment(p: Payment) -> dict[str, Any]:
    out: dict[str, Any] = {"payment_id": p.id, "status": p.status}
    if p.status_reason:
        out["status_reason"] = p.status_reason
    out["debtor_account_id"] = p.debtor_account_id
    if p.to_own_account:
        out["creditor_account_id"] = p.creditor_account_id
    out["creditor_account_number"] = p.creditor_account_number
    if p.creditor_name:
        out["creditor_name"] = p.creditor_name
    out["amount"] = p.amount.as_json()
    for name in echoed_fields(CreatePayment):  # what the payer sent and the payment keeps
        value = getattr(p, name)
        if value:
            out[name] = value
    out["created_at"] = ts(p.created_at)
    out["status_updated_at"] = ts(p.status_updated_at)
    return out


def card(c: Card) -> dict[str, Any]:
    return {
        "card_id": c.id,
        "account_id": c.account_id,
        "masked_pan": c.masked_pan,
        "payment_system": c.payment_system,
        "card_type": c.card_type,
        "expiry": c.expiry,
        "status": c.status,
        "controls": {"locked": c.locked, "updated_at": ts(c.controls_updated_at)},
    }


def consent(c: Consent, now: datetime) -> dict[str, Any]:
    out: dict[str, Any] = {
        "consent_id": c.id,
        "client_id": c.client_id,
        "status": c.current_status(now).value,
        "permissions": list(c.permissions),
    }
    for name in ("expires_at", "transactions_from", "transactions_to"):
        value = getattr(c, name)
        if value is not None:
            out[name] = ts(value)
    out["created_at"] = ts(c.created_at)
    status_at = c.status_updated_at
    if out["status"] == "expired" and c.status != "expired" and c.expires_at is not None:
        status_at = c.expires_at  # expiry happened at expires_at, not at the last stored change
    out["status_updated_at"] = ts(status_at)
    return out


def page(data: list[dict[str, Any]], self_link: str, next_link: str | None = None) -> dict[str, Any]:
    links = {"self": self_link}
    if next_link is not None:
        links["next"] = next_link
    return {"data": data, "links": links}
