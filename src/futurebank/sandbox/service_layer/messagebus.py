"""The message bus: the one way into the service layer (cosmicpython's ``messagebus``).

``handle(message, actor)`` opens a unit of work, checks that the token's customer still exists and,
for reads that need it, the consent; runs the message's handler with the clock and the id factory
the bus owns; commits. ``CreatePayment`` runs under its idempotency key: the bus computes the
request's fingerprint from the command's fields and stores the outcome (the payment's id, or the
refusal) with the payment in the same transaction, so a retry gets the same outcome. Nothing here
knows HTTP: the entry points render what ``handle`` returns or raises.

With a tracer (ADR-0021) each message handled is one span named after the message's class
(``CreatePayment``, ``GetBalances``), a child of the current span (the HTTP request's); inside a
trace the caller did not sample, no span is started at all.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import uuid
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from futurebank.sandbox.adapters.db import Database
from futurebank.sandbox.domain import commands as cmd
from futurebank.sandbox.domain.commands import Message
from futurebank.sandbox.domain.errors import (
    DomainError,
    KeyInFlight,
    KeyReused,
    UnknownCustomer,
)
from futurebank.sandbox.domain.idempotency import Decision, StoredResponse, decide, fingerprint
from futurebank.sandbox.domain.payments import Payment
from futurebank.sandbox.service_layer import handlers as h
from futurebank.sandbox.service_layer import sustainability
from futurebank.sandbox.service_layer.kpi import KpiRecorder
from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

R = TypeVar("R")
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_uuid() -> str:
    return str(uuid.uuid4())


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


def payment_fingerprint(command: cmd.CreatePayment) -> str:
    """What the payment asks for: every field of the command but the key itself (fields left out
    are None and are left out here too, so adding an optional field keeps old fingerprints)."""
    fields = {
        f.name: getattr(command, f.name)
        for f in dataclasses.fields(command)
        if f.name != "idempotency_key" and getattr(command, f.name) is not None
    }
    return fingerprint("createPayment", "", fields)


def _error_classes() -> dict[str, type[DomainError]]:
    found: dict[str, type[DomainError]] = {}
    todo: list[type[DomainError]] = [DomainError]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


def encode_refusal(exc: DomainError) -> bytes:
    """A refusal as stored under an idempotency key: the error's class and its facts."""
    data = {"error": type(exc).__name__, "code": exc.code, "detail": exc.detail}
    for name in ("pointer", "field_code"):
        value = exc.__dict__.get(name)
        if value is not None:
            data[name] = value
    return json.dumps(data, separators=(",", ":")).encode()


def decode_refusal(body: bytes) -> DomainError:
    data: dict[str, Any] = json.loads(body)
    classes = _error_classes()
    cls = classes.get(str(data.get("error")))
    if cls is None:  # a row stored by an older version: find the class by its code
        cls = next((c for c in classes.values() if c.code == data.get("code")), DomainError)
    exc = cls.__new__(cls)
    DomainError.__init__(exc, str(data.get("detail", "")))
    for name in ("pointer", "field_code"):
        if name in data:
            setattr(exc, name, data[name])
    return exc


class Replayed(Exception):
    """Marks a refusal replayed from an idempotency key (the HTTP edge says so in a header)."""


@dataclasses.dataclass(frozen=True)
class PaymentOutcome:
    payment: Payment
    replayed: bool


