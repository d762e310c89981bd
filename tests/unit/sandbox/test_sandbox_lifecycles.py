"""Payment, consent and card lifecycles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from futurebank.sandbox.domain.cards import Card
from futurebank.sandbox.domain.consents import Consent, ConsentStatus, InvalidConsent, Permission
from futurebank.sandbox.domain.errors import CardClosed, ConsentNotActive
from futurebank.sandbox.domain.payments import IllegalTransition, Payment, PaymentStatus

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def payment() -> Payment:
    return Payment("p", "c", "app", "a", "b", "1" * 20, None, True, 100, "RUB", "RCVD", None, "e2e", NOW, NOW)


def test_payment_moves_forward_only() -> None:
    p = payment()
    p.settle("entry", NOW)
    assert (p.status, p.journal_id) == ("ACSC", "entry")
    with pytest.raises(IllegalTransition):
        p.move_to(PaymentStatus.REJECTED, NOW)


def consent(status: str = "awaiting_authorisation", expires: datetime | None = None) -> Consent:
    return Consent("id", None, "budget-app", ["accounts"], status, NOW, NOW, expires)


def test_consent_lifecycle() -> None:
    c = consent()
    assert not c.allows(Permission.ACCOUNTS, NOW)
    c.authorise("anna", NOW)
    assert c.allows(Permission.ACCOUNTS, NOW) and not c.allows(Permission.TRANSACTIONS, NOW)
    c.revoke(NOW)
    assert c.current_status(NOW) is ConsentStatus.REVOKED
    with pytest.raises(ConsentNotActive):
        c.revoke(NOW)
    with pytest.raises(ConsentNotActive):
        c.authorise("anna", NOW)


def test_consent_expires_by_time() -> None:
    c = consent("authorised", NOW + timedelta(days=1))
    assert c.current_status(NOW).value == "authorised"
    assert c.current_status(NOW + timedelta(days=2)) is ConsentStatus.EXPIRED
    with pytest.raises(ConsentNotActive):
        c.revoke(NOW + timedelta(days=2))


@pytest.mark.parametrize("days", [-1, 0, 181])
def test_consent_validity_window(days: int) -> None:
    with pytest.raises(InvalidConsent):
        consent(expires=NOW + timedelta(days=days)).check_request()
    consent(expires=NOW + timedelta(days=180)).check_request()


def test_card_lock_is_idempotent_and_closed_cards_refuse() -> None:
    card = Card("c", "anna", "a", "220000******0001", "mir", "debit", "2030-06", "active", False, NOW)
    later = NOW + timedelta(hours=1)
    assert card.set_locked(True, later) and card.controls_updated_at == later
    assert not card.set_locked(True, later + timedelta(hours=1)) and card.controls_updated_at == later
    for status in ("closed", "expired"):
        with pytest.raises(CardClosed):
            Card(
                "c", "anna", "a", "220000******0001", "mir", "debit", "2030-06", status, False, NOW
            ).set_locked(True, NOW)
