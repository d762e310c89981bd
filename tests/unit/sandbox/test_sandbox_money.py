"""Money: exact decimals with a currency; never a float."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from futurebank.sandbox.domain.errors import CurrencyMismatch, InvalidAmount
from futurebank.sandbox.domain.money import Money


def test_parse_and_format() -> None:
    assert Money.parse("1500", "RUB").as_json() == {"amount": "1500.00", "currency": "RUB"}
    assert Money.parse("0.5", "RUB").minor == 50
    assert Money.from_minor(-12345, "USD").as_json() == {"amount": "-123.45", "currency": "USD"}


@pytest.mark.parametrize("text", ["1e3", "1.005", "", "NaN", "1,00", " 1", "+1", "1.", ".5", "1" * 16])
def test_parse_refuses_what_the_contract_pattern_refuses(text: str) -> None:
    with pytest.raises(InvalidAmount):
        Money.parse(text, "RUB")


def test_unknown_currency_and_mixing() -> None:
    with pytest.raises(InvalidAmount):
        Money.parse("1.00", "XYZ")
    with pytest.raises(CurrencyMismatch):
        _ = Money.parse("1", "RUB") + Money.parse("1", "USD")
    with pytest.raises(InvalidAmount):
        Money(Decimal("1.001"), "RUB")


@given(st.integers(min_value=-(10**17) + 1, max_value=10**17 - 1))
def test_minor_units_round_trip(minor: int) -> None:
    money = Money.from_minor(minor, "RUB")
    assert money.minor == minor
    assert Money.parse(money.as_json()["amount"], "RUB") == money


@given(st.lists(st.integers(min_value=-(10**9), max_value=10**9), max_size=30))
def test_sums_are_exact(parts: list[int]) -> None:
    total = Money.zero("RUB")
    for p in parts:
        total = total + Money.from_minor(p, "RUB")
    assert total.minor == sum(parts)
