"""KPI events (US-0024, change C-23): recorded in the action's transaction, relayed afterwards.

:class:`KpiRecorder` adds one outbox row for each completed customer action the bus handles; the
row commits or rolls back with the action, so analytics never counts an action that did not happen
and never misses one that did (the transactional outbox of ADR-0004). :class:`KpiRelay` publishes
unpublished rows to a sink and stamps them, at least once: a crash between the two publishes the
rows again, and consumers de-duplicate by ``event_id``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from futurebank.sandbox.adapters.db import Database
from futurebank.sandbox.domain import commands as cmd
from futurebank.sandbox.domain.kpi import KpiEvent, age_band, customer_key
from futurebank.sandbox.domain.payments import Payment
from futurebank.sandbox.service_layer.handlers import Actor
from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

# The completed customer actions and the event each one records.
KPI_EVENTS: dict[type[Any], str] = {
    cmd.CreatePayment: "paymentCompleted",
    cmd.UpdateCardControls: "cardControlsChanged",
    cmd.CreateConsent: "consentGranted",
    cmd.RevokeConsent: "consentRevoked",
}
SETTLED = "ACSC"


class KpiRecorder:
    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def record(
        self,
        uow: UnitOfWork,
        message: object,
        actor: Actor,
        result: object,
        now: datetime,
        new_id: Callable[[], str],
    ) -> None:
        event = KPI_EVENTS.get(type(message))
        if event is None or actor.customer_id is None:
            return
        if isinstance(result, Payment) and result.status != SETTLED:
            return  # only a settled payment is a completed one
        birth = uow.customers.date_of_birth(actor.customer_id)
        uow.kpi_outbox.add(
            KpiEvent(
                new_id(),
                event,
                now,
                customer_key(self.secret, actor.customer_id),
                age_band(birth, now.date()),
                actor.client_id,
                actor.correlation_id,
            )
        )


class KpiRelay:
    """Publishes the outbox to ``sink`` (the bank: a Kafka producer; the sandbox: a JSON-lines file),
    on demand or every ``interval_s`` from a background thread."""

    def __init__(
        self,
        db: Database,
        sink: Callable[[Sequence[str]], None],
        clock: Callable[[], datetime],
        interval_s: float = 1.0,
    ) -> None:
        self.db, self.sink, self.clock, self.interval_s = db, sink, clock, interval_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def publish_pending(self) -> int:
        with UnitOfWork(self.db) as uow:
            rows = uow.kpi_outbox.unpublished()
            if not rows:
                return 0
            self.sink([payload for _, payload in rows])
            uow.kpi_outbox.mark_published([seq for seq, _ in rows], self.clock())
            uow.commit()
            return len(rows)

    def start(self) -> None:
        if self._thread is None and self.interval_s > 0:
            self._thread = threading.Thread(target=self._run, name="kpi-relay", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.publish_pending()  # what the last interval left

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.publish_pending()
            except Exception:  # a busy or unreachable database: the rows stay, the next round retries
                continue
