"""Payment cards and their controls."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from futurebank.sandbox.domain.errors import CardClosed


class CardStatus(StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    CLOSED = "closed"


@dataclass(eq=False)
class Card:
    id: str
    customer_id: str
    account_id: str
    masked_pan: str
    payment_system: str
    card_type: str
    expiry: str  # YYYY-MM
    status: str
    locked: bool
    controls_updated_at: datetime

    def set_locked(self, locked: bool, now: datetime) -> bool:
        """Lock or unlock; returns whether anything changed (repeating a lock is harmless)."""
        if self.status != CardStatus.ACTIVE:
            raise CardClosed(f"the card is {self.status}; its controls cannot change")
        changed = self.locked != locked
        self.locked = locked
        if changed:
            self.controls_updated_at = now
        return changed
