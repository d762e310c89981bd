"""The ledger's invariants are the database's own (migration 0002): plain SQL that would break one
is refused by the database itself, on SQLite and on PostgreSQL alike. No application code runs here:
each test talks to the engine with SQL text."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from sandbox_helpers import (
    ANNA_CURRENT,
    ANNA_SAVINGS,
    BORIS_CURRENT,
    BORIS_USD,
    assert_ledger_consistent,
)
from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from futurebank.sandbox import bootstrap
from futurebank.sandbox.entrypoints.deps import Container

NOW = "2026-11-30 12:00:00"


@pytest.fixture
def sql(container: Container) -> Iterator[Connection]:
    """A bare connection; every test commits (or fails) inside its own ``begin()``."""
    with container.db.engine.connect() as conn:
        yield conn


def entry(conn: Connection, entry_id: str) -> None:
    conn.execute(
        text(
            "INSERT INTO journal_entries (id, kind, status, booked_at, description)"
            " VALUES (:id, 'transfer', 'BOOK', :at, 'plain SQL')"
        ),
        {"id": entry_id, "at": NOW},
    )


def leg(conn: Connection, entry_id: str, account: str, amount: int, currency: str = "RUB") -> None:
    conn.execute(
        text(
            "INSERT INTO postings (id, entry_id, account_id, amount_minor, currency, status, booked_at)"
            " VALUES (:id, :entry, :account, :amount, :currency, 'BOOK', :at)"
        ),
        {
            "id": str(uuid.uuid4()),
            "entry": entry_id,
            "account": account,
            "amount": amount,
            "currency": currency,
            "at": NOW,
        },
    )


def balance(conn: Connection, account: str) -> int:
    query = text("SELECT booked_minor FROM accounts WHERE id = :id")
    value = int(conn.execute(query, {"id": account}).scalar_one())
    conn.rollback()  # end the read's transaction, so the test's own begin() can start one
    return value


def refused(conn: Connection, invariant: str, *statements: str) -> str:
    """Run the statements in one transaction; the database must refuse (now or at commit)."""
    with pytest.raises(DBAPIError) as caught, conn.begin():
        for statement in statements:
            conn.execute(text(statement))
    message = str(caught.value.orig)
    if invariant:
        assert invariant in message, message
    return message


def test_a_balanced_entry_in_plain_sql_is_accepted_and_moves_the_balances(sql: Connection) -> None:
    before = balance(sql, ANNA_CURRENT), balance(sql, ANNA_SAVINGS)
    with sql.begin():
        leg(sql, "e-ok", ANNA_CURRENT, -150)
        leg(sql, "e-ok", ANNA_SAVINGS, 150)
        entry(sql, "e-ok")
    assert (balance(sql, ANNA_CURRENT), balance(sql, ANNA_SAVINGS)) == (before[0] - 150, before[1] + 150)


@pytest.mark.parametrize(
    "legs",
    [
        pytest.param([(ANNA_CURRENT, -100, "RUB")], id="one-leg"),
        pytest.param([(ANNA_CURRENT, -100, "RUB"), (ANNA_SAVINGS, 99, "RUB")], id="off-by-one"),
        pytest.param([], id="no-legs"),
    ],
)
def test_an_unbalanced_entry_is_refused(sql: Connection, legs: list[tuple[str, int, str]]) -> None:
    with pytest.raises(DBAPIError) as caught, sql.begin():
        for account, amount, currency in legs:
            leg(sql, "e-bad", account, amount, currency)
        entry(sql, "e-bad")
    assert "entry-balanced" in str(caught.value.orig)
    assert sql.execute(text("SELECT count(*) FROM journal_entries WHERE id = 'e-bad'")).scalar_one() == 0


def test_legs_must_balance_per_currency_not_overall(sql: Connection) -> None:
    # +100 RUB and -100 USD sum to zero as numbers, but not in any one currency.
    with pytest.raises(DBAPIError) as caught, sql.begin():
        leg(sql, "e-fx", BORIS_CURRENT, 100, "RUB")
        leg(sql, "e-fx", BORIS_USD, -100, "USD")
        entry(sql, "e-fx")
    assert "entry-balanced" in str(caught.value.orig)


def test_a_leg_cannot_be_slipped_into_an_existing_entry(sql: Connection) -> None:
    with sql.begin():
        leg(sql, "e-done", ANNA_CURRENT, -10)
        leg(sql, "e-done", ANNA_SAVINGS, 10)
        entry(sql, "e-done")
    with pytest.raises(DBAPIError) as caught, sql.begin():
        leg(sql, "e-done", ANNA_SAVINGS, 5)  # PostgreSQL: unbalanced at commit; SQLite: entry closed
    assert "entry-balanced" in str(caught.value.orig)


def test_a_leg_in_another_currency_than_its_account_is_refused(sql: Connection) -> None:
    # Balanced in USD, but ANNA_CURRENT is a RUB account: the composite foreign key refuses it.
    with pytest.raises(DBAPIError) as caught, sql.begin():
        leg(sql, "e-cur", ANNA_CURRENT, 100, "USD")
        leg(sql, "e-cur", BORIS_USD, -100, "USD")
        entry(sql, "e-cur")
    assert "foreign key" in str(caught.value.orig).lower()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE postings SET amount_minor = amount_minor * 2",
        "DELETE FROM postings",
        "UPDATE journal_entries SET description = 'rewritten'",
        "DELETE FROM journal_entries",
        "UPDATE audit_log SET customer_id = 'someone-else'",
        "DELETE FROM audit_log",
    ],
)
def test_postings_entries_and_audit_entries_are_append_only(sql: Connection, statement: str) -> None:
    refused(sql, "append-only", statement)


def test_truncate_is_refused_on_postgresql(sql: Connection) -> None:
    if sql.dialect.name == "sqlite":
        pytest.skip("SQLite has no TRUNCATE; its DELETE is refused above")
    refused(sql, "append-only", "TRUNCATE audit_log")


@pytest.mark.parametrize(
    "statement",
    [
        f"UPDATE accounts SET booked_minor = booked_minor + 100000 WHERE id = '{ANNA_CURRENT}'",
        f"UPDATE accounts SET pending_minor = pending_minor - 1 WHERE id = '{ANNA_CURRENT}'",
        # moving the pointer back to let an old posting be counted twice
        f"UPDATE accounts SET last_posting_seq = last_posting_seq - 1 WHERE id = '{ANNA_CURRENT}'",
        "INSERT INTO accounts (id, customer_id, number, name, currency, kind, overdraft_limit_minor,"
        " booked_minor, pending_minor, status, opened_at) VALUES ('a-rich', NULL, '40817810999999999999',"
        f" 'money from nowhere', 'RUB', 'current', 0, 100000, 0, 'enabled', '{NOW}')",
    ],
    ids=["booked", "pending", "pointer", "opened-with-money"],
)
def test_a_stored_balance_changes_only_by_a_posting(sql: Connection, statement: str) -> None:
    refused(sql, "balance-from-postings", statement)


def test_other_account_columns_stay_writable(sql: Connection) -> None:
    with sql.begin():
        sql.execute(text(f"UPDATE accounts SET name = 'Renamed' WHERE id = '{ANNA_CURRENT}'"))
    assert (
        sql.execute(text(f"SELECT name FROM accounts WHERE id = '{ANNA_CURRENT}'")).scalar_one() == "Renamed"
    )


def test_balances_still_equal_the_postings_after_plain_sql(container: Container, sql: Connection) -> None:
    with sql.begin():
        leg(sql, "e-sum", ANNA_CURRENT, -7)
        leg(sql, "e-sum", ANNA_SAVINGS, 7)
        entry(sql, "e-sum")
    assert_ledger_consistent(container)


def test_reset_still_works_and_leaves_an_intact_ledger_and_audit_log(container: Container) -> None:
    counts = bootstrap.reset(container.db, history=False)
    assert counts["entries"] > 0
    assert_ledger_consistent(container)
    entries, problems = bootstrap.verify_audit(container.db)
    assert (entries, problems) == (1, [])
