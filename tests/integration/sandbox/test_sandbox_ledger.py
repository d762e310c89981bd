"""The ledger under concurrency, on both backends: money is conserved, no balance breaks its
limit, every completed payment has exactly its postings, and concurrent transfers cannot overspend
(SELECT … FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE and one writer on SQLite)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sandbox_helpers import (
    ANNA,
    ANNA_CURRENT,
    ANNA_SAVINGS,
    BORIS,
    BORIS_CURRENT,
    assert_ledger_consistent,
    total_customer_money,
)

from futurebank.sandbox.domain.commands import CreatePayment
from futurebank.sandbox.domain.errors import DomainError, InsufficientFunds
from futurebank.sandbox.domain.money import Money
from futurebank.sandbox.entrypoints.deps import Container
from futurebank.sandbox.service_layer.handlers import Actor
from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

ANNA_NUMBER = "40817810000000000001"
BORIS_NUMBER = "40817810000000000003"
SAVINGS_NUMBER = "42301810000000000002"
# (customer, debtor account, creditor account number): the transfers a test may pick from.
ROUTES = [
    (ANNA, ANNA_CURRENT, SAVINGS_NUMBER),
    (ANNA, ANNA_SAVINGS, ANNA_NUMBER),
    (ANNA, ANNA_CURRENT, BORIS_NUMBER),
    (BORIS, BORIS_CURRENT, ANNA_NUMBER),
    (BORIS, BORIS_CURRENT, SAVINGS_NUMBER),
]


def transfer(c: Container, customer: str, debtor: str, creditor_number: str, minor: int) -> str:
    """One payment through the service layer, as createPayment runs it; returns the outcome code."""
    actor = Actor("demo-app", customer, str(uuid.uuid4()))
    amount = Money.from_minor(minor, "RUB").as_json()
    command = CreatePayment(
        str(uuid.uuid4()),
        debtor,
        amount["amount"],
        amount["currency"],
        creditor_account_number=creditor_number,
    )
    try:
        c.bus.handle(command, actor)
    except DomainError as exc:
        return exc.code
    return "ACSC"


def test_concurrent_transfers_cannot_overspend(container: Container) -> None:
    # Anna's current account: 25 000.00 booked, 350.00 held, no overdraft -> 24 650.00 available.
    attempts, amount = 40, 100_000  # 40 x 1 000.00 against 24 650.00: exactly 24 can pass
    barrier = threading.Barrier(attempts)

    def one(_: int) -> str:
        barrier.wait()
        return transfer(container, ANNA, ANNA_CURRENT, BORIS_NUMBER, amount)

    with ThreadPoolExecutor(attempts) as pool:
        outcomes = list(pool.map(one, range(attempts)))
    assert outcomes.count("ACSC") == 24
    assert outcomes.count(InsufficientFunds.code) == 16
    with UnitOfWork(container.db) as uow:
        account = uow.accounts.owned(ANNA, ANNA_CURRENT)
        assert account is not None
        assert account.booked_minor == 2_500_000 - 24 * amount
    assert_ledger_consistent(container)


def test_opposite_transfers_do_not_deadlock(container: Container) -> None:
    def one(i: int) -> str:
        if i % 2:
            return transfer(container, ANNA, ANNA_CURRENT, BORIS_NUMBER, 100)
        return transfer(container, BORIS, BORIS_CURRENT, ANNA_NUMBER, 100)

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(one, range(64)))
    assert outcomes == ["ACSC"] * 64
    assert_ledger_consistent(container)


transfers = st.lists(
    st.tuples(st.sampled_from(range(len(ROUTES))), st.integers(min_value=1, max_value=2_000_000)),
    min_size=1,
    max_size=24,
)


def test_money_is_conserved_under_random_concurrent_transfers(
    make_container: Callable[..., Container],
) -> None:
    c = make_container()
    start = total_customer_money(c)

    @settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(batch=transfers, workers=st.integers(min_value=2, max_value=8))
    def run(batch: list[tuple[int, int]], workers: int) -> None:
        def one(item: tuple[int, int]) -> str:
            customer, debtor, creditor = ROUTES[item[0]]
            return transfer(c, customer, debtor, creditor, item[1])

        with ThreadPoolExecutor(workers) as pool:
            outcomes = list(pool.map(one, batch))
        assert set(outcomes) <= {"ACSC", "INSUFFICIENT_FUNDS"}
        assert total_customer_money(c) == start  # only moved between customers, never made or lost
        assert_ledger_consistent(c)

    run()
