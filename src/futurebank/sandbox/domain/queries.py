"""Queries: what a caller asks to read. Like commands they are plain values; a query that reads
consented data names its ``permission`` and the message bus checks the consent before the handler
runs, in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from futurebank.sandbox.domain.cards import Card
from futurebank.sandbox.domain.commands import Message
from futurebank.sandbox.domain.consents import Consent, Permission
from futurebank.sandbox.domain.customers import Customer
from futurebank.sandbox.domain.ledger import Account
from futurebank.sandbox.domain.payments import Payment

# A page of rows and whether another page follows.
Page = tuple[Sequence[Any], bool]


@dataclass(frozen=True)
class GetMyProfile(Message[Customer]):
    operation: ClassVar[str] = "getMyProfile"


@dataclass(frozen=True)
class ListAccounts(Message[Sequence[Account]]):
    operation: ClassVar[str] = "listAccounts"
    permission: ClassVar[Permission | None] = Permission.ACCOUNTS


@dataclass(frozen=True)
class GetAccount(Message[Account]):
    operation: ClassVar[str] = "getAccount"
    permission: ClassVar[Permission | None] = Permission.ACCOUNTS
    account_id: str


@dataclass(frozen=True)
class GetAccountBalances(Message[Account]):
    operation: ClassVar[str] = "getAccountBalances"
    permission: ClassVar[Permission | None] = Permission.BALANCES
    account_id: str


@dataclass(frozen=True)
class ListTransactions(Message[Page]):
    operation: ClassVar[str] = "listTransactions"
    permission: ClassVar[Permission | None] = Permission.TRANSACTIONS
    account_id: str
    booked_from: datetime | None = None
    booked_to: datetime | None = None  # exclusive
    indicator: str | None = None
    after: tuple[datetime, int] | None = None
    limit: int = 50


@dataclass(frozen=True)
class GetTransaction(Message[Any]):  # a TransactionRow (an adapters read model)
    operation: ClassVar[str] = "getTransaction"
    permission: ClassVar[Permission | None] = Permission.TRANSACTIONS
    account_id: str
    transaction_id: str


@dataclass(frozen=True)
class ListConsents(Message[Page]):
    operation: ClassVar[str] = "listConsents"
    after: tuple[datetime, str] | None = None
    limit: int = 50


@dataclass(frozen=True)
class GetConsent(Message[Consent]):
    operation: ClassVar[str] = "getConsent"
    consent_id: str


@dataclass(frozen=True)
class ListPayments(Message[Page]):
    operation: ClassVar[str] = "listPayments"
    after: tuple[datetime, str] | None = None
    limit: int = 50


@dataclass(frozen=True)
class GetPayment(Message[Payment]):
    operation: ClassVar[str] = "getPayment"
    payment_id: str


@dataclass(frozen=True)
class ListCards(Message[Sequence[Card]]):
    operation: ClassVar[str] = "listCards"


@dataclass(frozen=True)
class GetCard(Message[Card]):
    operation: ClassVar[str] = "getCard"
    card_id: str


@dataclass(frozen=True)
class GetCarbonFootprint(Message[Any]):
    """A spend-based footprint estimate of an account's card purchases (US-0021); the result is a
    ``futurebank.footprint.method.Footprint``. Dates are inclusive calendar dates in Moscow time."""

    operation: ClassVar[str] = "getCarbonFootprint"
    permission: ClassVar[Permission | None] = Permission.TRANSACTIONS
    account_id: str
    period_first: date
    period_last: date


@dataclass(frozen=True)
class ListGreenProducts(Message[list[dict[str, Any]]]):
    """The products that carry a green label (US-0022)."""

    operation: ClassVar[str] = "listGreenProducts"
