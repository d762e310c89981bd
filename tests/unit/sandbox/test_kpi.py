"""KPI events' data minimisation: the age band on the day, a stable pseudonym, nothing identifying."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from futurebank.sandbox.domain.kpi import KpiEvent, age_band, customer_key


def test_the_band_is_the_age_on_the_day_of_the_event() -> None:
    born = date(2005, 6, 15)
    assert age_band(born, date(2023, 6, 14)) == "14-17"  # 17, the day before the 18th birthday
    assert age_band(born, date(2023, 6, 15)) == "18-24"
    assert age_band(born, date(2030, 6, 14)) == "18-24"
    assert age_band(born, date(2030, 6, 15)) == "25-35"
    assert age_band(born, date(2041, 6, 15)) == "36+"
    assert age_band(date(2016, 2, 29), date(2026, 12, 2)) == "unknown"  # under 14: no app customer
    assert age_band(None, date(2026, 12, 2)) == "unknown"


def test_the_customer_key_is_stable_and_keyed() -> None:
    one = customer_key(b"k" * 32, "10000000-0000-4000-8000-000000000001")
    assert one == customer_key(b"k" * 32, "10000000-0000-4000-8000-000000000001")
    assert one != customer_key(b"x" * 32, "10000000-0000-4000-8000-000000000001")
    assert one != customer_key(b"k" * 32, "10000000-0000-4000-8000-000000000002")
    assert len(one) == 64 and "10000000" not in one


def test_the_payload_has_the_contract_shape_and_nothing_identifying() -> None:
    event = KpiEvent(
        "7c9e6679-7425-40de-944b-e07fc1f90ae7",
        "paymentCompleted",
        datetime(2026, 6, 1, 7, 30, tzinfo=UTC),
        "ab" * 32,
        "18-24",
        "demo-app",
        "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    )
    payload = event.payload()
    assert payload["event_type"] == "kpi.recorded"
    assert payload["occurred_at"] == "2026-06-01T07:30:00+00:00"
    assert set(payload["data"]) == {"event", "customer_key", "customer_age_band", "client_id"}  # type: ignore[arg-type]
    assert "birth" not in json.dumps(payload)
