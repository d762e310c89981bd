"""Money as an exact decimal amount plus an ISO 4217 currency. Never a float.

The ledger stores integer minor units (kopecks) because SQLite has no exact decimal column type;
``Money`` converts at the edges.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from futurebank.sandbox.domain.errors import CurrencyMismatch, InvalidAmount

# All currencies the sandbox knows use two minor digits (ISO 4217 exponent 2).
MINOR_DIGITS: dict[str, int] = {"RUB": 2, "USD": 2, "EUR": 2, "CNY": 2}
AMOUNT_PATTERN = re.compile(r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$")
_CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if self.currency not in MINOR_DIGITS:
            raise InvalidAmount(f"unsupported currency {self.currency!r}")
        if self.amount != self.amount.quantize(_CENT):
            raise InvalidAmount(f"{self.amount} has more than two decimal places")

    @classmethod
    def parse(cls, amount: str, currency: str) -> Money:
        """Parse the contract's decimal string; refuses floats in disguise such as ``1e3``."""
        if not AMOUNT_PATTERN.match(amount):
            raise InvalidAmount(f"amount {amount!r} is not a decimal string with up to two decimals")
        try:
            value = Decimal(amount)
        except InvalidOperation as exc:  # pragma: no cover - the pattern already excludes this
            raise InvalidAmount(f"amount {amount!r} is not a number") from exc
        return cls(value.quantize(_CENT), currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        return cls((Decimal(minor) / 100).quantize(_CENT), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal("0.00"), currency)

    @property
    def minor(self) -> int:
        return int((self.amount * 100).to_integral_value(rounding=ROUND_HALF_EVEN))

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatch(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    def abs(self) -> Money:
        return Money(abs(self.amount), self.currency)

    def as_json(self) -> dict[str, str]:
        """The contract's money object: the amount as a string with exactly two decimals."""
        return {"amount": f"{self.amount:.2f}", "currency": self.currency}
