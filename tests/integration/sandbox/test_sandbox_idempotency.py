"""Idempotency-Key semantics (draft-ietf-httpapi-idempotency-key-header) over real HTTP, both
backends: 50 concurrent identical requests make one payment and all get the same answer; a key
reused with another body is refused; a retry while the first is still running waits briefly and
replays, or gets 409 when the first takes too long."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sandbox_helpers import ANNA_CURRENT, ANNA_SAVINGS, assert_ledger_consistent, bearer, run_live, token_for

from futurebank.sandbox.domain.commands import CreatePayment
from futurebank.sandbox.entrypoints.deps import Container
from futurebank.sandbox.service_layer.handlers import Actor

BODY = {
    "debtor_account_id": ANNA_CURRENT,
    "creditor_account_id": ANNA_SAVINGS,
    "amount": {"amount": "10.00", "currency": "RUB"},
}


def payments_of_anna(base: str, token: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{base}/api/v1/payments?limit=100", headers=bearer(token))
    return list(r.json()["data"])


@pytest.fixture(params=["auto", "threadpool"])
def live_any(request: pytest.FixtureRequest, make_container: Callable[..., Container]) -> Iterator[Any]:
    """The server in its default mode, and with handlers in the thread pool (true overlap)."""
    with run_live(make_container(execution=request.param)) as server:
        yield server


def test_fifty_concurrent_identical_requests_make_one_payment(live_any: Any) -> None:
    base = live_any.base_url
    token = token_for(httpx, "anna", base=base)
    before = len(payments_of_anna(base, token))
    barrier = threading.Barrier(50)

    def send(_: int) -> tuple[int, bytes]:
        with httpx.Client(timeout=30) as http:
            barrier.wait()
            r = http.post(
                f"{base}/api/v1/payments", json=BODY, headers=bearer(token, **{"Idempotency-Key": "fifty"})
            )
            return r.status_code, r.content

    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(send, range(50)))
    assert {status for status, _ in answers} == {201}, answers[:3]
    assert len({body for _, body in answers}) == 1, "every caller must see the same payment"
    assert len(payments_of_anna(base, token)) == before + 1
    assert_ledger_consistent(live_any.container)


def test_same_key_different_body_is_refused(live_any: Any) -> None:
    base = live_any.base_url
    token = token_for(httpx, "anna", base=base)
    headers = bearer(token, **{"Idempotency-Key": "k-reuse"})
    first = httpx.post(f"{base}/api/v1/payments", json=BODY, headers=headers)
    other = httpx.post(
        f"{base}/api/v1/payments",
        json={**BODY, "amount": {"amount": "11.00", "currency": "RUB"}},
        headers=headers,
    )
    assert first.status_code == 201
    assert (other.status_code, other.json()["code"]) == (422, "IDEMPOTENCY_KEY_REUSED")
    # A key is scoped per client and customer: Boris may use the same string.
    boris = token_for(httpx, "boris", base=base)
    body = {
        **BODY,
        "debtor_account_id": "20000000-0000-4000-8000-000000000003",
        "creditor_account_number": "40817810000000000001",
    }
    del body["creditor_account_id"]
    assert (
        httpx.post(
            f"{base}/api/v1/payments", json=body, headers=bearer(boris, **{"Idempotency-Key": "k-reuse"})
        ).status_code
        == 201
    )


def test_in_flight_retry_gets_409_then_replays(
    make_container: Callable[..., Container], monkeypatch: pytest.MonkeyPatch
) -> None:
    container = make_container(execution="threadpool", idempotency_wait_s=0.3)
    real = container.bus.handlers[CreatePayment]
    gate = threading.Event()

    def slow(*args: Any, **kwargs: Any) -> Any:
        gate.wait(10)  # the first request holds its key until the test lets it go
        return real(*args, **kwargs)

    monkeypatch.setitem(container.bus.handlers, CreatePayment, slow)
    with run_live(container) as server:
        base = server.base_url
        token = token_for(httpx, "anna", base=base)
        headers = bearer(token, **{"Idempotency-Key": "slow-one"})
        with ThreadPoolExecutor(1) as pool:
            first = pool.submit(httpx.post, f"{base}/api/v1/payments", json=BODY, headers=headers, timeout=30)
            time.sleep(0.3)
            retry = httpx.post(f"{base}/api/v1/payments", json=BODY, headers=headers, timeout=30)
            assert (retry.status_code, retry.json()["code"]) == (409, "IDEMPOTENCY_KEY_IN_FLIGHT")
            gate.set()
            done = first.result()
        assert done.status_code == 201
        replay = httpx.post(f"{base}/api/v1/payments", json=BODY, headers=headers, timeout=30)
        assert (replay.status_code, replay.content) == (201, done.content)
        assert replay.headers["idempotent-replayed"] == "true"


def test_key_held_by_another_process_answers_409(
    backend: str, make_container: Callable[..., Container]
) -> None:
    """Across processes the wait is the database's: PostgreSQL's lock_timeout on the key's row."""
    if backend == "sqlite":
        pytest.skip("SQLite has one writer per database file: another process's key blocks the whole file")
    from datetime import UTC, datetime

    from sqlalchemy import insert

    from futurebank.sandbox.adapters import orm

    container = make_container(idempotency_wait_s=0.3)
    with run_live(container) as server:
        token = token_for(httpx, "anna", base=server.base_url)
        other = container.db.engine.connect()  # stands for a second sandbox process
        other.execute(
            insert(orm.idempotency_keys).values(
                client_id="demo-app",
                customer_id="10000000-0000-4000-8000-000000000001",
                key="held",
                fingerprint="x",
                status_code=0,
                body=b"",
                created_at=datetime.now(UTC),
            )
        )
        try:
            r = httpx.post(
                f"{server.base_url}/api/v1/payments",
                json=BODY,
                headers=bearer(token, **{"Idempotency-Key": "held"}),
            )
            assert (r.status_code, r.json()["code"]) == (409, "IDEMPOTENCY_KEY_IN_FLIGHT")
        finally:
            other.rollback()
            other.close()


def test_keys_are_forgotten_after_24_hours(container: Container) -> None:
    """The contract keeps keys for 24 hours; afterwards the same key starts a new payment."""
    from datetime import UTC, datetime, timedelta

    actor = Actor("demo-app", "10000000-0000-4000-8000-000000000001", "c")
    command = CreatePayment("day-key", ANNA_CURRENT, "1.00", "RUB", ANNA_SAVINGS)
    clock = [datetime(2026, 11, 24, 12, tzinfo=UTC)]
    container.bus.clock = lambda: clock[0]

    def pay() -> tuple[str, bool]:
        outcome = container.bus.pay(command, actor)
        return outcome.payment.id, outcome.replayed

    first = pay()
    clock[0] += timedelta(hours=23)
    assert pay() == (first[0], True)
    clock[0] += timedelta(hours=2)
    later = pay()
    assert later[1] is False and later[0] != first[0]
