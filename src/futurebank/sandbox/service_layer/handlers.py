"""Use-case handlers. Each runs inside an open unit of work, appends its audit record, and leaves
committing to the caller (so the idempotency wrapper can commit the payment and its stored response
together). Reads of personal data are audited too."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from futurebank.sandbox.adapters.repository import LegInfo, TransactionRow
from futurebank.sandbox.domain.audit import AuditRecord
from futurebank.sandbox.domain.cards import Card
from futurebank.sandbox.domain.consents import Consent, ConsentStatus, Permission
from futurebank.sandbox.domain.customers import Customer
from futurebank.sandbox.domain.errors import ConsentRequired, NotFound, UnknownCustomer
from futurebank.sandbox.domain.ledger import (
    Account,
    AccountKind,
    EntryStatus,
    JournalEntry,
    post,
    transfer_legs,
)
from futurebank.sandbox.domain.money import Money
from futurebank.sandbox.domain.payments import Payment, PaymentStatus
from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

IdFactory = Callable[[], str]


@dataclass(frozen=True)
class Actor:
    """Who is calling: the client app, the customer it acts for (None for client credentials), and
    the correlation id that ties the audit record to the logs."""

    client_id: str
    customer_id: str | None
    correlation_id: str


def _audit(  # action: the contract's operationId, so audit records and metrics share one vocabulary
    uow: UnitOfWork,
    actor: Actor,
    now: datetime,
    action: str,
    resource_type: str,
    resource_id: str,
    details: dict[str, Any] | None = None,
) -> None:
    uow.audit.append(
        AuditRecord(
            at=now.isoformat(),
            action=action,
            client_id=actor.client_id,
            customer_id=actor.customer_id or "",
            resource_type=resource_type,
            resource_id=resource_id,
            correlation_id=actor.correlation_id,
            outcome="ok",
            details=details or {},
        )
    )


def _customer(actor: Actor) -> str:
    if actor.customer_id is None:  # only customer tokens reach here; kept as a guard
        raise ConsentRequired("This operation needs a token issued for a customer.")
    return actor.customer_id


@dataclass(frozen=True)
class Window:
    """The booking-time window a consent allows (None = unbounded)."""

    start: datetime | None
    end: datetime | None


def require_consent(uow: UnitOfWork, actor: Actor, permission: Permission, now: datetime) -> Window:
    """An authorised, unexpired consent of this customer for this client app with the permission.

    Checked before ownership, so a client without consent learns nothing about which ids exist."""
    if actor.customer_id is None:
        raise ConsentRequired(
            f"The client app has no authorised consent with the permission {permission.value} "
            "(a client credentials token acts for no customer)."
        )
    matching = [
        c
        for c in uow.consents.authorised_for(actor.customer_id, actor.client_id)
        if c.allows(permission, now)
    ]
    if not matching:
        raise ConsentRequired(
            f"The client app has no authorised consent with the permission {permission.value}."
        )
    starts = [c.transactions_from for c in matching]
    ends = [c.transactions_to for c in matching]
    # Several consents: the union of their windows (an unbounded side wins).
    start = None if any(s is None for s in starts) else min(s for s in starts if s is not None)
    end = None if any(e is None for e in ends) else max(e for e in ends if e is not None)
    return Window(start, end)


# --- profile -----------------------------------------------------------------------------------


def get_profile(uow: UnitOfWork, actor: Actor, now: datetime) -> Customer:
    customer = uow.customers.get(_customer(actor))
    if customer is None:  # the token names a customer that a reset removed
        raise UnknownCustomer("The access token is missing, invalid or expired.")
    _audit(uow, actor, now, "getMyProfile", "customer", customer.id)
    return customer


# --- accounts, balances, transactions ----------------------------------------------------------


def list_accounts(uow: UnitOfWork, actor: Actor, now: datetime) -> Sequence[Account]:
    require_consent(uow, actor, Permission.ACCOUNTS, now)
    accounts = uow.accounts.for_customer(_customer(actor))
    _audit(uow, actor, now, "listAccounts", "customer", _customer(actor), {"count": len(accounts)})
    return accounts


def _owned_account(uow: UnitOfWork, actor: Actor, account_id: str) -> Account:
    account = uow.accounts.owned(_customer(actor), account_id)
    if account is None or account.kind == AccountKind.INTERNAL:
        raise NotFound("No such account.")
    return account


def get_account(uow: UnitOfWork, actor: Actor, account_id: str, now: datetime) -> Account:
    require_consent(uow, actor, Permission.ACCOUNTS, now)
    account = _owned_account(uow, actor, account_id)
    _audit(uow, actor, now, "getAccount", "account", account.id)
    return account


def get_balances(uow: UnitOfWork, actor: Actor, account_id: str, now: datetime) -> Account:
    require_consent(uow, actor, Permission.BALANCES, now)
    account = _owned_account(uow, actor, account_id)
    _audit(uow, actor, now, "getAccountBalances", "account", account.id)
    return account


@dataclass(frozen=True)
class TransactionQuery:
    booked_from: datetime | None = None
    booked_to: datetime | None = None  # exclusive
    indicator: str | None = None
    after: tuple[datetime, int] | None = None
    limit: int = 50


def list_transactions(
    uow: UnitOfWork, actor: Actor, account_id: str, query: TransactionQuery, now: datetime
) -> tuple[list[TransactionRow], bool]:
    """One page, newest first, and whether another page follows."""
    window = require_consent(uow, actor, Permission.TRANSACTIONS, now)
    account = _owned_account(uow, actor, account_id)
    lower = query.booked_from
    if window.start is not None and (lower is None or lower < window.start):
        lower = window.start
    rows = uow.ledger.transactions(
        account.id,
        booked_from=lower,
        booked_to=query.booked_to,
        booked_until=window.end,
        indicator=query.indicator,
        after=query.after,
        limit=query.limit + 1,
    )
    _audit(
        uow, actor, now, "listTransactions", "account", account.id, {"returned": min(len(rows), query.limit)}
    )
    return rows[: query.limit], len(rows) > query.limit


def get_transaction(
    uow: UnitOfWork, actor: Actor, account_id: str, transaction_id: str, now: datetime
) -> TransactionRow:
    window = require_consent(uow, actor, Permission.TRANSACTIONS, now)
    account = _owned_account(uow, actor, account_id)
    row = uow.ledger.transaction(account.id, transaction_id)
    outside = row is not None and (
        (window.start is not None and row.booked_at < window.start)
        or (window.end is not None and row.booked_at > window.end)
    )
    if row is None or outside:
        raise NotFound("No such transaction.")
    _audit(uow, actor, now, "getTransaction", "transaction", row.id)
    return row


# --- consents ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsentRequestData:
    permissions: list[str]
    expires_at: datetime | None = None
    transactions_from: datetime | None = None
    transactions_to: datetime | None = None


def create_consent(
    uow: UnitOfWork, actor: Actor, request: ConsentRequestData, now: datetime, new_id: IdFactory
) -> Consent:
    """With a customer token the customer is present and the consent is authorised at once; with a
    client credentials token it waits for the customer's authorisation step."""
    by_customer = actor.customer_id is not None
    consent = Consent(
        id=new_id(),
        customer_id=actor.customer_id,
        client_id=actor.client_id,
        permissions=[p.value for p in Permission if p.value in request.permissions],
        status=(ConsentStatus.AUTHORISED if by_customer else ConsentStatus.AWAITING).value,
        created_at=now,
        status_updated_at=now,
        expires_at=request.expires_at,
        transactions_from=request.transactions_from,
        transactions_to=request.transactions_to,
    )
    consent.check_request()
    uow.consents.add(consent)
    _audit(uow, actor, now, "createConsent", "consent", consent.id, {"status": consent.status})
    return consent


