"""Consents: a customer lets one client application read some of their data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from futurebank.sandbox.domain.errors import ConsentNotActive, InvalidAmount

MAX_VALIDITY = timedelta(days=180)


class ConsentStatus(StrEnum):
    AWAITING = "awaiting_authorisation"
    AUTHORISED = "authorised"
    REJECTED = "rejected"
    REVOKED = "revoked"
    EXPIRED = "expired"


class Permission(StrEnum):
    ACCOUNTS = "accounts"
    BALANCES = "balances"
    TRANSACTIONS = "transactions"


class InvalidConsent(InvalidAmount):
    """A consent request that is well-formed JSON but impossible (reported as VALIDATION_FAILED)."""

    def __init__(self, detail: str, pointer: str, field_code: str) -> None:
        super().__init__(detail)
        self.pointer = pointer
        self.field_code = field_code  # the contract's field error code (createConsent's description)


@dataclass(eq=False)
class Consent:
    id: str
    customer_id: str | None  # None until a customer authorises a consent a client app created
    client_id: str
    permissions: list[str]
    status: str
    created_at: datetime
    status_updated_at: datetime
    expires_at: datetime | None = None
    transactions_from: datetime | None = None
    transactions_to: datetime | None = None

    def check_request(self) -> None:
        # Both windows count from the request time (created_at), as the contract words the rule.
        if self.expires_at is not None:
            if self.expires_at <= self.created_at:
                raise InvalidConsent(
                    "the consent's expires_at must be later than the time of the request",
                    "/expires_at",
                    "OUT_OF_RANGE",
                )
            if self.expires_at > self.created_at + MAX_VALIDITY:
                raise InvalidConsent(
                    "the consent's expires_at must be at most 180 days after the time of the request",
                    "/expires_at",
                    "OUT_OF_RANGE",
                )
        if (
            self.transactions_from is not None
            and self.transactions_to is not None
            and self.transactions_to < self.transactions_from
        ):
            raise InvalidConsent(
                "the consent's transactions_to must not be before transactions_from",
                "/transactions_to",
                "BEFORE_TRANSACTIONS_FROM",
            )

    def current_status(self, now: datetime) -> ConsentStatus:
        """Expiry is a fact of time, not an event: a live consent past its end reads as expired."""
        status = ConsentStatus(self.status)
        live = status in (ConsentStatus.AUTHORISED, ConsentStatus.AWAITING)
        if live and self.expires_at is not None and now >= self.expires_at:
            return ConsentStatus.EXPIRED
        return status

    def authorise(self, customer_id: str, now: datetime) -> None:
        if self.current_status(now) is not ConsentStatus.AWAITING:
            raise ConsentNotActive(f"consent is {self.current_status(now).value}, not awaiting authorisation")
        self.customer_id = customer_id
        self.status = ConsentStatus.AUTHORISED.value
        self.status_updated_at = now

    def revoke(self, now: datetime) -> None:
        status = self.current_status(now)
        if status not in (ConsentStatus.AWAITING, ConsentStatus.AUTHORISED):
            raise ConsentNotActive(f"the consent is already {status.value}")
        self.status = ConsentStatus.REVOKED.value
        self.status_updated_at = now

    def allows(self, permission: Permission, now: datetime) -> bool:
        return self.current_status(now) is ConsentStatus.AUTHORISED and permission.value in self.permissions
