"""The assistant's port onto the app's own operations, under the customer's token.

Each method sends one contract operation's query or command through the message bus, so it gets the
same customer, consent and audit checks as the app's own call; the token's scopes are checked here as
the HTTP edge checks them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from futurebank.sandbox.domain import commands as cmd
from futurebank.sandbox.domain import queries as q
from futurebank.sandbox.domain.cards import Card
from futurebank.sandbox.domain.errors import ConsentRequired, NotFound
from futurebank.sandbox.domain.ledger import Account, AccountKind
from futurebank.sandbox.service_layer import handlers
from futurebank.sandbox.service_layer.assistant import AccountView, CardView, NoAccess, TransactionView
from futurebank.sandbox.service_layer.messagebus import MessageBus
from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

_PAGE = 200


def _account(a: Account) -> AccountView:
    return AccountView(
        a.id, a.kind, a.currency, a.booked.as_json()["amount"], a.available.as_json()["amount"]
    )


def _card(c: Card) -> CardView:
    return CardView(c.id, c.masked_pan[-4:], c.payment_system, c.status, c.locked)


@dataclass
class BusReads:
    bus: MessageBus
    actor: handlers.Actor
    scopes: Collection[str]
    calls: list[str] = field(default_factory=list)

    def _need(self, scope: str) -> None:
        if scope not in self.scopes:
            raise NoAccess(scope)

    def accounts(self) -> Sequence[AccountView]:
        if "accounts:read" in self.scopes:
            self.calls.append("listAccounts")
            try:
                return [_account(a) for a in self.bus.handle(q.ListAccounts(), self.actor)]
            except ConsentRequired as exc:
                raise NoAccess(str(exc)) from exc
        # With transactions:read alone the app still knows its account ids (from the consent screen);
        # the assistant uses the ids, never the balances, then.
        self._need("transactions:read")
        with UnitOfWork(self.bus.db) as uow:  # read only: views are made before the session closes
            owned = uow.accounts.for_customer(self.actor.customer_id or "")
            return [_account(a) for a in owned if a.kind != AccountKind.INTERNAL]

    def balances(self, account_id: str) -> AccountView:
        self._need("accounts:read")
        self.calls.append("getAccountBalances")
        try:
            return _account(self.bus.handle(q.GetAccountBalances(account_id), self.actor))
        except (ConsentRequired, NotFound) as exc:
            raise NoAccess(str(exc)) from exc

    def transactions(
        self, account_id: str, booked_from: datetime | None, booked_to: datetime | None
    ) -> Sequence[TransactionView]:
        self._need("transactions:read")
        self.calls.append("listTransactions")
        query = q.ListTransactions(account_id, booked_from=booked_from, booked_to=booked_to, limit=_PAGE)
        out: list[TransactionView] = []
        try:
            while True:
                rows, more = self.bus.handle(query, self.actor)
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
                query = q.ListTransactions(
                    account_id,
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
        return [_card(c) for c in self.bus.handle(q.ListCards(), self.actor)]

    def set_card_locked(self, card_id: str, locked: bool) -> CardView:
        self._need("cards:write")
        self.calls.append("updateCardControls")
        try:
            return _card(self.bus.handle(cmd.UpdateCardControls(card_id, locked), self.actor))
        except NotFound as exc:
            raise NoAccess(str(exc)) from exc
