"""Translating domain errors and framework errors into problems."""

from __future__ import annotations

from futurebank.sandbox.domain.errors import (
    CurrencyMismatch,
    DomainError,
    InsufficientFunds,
    InvalidAmount,
    NotFound,
    SameAccount,
)
from futurebank.sandbox.entrypoints.problems import CODES, FieldError, problem_body

# Field a business refusal is about, for the problem's errors[] (the contract's examples).
_POINTERS: dict[type[DomainError], str] = {
    InsufficientFunds: "/amount/amount",
    CurrencyMismatch: "/amount/currency",
    SameAccount: "/creditor_account_id",
}


def domain_problem(exc: DomainError) -> tuple[str, str, list[FieldError]]:
    code = exc.code if exc.code in CODES else "INTERNAL_ERROR"
    pointer = getattr(exc, "pointer", None)
    if pointer is None:
        pointer = next((p for cls, p in _POINTERS.items() if isinstance(exc, cls)), None)
    errors: list[FieldError] = []
    if pointer is not None and isinstance(exc, (InvalidAmount, NotFound, *_POINTERS)):
        field_code = getattr(exc, "field_code", None) or (
            exc.code if exc.code != "VALIDATION_FAILED" else "INVALID"
        )
        errors.append(FieldError(pointer, field_code, exc.detail))
    detail = exc.detail[:1].upper() + exc.detail[1:]
    if not detail.endswith("."):
        detail += "."
    return code, detail, errors


def domain_problem_body(exc: DomainError, instance: str) -> tuple[int, bytes]:
    code, detail, errors = domain_problem(exc)
    return CODES[code][0], problem_body(code, detail, instance, errors)
