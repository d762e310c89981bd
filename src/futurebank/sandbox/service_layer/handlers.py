"""Use-case handlers, one per command or query (``domain/commands.py``, ``domain/queries.py``).

Each runs inside the unit of work the message bus opened, appends its audit record, and leaves
committing to the bus (so the idempotency record commits with the payment). Reads of personal data
are audited too. ``HANDLERS`` maps every message type to its handler: adding an operation is a
message class, a handler and a line there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from futurebank.sandbox.adapters.repository import LegInfo, TransactionRow
from futurebank.sandbox.domain import commands as cmd
from futurebank.sandbox.domain import queries as q
from futurebank.sandbox.domain.audit import AuditRecord
from futurebank.sandbox.domain.cards import Card
from futurebank.sandbox.domain.consents import Consent, ConsentStatus, Permission
from futurebank.sandbox.domain.customers import Customer
from futurebank.sandbox.domain.errors import (
    ConsentRequired,
    CurrencyMismatch,
    DomainError,
    NotFound,
    UnknownCustomer,
)
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


@dataclass(frozen=True)
class Window:
    """The booking-time window a consent allows (None = unbounded)."""

    start: datetime | None
    end: datetime | None


UNBOUNDED = Window(None, None)


@dataclass(frozen=True)
class Context:
    """What the bus hands every handler: the open unit of work, the caller, the request time, the
    id factory, the consent window (for reads that need one) and whether the caller's app is the
    bank's own (which manages every consent of its customer, not only its own)."""

    uow: UnitOfWork
    actor: Actor
    now: datetime
    new_id: IdFactory
    window: Window = UNBOUNDED
    first_party: bool = False

    def audit(
        self, action: str, resource_type: str, resource_id: str, details: dict[str, Any] | None = None
    ) -> None:
        # action: the contract's operationId, so audit records and metrics share one vocabulary
        self.uow.audit.append(
            AuditRecord(
                at=self.now.isoformat(),
                action=action,
                client_id=self.actor.client_id,
                customer_id=self.actor.customer_id or "",
                resource_type=resource_type,
                resource_id=resource_id,
                correlation_id=self.actor.correlation_id,
                outcome="ok",
                details=details or {},
            )
        )

    @property
    def customer_id(self) -> str:
        if self.actor.customer_id is None:  # the HTTP edge refuses such tokens first; kept as a guard
            raise ConsentRequired("This operation needs a token issued for a customer.")
        return self.actor.customer_id


def check_customer(uow: UnitOfWork, actor: Actor) -> None:
    """A token whose customer no longer exists (a reset removed it) identifies nobody: 401 on every
    operation (change C-08), never an empty list or a 500."""
    if actor.customer_id is not None and uow.customers.get(actor.customer_id) is None:
        raise UnknownCustomer("The access token is missing, invalid or expired.")


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


def get_profile(m: q.GetMyProfile, cx: Context) -> Customer:
    customer = cx.uow.customers.get(cx.customer_id)
    if customer is None:  # the token names a customer that a reset removed
        raise UnknownCustomer("The access token is missing, invalid or expired.")
    cx.audit(m.operation, "customer", customer.id)
    return customer


# --- accounts, balances, transactions ----------------------------------------------------------


def list_accounts(m: q.ListAccounts, cx: Context) -> Sequence[Account]:
    accounts = cx.uow.accounts.for_customer(cx.customer_id)
    cx.audit(m.operation, "customer", cx.customer_id, {"count": len(accounts)})
    return accounts


def _owned_account(cx: Context, account_id: str) -> Account:
    account = cx.uow.accounts.owned(cx.customer_id, account_id)
    if account is None or account.kind == AccountKind.INTERNAL:
        raise NotFound("No such account.")
    return account


def get_account(m: q.GetAccount | q.GetAccountBalances, cx: Context) -> Account:
    account = _owned_account(cx, m.account_id)
    cx.audit(m.operation, "account", account.id)
    return account


def list_transactions(m: q.ListTransactions, cx: Context) -> tuple[list[TransactionRow], bool]:
    """One page, newest first, and whether another page follows."""
    account = _owned_account(cx, m.account_id)
    lower = m.booked_from
    if cx.window.start is not None and (lower is None or lower < cx.window.start):
        lower = cx.window.start
    rows = cx.uow.ledger.transactions(
        account.id,
        booked_from=lower,
        booked_to=m.booked_to,
        booked_until=cx.window.end,
        indicator=m.indicator,
        after=m.after,
        limit=m.limit + 1,
    )
    cx.audit(m.operation, "account", account.id, {"returned": min(len(rows), m.limit)})
    return rows[: m.limit], len(rows) > m.limit