def list_consents(
    uow: UnitOfWork, actor: Actor, after: tuple[datetime, str] | None, limit: int, now: datetime
) -> tuple[Sequence[Consent], bool]:
    rows = uow.consents.page(actor.customer_id, actor.client_id, after, limit + 1)
    _audit(uow, actor, now, "listConsents", "consent", "*", {"returned": min(len(rows), limit)})
    return rows[:limit], len(rows) > limit


def get_consent(uow: UnitOfWork, actor: Actor, consent_id: str, now: datetime) -> Consent:
    consent = uow.consents.visible(actor.customer_id, actor.client_id, consent_id)
    if consent is None:
        raise NotFound("No such consent.")
    _audit(uow, actor, now, "getConsent", "consent", consent.id)
    return consent


def revoke_consent(uow: UnitOfWork, actor: Actor, consent_id: str, now: datetime) -> Consent:
    consent = uow.consents.visible(actor.customer_id, actor.client_id, consent_id, for_update=True)
    if consent is None:
        raise NotFound("No such consent.")
    consent.revoke(now)
    _audit(uow, actor, now, "revokeConsent", "consent", consent.id)
    return consent


def authorise_consent(uow: UnitOfWork, actor: Actor, consent_id: str, now: datetime) -> Consent:
    """The customer's authorisation step for a consent a client app created (dev token grant)."""
    consent = uow.consents.get(consent_id)
    if consent is None or consent.client_id != actor.client_id:
        raise NotFound("No such consent.")
    consent.authorise(_customer(actor), now)
    _audit(uow, actor, now, "authoriseConsent", "consent", consent.id)
    return consent


# --- payments ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaymentRequestData:
    debtor_account_id: str
    amount: Money
    creditor_account_id: str | None = None
    creditor_account_number: str | None = None
    remittance_information: str | None = None


def masked_name(full_name: str) -> str:
    """Given name and the surname's initial ("Anna Sergeyevna Petrova" -> "Anna P."): enough for the
    payer to recognise the payee, too little to identify a stranger (bank secrecy)."""
    parts = full_name.split()
    if len(parts) < 2:
        return parts[0] if parts else ""
    return f"{parts[0]} {parts[-1][0]}."


