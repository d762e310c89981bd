"""Payments between accounts held at the bank. Status codes are ISO 20022 (pain.002)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from futurebank.sandbox.domain.money import Money


class PaymentStatus(StrEnum):
    RECEIVED = "RCVD"
    ACCEPTED_TECHNICAL = "ACTC"
    SETTLED = "ACSC"
    REJECTED = "RJCT"


# A payment moves forward only; RJCT and ACSC are final.
_NEXT: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.RECEIVED: frozenset({PaymentStatus.ACCEPTED_TECHNICAL, PaymentStatus.REJECTED}),
    PaymentStatus.ACCEPTED_TECHNICAL: frozenset({PaymentStatus.SETTLED, PaymentStatus.REJECTED}),
    PaymentStatus.SETTLED: frozenset(),
    PaymentStatus.REJECTED: frozenset(),
}


class IllegalTransition(Exception):
    pass


@dataclass(eq=False)
class Payment:
    id: str
    customer_id: str
    client_id: str
    debtor_account_id: str
    creditor_account_id: str  # always known internally; shown only for own-account transfers
    creditor_account_number: str
    creditor_name: str | None  # masked name of another customer; None for own accounts
    to_own_account: bool
    amount_minor: int
    currency: str
    status: str
    remittance_information: str | None
    end_to_end_id: str
    created_at: datetime
    status_updated_at: datetime
    journal_id: str | None = None
    status_reason: str | None = None

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)

    def move_to(self, status: PaymentStatus, at: datetime) -> None:
        if status not in _NEXT[PaymentStatus(self.status)]:
            raise IllegalTransition(f"{self.status} -> {status}")
        self.status = status.value
        self.status_updated_at = at

    def settle(self, journal_id: str, at: datetime) -> None:
        """Book the internal transfer: RCVD -> ACTC -> ACSC in one step (same bank, same ledger)."""
        self.move_to(PaymentStatus.ACCEPTED_TECHNICAL, at)
        self.move_to(PaymentStatus.SETTLED, at)
        self.journal_id = journal_id