def get_transaction(m: q.GetTransaction, cx: Context) -> TransactionRow:
    account = _owned_account(cx, m.account_id)
    row = cx.uow.ledger.transaction(account.id, m.transaction_id)
    window = cx.window
    outside = row is not None and (
        (window.start is not None and row.booked_at < window.start)
        or (window.end is not None and row.booked_at > window.end)
    )
    if row is None or outside:
        raise NotFound("No such transaction.")
    cx.audit(m.operation, "transaction", row.id)
    return row


# --- consents ----------------------------------------------------------------------------------


def create_consent(m: cmd.CreateConsent, cx: Context) -> Consent:
    """With a customer token the customer is present and the consent is authorised at once; with a
    client credentials token it waits for the customer's authorisation step."""
    by_customer = cx.actor.customer_id is not None
    consent = Consent(
        id=cx.new_id(),
        customer_id=cx.actor.customer_id,
        client_id=cx.actor.client_id,
        permissions=[p.value for p in Permission if p.value in m.permissions],
        status=(ConsentStatus.AUTHORISED if by_customer else ConsentStatus.AWAITING).value,
        created_at=cx.now,
        status_updated_at=cx.now,
        expires_at=m.expires_at,
        transactions_from=m.transactions_from,
        transactions_to=m.transactions_to,
    )
    consent.check_request()
    cx.uow.consents.add(consent)
    cx.audit(m.operation, "consent", consent.id, {"status": consent.status})
    return consent


def list_consents(m: q.ListConsents, cx: Context) -> tuple[Sequence[Consent], bool]:
    rows = cx.uow.consents.page(
        cx.actor.customer_id, cx.actor.client_id, m.after, m.limit + 1, any_client=cx.first_party
    )
    cx.audit(m.operation, "consent", "*", {"returned": min(len(rows), m.limit)})
    return rows[: m.limit], len(rows) > m.limit


def _visible_consent(cx: Context, consent_id: str, for_update: bool = False) -> Consent:
    """A client app sees its own consents only; the bank's own app sees all of its customer's
    (the contract's consent operations, change C-09)."""
    consent = cx.uow.consents.visible(
        cx.actor.customer_id, cx.actor.client_id, consent_id, for_update=for_update, any_client=cx.first_party
    )
    if consent is None:
        raise NotFound("No such consent.")
    return consent


def get_consent(m: q.GetConsent, cx: Context) -> Consent:
    consent = _visible_consent(cx, m.consent_id)
    cx.audit(m.operation, "consent", consent.id)
    return consent


def revoke_consent(m: cmd.RevokeConsent, cx: Context) -> Consent:
    consent = _visible_consent(cx, m.consent_id, for_update=True)
    consent.revoke(cx.now)
    cx.audit(m.operation, "consent", consent.id)
    return consent


def authorise_consent(m: cmd.AuthoriseConsent, cx: Context) -> Consent:
    """The customer's authorisation step for a consent a client app created (dev token grant)."""
    consent = cx.uow.consents.get(m.consent_id)
    if consent is None or consent.client_id != cx.actor.client_id:
        raise NotFound("No such consent.")
    consent.authorise(cx.customer_id, cx.now)
    cx.audit(m.operation, "consent", consent.id)
    return consent


# --- payments ----------------------------------------------------------------------------------


def masked_name(full_name: str) -> str:
    """Given name and the surname's initial ("Anna Sergeyevna Petrova" -> "Anna P."): enough for the
    payer to recognise the payee, too little to identify a stranger (bank secrecy)."""
    parts = full_name.split()
    if len(parts) < 2:
        return parts[0] if parts else ""
    return f"{parts[0]} {parts[-1][0]}."


def parse_amount(m: cmd.CreatePayment) -> Money:
    try:
        return Money.parse(m.amount, m.currency)
    except DomainError as exc:  # e.g. an unknown currency code: the accounts' currency differs
        raise CurrencyMismatch(
            f"The amount is in {m.currency}, which no account of this bank holds."
        ) from exc


