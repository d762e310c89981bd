"""Commands: what a caller asks the bank to change, in the imperative (cosmicpython's
``commands``). They carry the request's facts as plain values (money as the decimal string and the
currency code the caller sent); parsing, ids, the clock and the idempotency fingerprint are the
service layer's job, so every entry point (HTTP, ``make bench``, tests) drives the same API.

Each message names the type of its result (``Message[R]``), so ``MessageBus.handle`` is typed
end to end. Adding a field to a command is adding it here: the idempotency fingerprint is built from
the dataclass fields, so it follows without another list.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from futurebank.sandbox.domain.cards import Card
from futurebank.sandbox.domain.consents import Consent, Permission
from futurebank.sandbox.domain.payments import Payment

R = TypeVar("R")
# A command field the resulting record keeps as given and the API shows back (for a payment:
# stored on ``Payment`` and written into its representation). Marking the field is all it takes.
ECHOED = {"echoed": True}


def echoed_fields(command: type[Message[Any]]) -> tuple[str, ...]:
    return tuple(f.name for f in fields(command) if f.metadata.get("echoed"))


@dataclass(frozen=True)
class Message(Generic[R]):
    """A command or a query. ``operation`` is the contract's operationId (audit and metrics share
    that vocabulary); ``permission`` names the consent permission a read needs (None: none)."""

    operation: ClassVar[str] = ""
    permission: ClassVar[Permission | None] = None
    # The bus checks that the token's customer exists before the handler runs, unless the handler
    # finds out anyway (createPayment reads the customer's account under lock: one query less).
    bus_checks_customer: ClassVar[bool] = True


@dataclass(frozen=True)
class Command(Message[R]):
    """A message that changes state."""


@dataclass(frozen=True)
class CreatePayment(Command[Payment]):
    """A transfer within the bank, run at most once per (client, customer, idempotency key)."""

    operation: ClassVar[str] = "createPayment"
    bus_checks_customer: ClassVar[bool] = False
    idempotency_key: str
    debtor_account_id: str
    amount: str  # the decimal string as sent; the service parses it with the currency
    currency: str
    creditor_account_id: str | None = None
    creditor_account_number: str | None = None
    remittance_information: str | None = field(default=None, metadata=ECHOED)


@dataclass(frozen=True)
class CreateConsent(Command[Consent]):
    operation: ClassVar[str] = "createConsent"
    permissions: tuple[str, ...]
    expires_at: datetime | None = None
    transactions_from: datetime | None = None
    transactions_to: datetime | None = None


@dataclass(frozen=True)
class RevokeConsent(Command[Consent]):
    operation: ClassVar[str] = "revokeConsent"
    consent_id: str


@dataclass(frozen=True)
class AuthoriseConsent(Command[Consent]):
    """The customer's authorisation step for a consent a client app created."""

    operation: ClassVar[str] = "authoriseConsent"
    consent_id: str


@dataclass(frozen=True)
class UpdateCardControls(Command[Card]):
    operation: ClassVar[str] = "updateCardControls"
    card_id: str
    locked: bool
