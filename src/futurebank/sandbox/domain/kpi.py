"""KPI events for product analytics (US-0024): one per completed customer action, carrying a
pseudonymous customer key and the age band, never the birth date, name or an account number."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date, datetime

# The bands the young-customer count reports (docs/personas, young-customer-count); under 14 the
# bank has no app customers, so such a date is a data error and reported as unknown.
AGE_BANDS = ((14, 17, "14-17"), (18, 24, "18-24"), (25, 35, "25-35"))
UNKNOWN_BAND = "unknown"


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def age_band(birth: date | None, day: date) -> str:
    if birth is None:
        return UNKNOWN_BAND
    age = age_on(birth, day)
    if age >= 36:
        return "36+"
    return next((band for low, high, band in AGE_BANDS if low <= age <= high), UNKNOWN_BAND)


def customer_key(secret: bytes, customer_id: str) -> str:
    """A stable pseudonym: the same customer always gets the same key, and analytics, which never
    holds the secret, cannot turn it back into the customer id."""
    return hmac.new(secret, customer_id.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class KpiEvent:
    event_id: str
    event: str  # paymentCompleted, cardControlsChanged, consentGranted, consentRevoked
    occurred_at: datetime
    customer_key: str
    customer_age_band: str
    client_id: str
    correlation_id: str

    def payload(self) -> dict[str, object]:
        """The AsyncAPI message (channel kpiEvents), as published."""
        return {
            "event_id": self.event_id,
            "event_type": "kpi.recorded",
            "occurred_at": self.occurred_at.isoformat(),
            "correlation_id": self.correlation_id,
            "data": {
                "event": self.event,
                "customer_key": self.customer_key,
                "customer_age_band": self.customer_age_band,
                "client_id": self.client_id,
            },
        }