def create_payment(m: cmd.CreatePayment, cx: Context) -> Payment:
    """Transfer within the bank: both legs, the payment and the audit record in one transaction.

    Every check runs before anything is written, so a refusal leaves no trace but its response."""
    uow, new_id, now = cx.uow, cx.new_id, cx.now
    customer_id = cx.customer_id
    amount = parse_amount(m)
    by_number = m.creditor_account_id is None
    rows = uow.accounts.lock_for_transfer(
        m.debtor_account_id, m.creditor_account_id, m.creditor_account_number
    )
    debtor = next((a for a, _ in rows if a.id == m.debtor_account_id and a.customer_id == customer_id), None)
    if debtor is None or debtor.kind == AccountKind.INTERNAL:
        check_customer(uow, cx.actor)  # a removed customer's token is 401, not 404
        raise NotFound("No such debtor account.", "/debtor_account_id")
    payer_name = next(name for a, name in rows if a.id == debtor.id) or ""
    if by_number:
        found = [(a, n) for a, n in rows if a.number == m.creditor_account_number]
        if not found or found[0][0].kind == AccountKind.INTERNAL or found[0][0].customer_id is None:
            raise NotFound("No account of this bank has that number.", "/creditor_account_number")
    else:
        found = [(a, n) for a, n in rows if a.id == m.creditor_account_id and a.customer_id == customer_id]
        if not found:
            raise NotFound("No such creditor account among your accounts.", "/creditor_account_id")
    creditor, payee_full_name = found[0]
    if creditor.id == debtor.id:
        creditor = debtor  # one object, so SAME_ACCOUNT is reported by the domain rule below
    legs = transfer_legs(debtor, creditor, amount)
    own = creditor.customer_id == customer_id
    payee_name = None if own else masked_name(payee_full_name or "")
    payment_id = new_id()
    entry = JournalEntry(
        id=new_id(),
        kind="transfer",
        status=EntryStatus.BOOKED,
        booked_at=now,
        legs=legs,
        description=m.remittance_information or "",
        payment_id=payment_id,
    )
    post(entry, {debtor.id: debtor, creditor.id: creditor})  # raises InsufficientFunds, writes nothing
    payment = Payment(
        id=payment_id,
        customer_id=customer_id,
        client_id=cx.actor.client_id,
        debtor_account_id=debtor.id,
        creditor_account_id=creditor.id,
        creditor_account_number=creditor.number,
        creditor_name=payee_name,
        to_own_account=own,
        amount_minor=amount.minor,
        currency=amount.currency,
        status=PaymentStatus.RECEIVED.value,
        end_to_end_id=payment_id.replace("-", "")[:35],
        created_at=now,
        status_updated_at=now,
        **{name: getattr(m, name) for name in cmd.echoed_fields(cmd.CreatePayment)},
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
    cx.audit(
        m.operation,
        "payment",
        payment.id,
        {"amount": amount.as_json(), "status": payment.status, "own": own},
    )
    return payment


def list_payments(m: q.ListPayments, cx: Context) -> tuple[Sequence[Payment], bool]:
    rows = cx.uow.payments.for_customer(cx.customer_id, m.after, m.limit + 1)
    cx.audit(m.operation, "customer", cx.customer_id, {"returned": min(len(rows), m.limit)})
    return rows[: m.limit], len(rows) > m.limit


def get_payment(m: q.GetPayment, cx: Context) -> Payment:
    payment = cx.uow.payments.owned(cx.customer_id, m.payment_id)
    if payment is None:
        raise NotFound("No such payment.")
    cx.audit(m.operation, "payment", payment.id)
    return payment


# --- cards -------------------------------------------------------------------------------------


def list_cards(m: q.ListCards, cx: Context) -> Sequence[Card]:
    cards = cx.uow.cards.for_customer(cx.customer_id)
    cx.audit(m.operation, "customer", cx.customer_id, {"count": len(cards)})
    return cards


def _owned_card(cx: Context, card_id: str, for_update: bool = False) -> Card:
    card = cx.uow.cards.owned(cx.customer_id, card_id, for_update=for_update)
    if card is None:
        raise NotFound("No such card.")
    return card


def get_card(m: q.GetCard, cx: Context) -> Card:
    card = _owned_card(cx, m.card_id)
    cx.audit(m.operation, "card", card.id)
    return card


def update_card_controls(m: cmd.UpdateCardControls, cx: Context) -> Card:
    card = _owned_card(cx, m.card_id, for_update=True)
    changed = card.set_locked(m.locked, cx.now)
    cx.audit(m.operation, "card", card.id, {"locked": m.locked, "changed": changed})
    return card


Handler = Callable[[Any, Context], Any]

# Every message type and its handler: the bus dispatches through this table.
HANDLERS: dict[type[Any], Handler] = {
    q.GetMyProfile: get_profile,
    q.ListAccounts: list_accounts,
    q.GetAccount: get_account,
    q.GetAccountBalances: get_account,
    q.ListTransactions: list_transactions,
    q.GetTransaction: get_transaction,
    cmd.CreateConsent: create_consent,
    q.ListConsents: list_consents,
    q.GetConsent: get_consent,
    cmd.RevokeConsent: revoke_consent,
    cmd.AuthoriseConsent: authorise_consent,
    cmd.CreatePayment: create_payment,
    q.ListPayments: list_payments,
    q.GetPayment: get_payment,
    q.ListCards: list_cards,
    q.GetCard: get_card,
    cmd.UpdateCardControls: update_card_controls,
}
