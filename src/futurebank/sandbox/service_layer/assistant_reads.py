"""The assistant's port onto the app's own operations (service_layer.handlers), under the customer's token.

Each method is one contract operation with the same consent checks and audit records the app's calls
get; the token's scopes are checked here as the HTTP edge checks them. When the core's handlers are
renamed, only this adapter changes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from futurebank.sandbox.domain.cards import Card
from futurebank.sandbox.domain.errors import ConsentRequired, NotFound
from futurebank.sandbox.domain.ledger import Account, AccountKind
from futurebank.sandbox.service_layer import handlers
from futurebank.sandbox.service_layer.assistant import AccountView, CardView, NoAccess, TransactionView
from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

_PAGE = 200


def _account(a: Account) -> AccountView:
    return AccountView(
        a.id, a.kind, a.currency, a.booked.as_json()["amount"], a.available.as_json()["amount"]
    )


def _card(c: Card) -> CardView:
    return CardView(c.id, c.masked_pan[-4:], c.payment_system, c.status, c.locked)


@dataclass
class HandlerReads:
    uow: UnitOfWork
    actor: handlers.Actor
    scopes: Collection[str]
    now: datetime
    calls: list[str] = field(default_factory=list)

    def _need(self, scope: str) -> None:
        if scope not in self.scopes:
            raise NoAccess(scope)

    def accounts(self) -> Sequence[AccountView]:
        if "accounts:read" in self.scopes:
            self.calls.append("listAccounts")
            try:
                return [_account(a) for a in handlers.list_accounts(self.uow, self.actor, self.now)]
            except ConsentRequired as exc:
                raise NoAccess(str(exc)) from exc
        # With transactions:read alone the app still knows its account ids (from the consent screen);
        # the assistant uses the ids, never the balances, then.
        self._need("transactions:read")
        owned = self.uow.accounts.for_customer(self.actor.customer_id or "")
        return [_account(a) for a in owned if a.kind != AccountKind.INTERNAL]

    def balances(self, account_id: str) -> AccountView:
        self._need("accounts:read")
        self.calls.append("getAccountBalances")
        try:
            return _account(handlers.get_balances(self.uow, self.actor, account_id, self.now))
        except (ConsentRequired, NotFound) as exc:
            raise NoAccess(str(exc)) from exc

    def transactions(
        self, account_id: str, booked_from: datetime | None, booked_to: datetime | None
    ) -> Sequence[TransactionView]:
        self._need("transactions:read")
        self.calls.append("listTransactions")
        query = handlers.TransactionQuery(booked_from=booked_from, booked_to=booked_to, limit=_PAGE)
        out: list[TransactionView] = []
        try:
            while True:
                rows, more = handlers.list_transactions(self.uow, self.actor, account_id, query, self.now)
                out.extend(
                    TransactionView(
                        transaction_id=r.id,
                        account_id=r.account_id,
                        amount=f"{abs(r.amount_minor) // 100}.{abs(r.amount_minor) % 100:02d}",
                        currency=r.currency,
                        indicator="CRDT" if r.amount_minor > 0 else "DBIT",
                        status=r.status,
                        booked_at=r.booked_at,
                        merchant_name=r.merchant_name,
                        mcc=r.mcc,
                        card_id=r.card_id,
                        counterparty_name=r.counterparty_name,
                    )
                    for r in rows
                )
                if not more or not rows:
                    return out
                query = handlers.TransactionQuery(
                    booked_from=booked_from,
                    booked_to=booked_to,
                    after=(rows[-1].booked_at, rows[-1].seq),
                    limit=_PAGE,
                )
        except (ConsentRequired, NotFound) as exc:
            raise NoAccess(str(exc)) from exc

    def cards(self) -> Sequence[CardView]:
        self._need("cards:read")
        self.calls.append("listCards")
        return [_card(c) for c in handlers.list_cards(self.uow, self.actor, self.now)]

    def set_card_locked(self, card_id: str, locked: bool) -> CardView:
        self._need("cards:write")
        self.calls.append("updateCardControls")
        try:
            return _card(handlers.update_card_controls(self.uow, self.actor, card_id, locked, self.now))
        except NotFound as exc:
            raise NoAccess(str(exc)) from exc
