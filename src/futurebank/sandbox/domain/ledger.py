"""Double-entry ledger: accounts, postings (legs) and journal entries whose legs sum to zero.

An account's balances are the sums of its postings. ``Account`` keeps those sums as cached columns
so the overdraft check needs one row; the integration tests re-add the postings and compare.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from futurebank.sandbox.domain.errors import (
    CurrencyMismatch,
    InsufficientFunds,
    InvalidAmount,
    SameAccount,
    UnbalancedEntry,
)
from futurebank.sandbox.domain.money import Money


class EntryStatus(StrEnum):
    """ISO 20022 entry status: booked, or pending (a card authorisation not yet cleared)."""

    BOOKED = "BOOK"
    PENDING = "PDNG"


class AccountKind(StrEnum):
    CURRENT = "current"
    SAVINGS = "savings"
    CARD = "card"
    # The bank's own accounts (card settlement, payroll clearing): the other leg of money that
    # enters or leaves the bank's customers. They may go negative without limit.
    INTERNAL = "internal"


@dataclass(eq=False)
class Account:
    id: str
    customer_id: str | None  # None for the bank's internal accounts
    number: str
    name: str
    currency: str
    kind: str
    overdraft_limit_minor: int
    booked_minor: int
    pending_minor: int
    status: str
    opened_at: datetime

    @property
    def booked(self) -> Money:
        return Money.from_minor(self.booked_minor, self.currency)

    @property
    def available(self) -> Money:
        """Booked plus pending (holds are negative) plus the agreed overdraft."""
        return Money.from_minor(
            self.booked_minor + self.pending_minor + self.overdraft_limit_minor, self.currency
        )

    @property
    def overdraft_limit(self) -> Money:
        return Money.from_minor(self.overdraft_limit_minor, self.currency)

    def apply(self, leg: Posting, status: EntryStatus) -> None:
        if leg.currency != self.currency:
            raise CurrencyMismatch(f"account {self.id} is in {self.currency}, the leg in {leg.currency}")
        if status is EntryStatus.BOOKED:
            self.booked_minor += leg.amount_minor
        else:
            self.pending_minor += leg.amount_minor
        if self.kind != AccountKind.INTERNAL and leg.amount_minor < 0 and self.breaks_limit:
            raise InsufficientFunds("the debit would take the account beyond its overdraft limit")

    @property
    def breaks_limit(self) -> bool:
        return self.booked_minor + self.pending_minor < -self.overdraft_limit_minor


@dataclass(frozen=True, slots=True)
class Posting:
    """One leg: a signed amount in minor units on one account (credit positive, debit negative)."""

    account_id: str
    amount_minor: int
    currency: str


@dataclass(frozen=True, slots=True)
class Merchant:
    name: str
    mcc: str  # ISO 18245, four digits
    city: str | None = None
    country: str | None = None


@dataclass
class JournalEntry:
    id: str
    kind: str
    status: EntryStatus
    booked_at: datetime
    legs: list[Posting]
    description: str = ""
    merchant: Merchant | None = None
    card_id: str | None = None
    payment_id: str | None = None

    def __post_init__(self) -> None:
        check_balanced(self.legs)


def check_balanced(legs: list[Posting]) -> None:
    """Raise unless there are two or more non-zero legs that sum to zero in every currency."""
    if len(legs) < 2:
        raise UnbalancedEntry("a journal entry needs at least two legs")
    if any(leg.amount_minor == 0 for leg in legs):
        raise UnbalancedEntry("a leg of zero moves nothing")
    totals: dict[str, int] = defaultdict(int)
    for leg in legs:
        totals[leg.currency] += leg.amount_minor
    if any(totals.values()):
        raise UnbalancedEntry(f"legs do not sum to zero: {dict(totals)}")


def transfer_legs(debtor: Account, creditor: Account, amount: Money) -> list[Posting]:
    """Check a transfer between two accounts and return its two legs (not yet applied)."""
    if debtor.id == creditor.id:
        raise SameAccount("the debtor and creditor accounts are the same account")
    if not amount.is_positive:
        raise InvalidAmount("the amount must be greater than zero")
    if amount.currency != debtor.currency or amount.currency != creditor.currency:
        accounts = f"{debtor.currency} and {creditor.currency}"
        raise CurrencyMismatch(f"the amount is in {amount.currency}; the accounts are in {accounts}")
    return [
        Posting(debtor.id, -amount.minor, amount.currency),
        Posting(creditor.id, amount.minor, amount.currency),
    ]


def post(entry: JournalEntry, accounts: dict[str, Account]) -> None:
    """Apply every leg of a balanced entry to its account; raises before anything is half-applied.

    Debits are checked against the limit after all legs are applied to a copy, so a refused entry
    leaves the accounts untouched.
    """
    check_balanced(entry.legs)
    staged = {acc_id: (acc.booked_minor, acc.pending_minor) for acc_id, acc in accounts.items()}
    try:
        for leg in entry.legs:
            accounts[leg.account_id].apply(leg, entry.status)
    except Exception:
        for acc_id, (booked, pending) in staged.items():
            accounts[acc_id].booked_minor = booked
            accounts[acc_id].pending_minor = pending
        raise