class MessageBus:
    def __init__(
        self,
        db: Database,
        clock: Clock = utc_now,
        new_id: Callable[[], str] = new_uuid,
        idempotency_wait_s: float = 5.0,
        first_party_clients: Collection[str] = (),
        kpi: KpiRecorder | None = None,
        tracer: trace.Tracer | None = None,
    ) -> None:
        self.db = db
        self.kpi = kpi
        self.clock = clock
        self.new_id = new_id
        self.idempotency_wait_s = idempotency_wait_s
        self.first_party_clients = frozenset(first_party_clients)
        self.inflight = InFlight()
        self.handlers: dict[type[Any], h.Handler] = {**h.HANDLERS, **sustainability.HANDLERS}
        self.tracer = tracer

    @contextmanager
    def _span(self, message: Message[Any]) -> Iterator[None]:
        """The message's span, unless the current trace is one the caller did not sample. A refusal
        (``DomainError``) is an answer, not a fault: the span keeps its code, not an error status."""
        parent = trace.get_current_span().get_span_context()
        if self.tracer is None or (parent.is_valid and not parent.trace_flags.sampled):
            yield
            return
        with self.tracer.start_as_current_span(
            type(message).__name__, record_exception=False, set_status_on_exception=False
        ) as span:
            try:
                yield
            except DomainError as exc:
                span.set_attribute("futurebank.error_code", exc.code)
                raise
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                raise

    def handle(self, message: Message[R], actor: h.Actor) -> R:
        """Run one message in one transaction; commit on success, roll back on any error."""
        if isinstance(message, cmd.CreatePayment):
            return cast(R, self.pay(message, actor).payment)
        if self.tracer is None:
            return self._handle(message, actor)
        with self._span(message):
            return self._handle(message, actor)

    def _handle(self, message: Message[R], actor: h.Actor) -> R:
        with UnitOfWork(self.db) as uow:
            cx = self._context(uow, actor, message)
            result = self.handlers[type(message)](message, cx)
            if self.kpi is not None:
                self.kpi.record(uow, message, actor, result, cx.now, self.new_id)
            uow.commit()
            return cast(R, result)

    def _context(self, uow: UnitOfWork, actor: h.Actor, message: Message[Any]) -> h.Context:
        now = self.clock()
        if message.bus_checks_customer:
            h.check_customer(uow, actor)
        window = h.UNBOUNDED
        if message.permission is not None:
            window = h.require_consent(uow, actor, message.permission, now)
        return h.Context(
            uow, actor, now, self.new_id, window, first_party=actor.client_id in self.first_party_clients
        )

    def pay(self, command: cmd.CreatePayment, actor: h.Actor) -> PaymentOutcome:
        """Execute the payment once per (client, customer, key); replay its outcome afterwards.

        The outcome and the payment commit in the same transaction, so a crash can never leave a
        payment without its key or a key without its payment. A business refusal is stored too: a
        retry of a refused request gets the same refusal, as the first answer promised. A refusal
        raises its ``DomainError`` (with ``Replayed`` as its cause when it is a replay).
        """
        if self.tracer is None:
            return self._pay(command, actor)
        with self._span(command):
            return self._pay(command, actor)

    def _pay(self, command: cmd.CreatePayment, actor: h.Actor) -> PaymentOutcome:
        scope = (actor.client_id, actor.customer_id or "", command.idempotency_key)
        print_ = payment_fingerprint(command)
        wait_ms = int(self.idempotency_wait_s * 1000)
        with self.inflight.hold(scope, self.idempotency_wait_s), UnitOfWork(self.db) as uow:
            cx = self._context(uow, actor, command)
            stored = uow.idempotency.claim(*scope, print_, cx.now, wait_ms)
            if stored is not None:
                return self._replay(uow, actor, stored, print_)
            # Handlers check everything before their first write (create_payment does; the
            # integration tests assert a refused payment leaves no rows), so a refusal needs no
            # savepoint: the transaction holds only the key's placeholder when it is raised.
            try:
                payment = self.handlers[cmd.CreatePayment](command, cx)
            except (KeyInFlight, KeyReused, UnknownCustomer):
                raise  # not an answer to this request's content: nothing to store
            except DomainError as exc:
                uow.idempotency.store(*scope, exc.status, encode_refusal(exc))
                uow.commit()
                raise
            uow.idempotency.store(*scope, 201, json.dumps({"payment_id": payment.id}).encode())
            if self.kpi is not None:
                self.kpi.record(uow, command, actor, payment, cx.now, self.new_id)
            uow.commit()
            return PaymentOutcome(payment, replayed=False)

    def _replay(self, uow: UnitOfWork, actor: h.Actor, stored: StoredResponse, print_: str) -> PaymentOutcome:
        if decide(stored, print_) is Decision.REUSED:
            raise KeyReused("This Idempotency-Key was already used with a different request body.")
        if stored.status >= 400:
            raise decode_refusal(stored.body) from Replayed()
        payment = uow.payments.owned(actor.customer_id or "", json.loads(stored.body)["payment_id"])
        if payment is None:  # pragma: no cover - the payment commits with its key
            raise RuntimeError("an idempotency key names a payment that does not exist")
        uow.commit()  # nothing was written; committing keeps the loaded payment readable
        return PaymentOutcome(payment, replayed=True)
