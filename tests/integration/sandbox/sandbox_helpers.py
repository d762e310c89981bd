"""Helpers shared by the sandbox integration tests (imported as ``sandbox_helpers``)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import create_engine, text

from futurebank import throwaway_postgres
from futurebank.sandbox.entrypoints.app import create_app
from futurebank.sandbox.entrypoints.deps import Container
from futurebank.throwaway_postgres import PgServer

DEMO_GRANT = "urn:futurebank:params:oauth:grant-type:demo-customer"
ANNA = "10000000-0000-4000-8000-000000000001"
BORIS = "10000000-0000-4000-8000-000000000002"
ANNA_CURRENT = "20000000-0000-4000-8000-000000000001"
ANNA_SAVINGS = "20000000-0000-4000-8000-000000000002"
BORIS_CURRENT = "20000000-0000-4000-8000-000000000003"
BORIS_USD = "20000000-0000-4000-8000-000000000004"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def token_for(
    client: Any, customer: str | None = "anna", scopes: str = "", client_id: str = "demo-app", base: str = ""
) -> str:
    """A token from the sandbox's dev authorisation server (all scopes unless ``scopes``)."""
    form: dict[str, str] = {"scope": scopes} if scopes else {}
    if customer is None:
        form["grant_type"] = "client_credentials"
    else:
        form.update({"grant_type": DEMO_GRANT, "customer": customer})
    response = client.post(f"{base}/api/v1/oauth/token", data=form, auth=(client_id, f"{client_id}-secret"))
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


# --- PostgreSQL --------------------------------------------------------------------------------------


def reachable(url: str) -> bool:
    try:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def start_throwaway_pg(base: Path) -> PgServer:
    try:
        return throwaway_postgres.start(base)
    except throwaway_postgres.PostgresUnavailable as exc:
        pytest.fail(f"{exc} (or set SANDBOX_TEST_POSTGRES_URL to a server the tests may use)", pytrace=False)


@dataclass
class LiveServer:
    base_url: str
    container: Container


@contextlib.contextmanager
def run_live(container: Container) -> Iterator[LiveServer]:
    """uvicorn on a free loopback port in a background thread (never port 8000)."""
    config = uvicorn.Config(
        create_app(container), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not (server.started and server.servers):
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", container)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def assert_ledger_consistent(container: Container) -> None:
    """The ledger's invariants, straight from the database:

    * every journal entry's legs sum to zero (double entry);
    * every account's cached balances equal the sums of its postings;
    * no customer account is beyond its overdraft limit;
    * every settled payment has exactly its two postings: minus the amount on the debtor account,
      plus the amount on the creditor account.
    """
    from futurebank.sandbox.domain.ledger import AccountKind
    from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

    with UnitOfWork(container.db) as uow:
        assert all(total == 0 for total in uow.ledger.entry_sums().values()), "an entry does not sum to zero"
        sums = uow.ledger.posting_sums()
        for a in uow.accounts.all():
            assert a.booked_minor == sums.get((a.id, "BOOK"), 0), f"{a.id}: booked differs from its postings"
            assert a.pending_minor == sums.get((a.id, "PDNG"), 0), (
                f"{a.id}: pending differs from its postings"
            )
            if a.kind != AccountKind.INTERNAL:
                assert a.booked_minor + a.pending_minor >= -a.overdraft_limit_minor, (
                    f"{a.id} beyond its limit"
                )
        for p in uow.payments.all():
            if p.status == "ACSC":
                assert p.journal_id is not None
                legs = sorted(uow.ledger.legs_of_entry(p.journal_id))
                expected = sorted(
                    [(p.debtor_account_id, -p.amount_minor), (p.creditor_account_id, p.amount_minor)]
                )
                assert legs == expected, f"payment {p.id}: postings {legs}, expected {expected}"


def total_customer_money(container: Container) -> dict[str, int]:
    """Booked money per currency on customer accounts (transfers between customers keep it)."""
    from futurebank.sandbox.domain.ledger import AccountKind
    from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

    totals: dict[str, int] = {}
    with UnitOfWork(container.db) as uow:
        for a in uow.accounts.all():
            if a.kind != AccountKind.INTERNAL:
                totals[a.currency] = totals.get(a.currency, 0) + a.booked_minor
    return totals


def lift_append_only(conn: Any, table: str) -> None:
    """What an attacker who owns the database does first: switch off a table's append-only
    triggers (migration 0002), so UPDATE and DELETE go through."""
    if conn.dialect.name == "sqlite":
        for op_name in ("update", "delete"):
            conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_append_only_{op_name}"))
    else:
        conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only"))
