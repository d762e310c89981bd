"""The pure ledger rules: balanced entries, transfers, overdraft limits, pending holds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from futurebank.sandbox.domain.errors import (
    CurrencyMismatch,
    InsufficientFunds,
    InvalidAmount,
    SameAccount,
    UnbalancedEntry,
)
from futurebank.sandbox.domain.ledger import (
    Account,
    EntryStatus,
    JournalEntry,
    Posting,
    check_balanced,
    post,
    transfer_legs,
)
from futurebank.sandbox.domain.money import Money

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def account(
    ident: str,
    booked: int = 0,
    pending: int = 0,
    limit: int = 0,
    currency: str = "RUB",
    kind: str = "current",
) -> Account:
    return Account(
        ident, "c", ident.rjust(20, "0"), ident, currency, kind, limit, booked, pending, "enabled", NOW
    )


def entry(legs: list[Posting], status: EntryStatus = EntryStatus.BOOKED) -> JournalEntry:
    return JournalEntry("e", "transfer", status, NOW, legs)


def test_entries_must_balance() -> None:
    check_balanced([Posting("a", -100, "RUB"), Posting("b", 100, "RUB")])
    for legs in (
        [Posting("a", -100, "RUB")],
        [Posting("a", -100, "RUB"), Posting("b", 99, "RUB")],
        [Posting("a", 0, "RUB"), Posting("b", 0, "RUB")],
        [Posting("a", -100, "RUB"), Posting("b", 100, "USD")],
    ):
        with pytest.raises(UnbalancedEntry):
            check_balanced(legs)


def test_transfer_rules() -> None:
    a, b = account("1", booked=1000), account("2")
    assert transfer_legs(a, b, Money.from_minor(500, "RUB")) == [
        Posting("1", -500, "RUB"),
        Posting("2", 500, "RUB"),
    ]
    with pytest.raises(SameAccount):
        transfer_legs(a, a, Money.from_minor(1, "RUB"))
    with pytest.raises(InvalidAmount):
        transfer_legs(a, b, Money.from_minor(0, "RUB"))
    with pytest.raises(CurrencyMismatch):
        transfer_legs(a, account("3", currency="USD"), Money.from_minor(1, "RUB"))


def test_overdraft_limit_and_holds() -> None:
    a, b = account("1", booked=1000, pending=-300, limit=200), account("2")
    assert a.available.minor == 900
    post(entry(transfer_legs(a, b, Money.from_minor(900, "RUB"))), {"1": a, "2": b})
    assert (a.booked_minor, b.booked_minor) == (100, 900)
    with pytest.raises(InsufficientFunds):
        post(entry(transfer_legs(a, b, Money.from_minor(1, "RUB"))), {"1": a, "2": b})
    assert (a.booked_minor, b.booked_minor) == (100, 900), "a refused entry changes nothing"


def test_internal_accounts_may_go_negative() -> None:
    bank, c = account("bank", kind="internal"), account("c")
    post(entry([Posting("bank", -5000, "RUB"), Posting("c", 5000, "RUB")]), {"bank": bank, "c": c})
    assert bank.booked_minor == -5000


@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(1, 5000)), max_size=60),
    st.lists(st.integers(0, 3000), min_size=4, max_size=4),
)
def test_any_sequence_of_transfers_conserves_money_and_limits(
    moves: list[tuple[int, int, int]], limits: list[int]
) -> None:
    accounts = {str(i): account(str(i), booked=10_000, limit=limits[i]) for i in range(4)}
    for src, dst, amount in moves:
        try:
            legs = transfer_legs(accounts[str(src)], accounts[str(dst)], Money.from_minor(amount, "RUB"))
            post(entry(legs), accounts)
        except (SameAccount, InsufficientFunds):
            pass
        assert sum(a.booked_minor for a in accounts.values()) == 40_000
        assert all(not a.breaks_limit for a in accounts.values())
