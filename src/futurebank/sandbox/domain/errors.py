"""Domain errors. Each carries the contract's stable problem code so the HTTP layer never guesses."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the request."""

    code = "DOMAIN_ERROR"
    status = 422

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InsufficientFunds(DomainError):
    code = "INSUFFICIENT_FUNDS"


class CurrencyMismatch(DomainError):
    code = "CURRENCY_MISMATCH"


class SameAccount(DomainError):
    code = "SAME_ACCOUNT"


class CardClosed(DomainError):
    code = "CARD_CLOSED"


class InvalidAmount(DomainError):
    """Zero, negative or over-precise amounts: reported as a validation failure of the request."""

    code = "VALIDATION_FAILED"
    status = 400
    pointer = "/amount/amount"


class ConsentNotActive(DomainError):
    code = "CONSENT_NOT_ACTIVE"
    status = 409


class HandoffConflict(DomainError):
    """The handoff is another agent's, or its state does not allow the step (close before accept)."""

    code = "HANDOFF_CONFLICT"
    status = 409


class ConversationChanged(DomainError):
    """Another process answered a message of this conversation while this one was being answered."""

    code = "CONVERSATION_CHANGED"
    status = 409


class ConversationClosed(DomainError):
    """An agent closed the conversation's handoff: the customer starts a new conversation (change C-26)."""

    code = "CONVERSATION_CLOSED"
    status = 409


class NotFound(DomainError):
    """Unknown id, or an id that belongs to somebody else: the two are indistinguishable on purpose."""

    code = "RESOURCE_NOT_FOUND"
    status = 404

    def __init__(self, detail: str, pointer: str | None = None) -> None:
        super().__init__(detail)
        self.pointer = pointer


class UnknownCustomer(DomainError):
    """A valid token whose customer no longer exists (a reset removed it): the token no longer
    identifies anybody, so the answer is 401 like any other unusable token, never 404."""

    code = "UNAUTHENTICATED"
    status = 401


class UnbalancedEntry(Exception):
    """A journal entry whose legs do not sum to zero: a programming error, never a user error."""


class ConsentRequired(DomainError):
    """No authorised consent of this customer lets this client read this kind of data."""

    code = "CONSENT_REQUIRED"
    status = 403


class KeyInFlight(DomainError):
    """The same idempotency key is still being processed by another request."""

    code = "IDEMPOTENCY_KEY_IN_FLIGHT"
    status = 409


class KeyReused(DomainError):
    code = "IDEMPOTENCY_KEY_REUSED"
    status = 422


class DatabaseBusy(DomainError):
    """The database stayed locked by another writer past the busy timeout: retry later."""

    code = "DATABASE_BUSY"
    status = 503
    retry_after_s = 1


class InvalidCursor(DomainError):
    code = "INVALID_CURSOR"
    status = 400