def create_payment(
    uow: UnitOfWork, actor: Actor, request: PaymentRequestData, now: datetime, new_id: IdFactory
) -> Payment:
    """Transfer within the bank: both legs, the payment and the audit record in one transaction.

    Every check runs before anything is written, so a refusal leaves no trace but its response."""
    customer_id = _customer(actor)
    by_number = request.creditor_account_id is None
    rows = uow.accounts.lock_for_transfer(
        request.debtor_account_id, request.creditor_account_id, request.creditor_account_number
    )
    debtor = next(
        (a for a, _ in rows if a.id == request.debtor_account_id and a.customer_id == customer_id), None
    )
    if debtor is None or debtor.kind == AccountKind.INTERNAL:
        raise NotFound("No such debtor account.", "/debtor_account_id")
    payer_name = next(name for a, name in rows if a.id == debtor.id) or ""
    if by_number:
        found = [(a, n) for a, n in rows if a.number == request.creditor_account_number]
        if not found or found[0][0].kind == AccountKind.INTERNAL or found[0][0].customer_id is None:
            raise NotFound("No account of this bank has that number.", "/creditor_account_number")
    else:
        found = [
            (a, n) for a, n in rows if a.id == request.creditor_account_id and a.customer_id == customer_id
        ]
        if not found:
            raise NotFound("No such creditor account among your accounts.", "/creditor_account_id")
    creditor, payee_full_name = found[0]
    if creditor.id == debtor.id:
        creditor = debtor  # one object, so SAME_ACCOUNT is reported by the domain rule below
    legs = transfer_legs(debtor, creditor, request.amount)
    own = creditor.customer_id == customer_id
    payee_name = None if own else masked_name(payee_full_name or "")
    payment_id = new_id()
    entry = JournalEntry(
        id=new_id(),
        kind="transfer",
        status=EntryStatus.BOOKED,
        booked_at=now,
        legs=legs,
        description=request.remittance_information or "",
        payment_id=payment_id,
    )
    post(entry, {debtor.id: debtor, creditor.id: creditor})  # raises InsufficientFunds, writes nothing
    payment = Payment(
        id=payment_id,
        customer_id=customer_id,
        client_id=actor.client_id,
        debtor_account_id=debtor.id,
        creditor_account_id=creditor.id,
        creditor_account_number=creditor.number,
        creditor_name=payee_name,
        to_own_account=own,
        amount_minor=request.amount.minor,
        currency=request.amount.currency,
        status=PaymentStatus.RECEIVED.value,
        remittance_information=request.remittance_information,
        end_to_end_id=payment_id.replace("-", "")[:35],
        created_at=now,
        status_updated_at=now,
    )
    payment.settle(entry.id, now)
    # Writes start here; every check above has passed.
    uow.ledger.add(
        entry,
        [new_id(), new_id()],
        [
            LegInfo(creditor.name if own else payee_name, creditor.number),
            LegInfo(debtor.name if own else masked_name(payer_name), debtor.number),
        ],
    )
    uow.accounts.save_balances([debtor, creditor])
    uow.payments.add(payment)
    _audit(
        uow,
        actor,
        now,
        "createPayment",
        "payment",
        payment.id,
        {"amount": request.amount.as_json(), "status": payment.status, "own": own},
    )
    return payment


def list_payments(
    uow: UnitOfWork, actor: Actor, after: tuple[datetime, str] | None, limit: int, now: datetime
) -> tuple[Sequence[Payment], bool]:
    rows = uow.payments.for_customer(_customer(actor), after, limit + 1)
    _audit(uow, actor, now, "listPayments", "customer", _customer(actor), {"returned": min(len(rows), limit)})
    return rows[:limit], len(rows) > limit


def get_payment(uow: UnitOfWork, actor: Actor, payment_id: str, now: datetime) -> Payment:
    payment = uow.payments.owned(_customer(actor), payment_id)
    if payment is None:
        raise NotFound("No such payment.")
    _audit(uow, actor, now, "getPayment", "payment", payment.id)
    return payment


# --- cards -------------------------------------------------------------------------------------


def list_cards(uow: UnitOfWork, actor: Actor, now: datetime) -> Sequence[Card]:
    cards = uow.cards.for_customer(_customer(actor))
    _audit(uow, actor, now, "listCards", "customer", _customer(actor), {"count": len(cards)})
    return cards


def get_card(uow: UnitOfWork, actor: Actor, card_id: str, now: datetime) -> Card:
    card = uow.cards.owned(_customer(actor), card_id)
    if card is None:
        raise NotFound("No such card.")
    _audit(uow, actor, now, "getCard", "card", card.id)
    return card


def update_card_controls(uow: UnitOfWork, actor: Actor, card_id: str, locked: bool, now: datetime) -> Card:
    card = uow.cards.owned(_customer(actor), card_id, for_update=True)
    if card is None:
        raise NotFound("No such card.")
    changed = card.set_locked(locked, now)
    _audit(uow, actor, now, "updateCardControls", "card", card.id, {"locked": locked, "changed": changed})
    return card
