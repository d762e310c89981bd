"""The service façade the entrypoints call: runs a handler in a unit of work, and runs money-moving
requests under an idempotency key."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from futurebank.sandbox.adapters.db import Database
from futurebank.sandbox.domain.errors import DomainError, KeyInFlight, KeyReused
from futurebank.sandbox.domain.idempotency import Decision, decide
from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

T = TypeVar("T")
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class InFlight:
    """Keys being processed in this process. A second request with the same key waits for the first
    (briefly) and then replays its stored answer, instead of failing with 409 at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[tuple[str, str, str], threading.Event] = {}

    @contextmanager
    def hold(self, key: tuple[str, str, str], wait_s: float) -> Iterator[None]:
        while True:
            with self._lock:
                event = self._running.get(key)
                if event is None:
                    self._running[key] = threading.Event()
                    break
            if not event.wait(wait_s):
                raise KeyInFlight(
                    "A request with this Idempotency-Key is still being processed. Retry in a few seconds."
                )
        try:
            yield
        finally:
            with self._lock:
                self._running.pop(key).set()


@dataclass(frozen=True)
class IdempotentResult:
    status: int
    body: bytes
    replayed: bool


class Service:
    def __init__(
        self,
        db: Database,
        clock: Clock = utc_now,
        idempotency_wait_s: float = 5.0,
    ) -> None:
        self.db = db
        self.clock = clock
        self.idempotency_wait_s = idempotency_wait_s
        self.inflight = InFlight()

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.db)

    def run(self, handler: Callable[[UnitOfWork], T]) -> T:
        """Run one handler in one transaction; commit on success, roll back on any error."""
        with self.uow() as uow:
            result = handler(uow)
            uow.commit()
            return result

    def run_idempotent(
        self,
        scope: tuple[str, str, str],
        fingerprint: str,
        action: Callable[[UnitOfWork], tuple[int, bytes]],
        render_error: Callable[[DomainError], tuple[int, bytes]],
    ) -> IdempotentResult:
        """Execute ``action`` once per (client, customer, key); replay its stored answer afterwards.

        The stored answer and the payment commit in the same transaction, so a crash can never leave
        a payment without its key or a key without its payment. A business refusal (422) is stored
        too: a retry of a refused request gets the same refusal, as the first answer promised.
        """
        client_id, customer_id, key = scope
        with self.inflight.hold(scope, self.idempotency_wait_s), self.uow() as uow:
            stored = uow.idempotency.claim(
                client_id, customer_id, key, fingerprint, self.clock(), int(self.idempotency_wait_s * 1000)
            )
            if stored is not None:
                decision = decide(stored, fingerprint)
                if decision is Decision.REUSED:
                    raise KeyReused("This Idempotency-Key was already used with a different request body.")
                return IdempotentResult(stored.status, stored.body, replayed=True)
            # Handlers check everything before their first write (create_payment does; the
            # integration tests assert a refused payment leaves no rows), so a refusal needs no
            # savepoint: the transaction holds only the key's placeholder when it is raised.
            try:
                status, body = action(uow)
            except (KeyInFlight, KeyReused):
                raise
            except DomainError as exc:
                status, body = render_error(exc)
            uow.idempotency.store(client_id, customer_id, key, status, body)
            uow.commit()
            return IdempotentResult(status, body, replayed=False)
