"""The objects every route needs, bundled once by ``bootstrap`` and stored on ``app.state``."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from futurebank.sandbox.adapters.db import Database
from futurebank.sandbox.adapters.experiments import Experiment
from futurebank.sandbox.adapters.flags import RolloutFlags
from futurebank.sandbox.adapters.tokens import TokenService
from futurebank.sandbox.adapters.tracing import Tracing
from futurebank.sandbox.config import Settings
from futurebank.sandbox.domain.commands import CreatePayment, Message
from futurebank.sandbox.entrypoints.contract import SECURITY
from futurebank.sandbox.entrypoints.faults import FaultInjector
from futurebank.sandbox.entrypoints.observability import Metrics
from futurebank.sandbox.service_layer.cursors import CursorCodec
from futurebank.sandbox.service_layer.handlers import Actor
from futurebank.sandbox.service_layer.kpi import KpiRelay
from futurebank.sandbox.service_layer.messagebus import MessageBus, PaymentOutcome
from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

T = TypeVar("T")


@dataclass
class AuthCode:
    client_id: str
    customer_id: str
    scopes: list[str]
    redirect_uri: str
    code_challenge: str
    expires_at: float


@dataclass
class Container:
    settings: Settings
    db: Database
    bus: MessageBus
    tokens: TokenService
    cursors: CursorCodec
    metrics: Metrics
    contract_path: Path | None = None
    auth_codes: dict[str, AuthCode] = field(default_factory=dict)
    # The rollout gate (ADR-0019); None: every customer sees every feature.
    flags: RolloutFlags | None = None
    experiments: tuple[Experiment, ...] = ()  # registered A/B experiments (docs/delivery/experiments.yaml)
    # SQLite: every database call runs on this one thread. The event loop never waits for a lock
    # (liveness stays responsive while another process holds the file's write lock), and the one
    # writer SQLite allows anyway never hops between threads. PostgreSQL: the shared thread pool.
    writer: ThreadPoolExecutor | None = None
    kpi_relay: KpiRelay | None = None
    # Traces (ADR-0021): the tracer provider, or none when SANDBOX_TRACES is off.
    tracing: Tracing = field(default_factory=Tracing)
    faults: FaultInjector = field(init=False)

    def __post_init__(self) -> None:
        self.faults = FaultInjector(self.settings.faults, SECURITY)
        if self.writer is None and self.settings.single_writer:
            self.writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")

    async def call_sync(self, fn: Callable[[], T]) -> T:
        """Run blocking database work off the event loop, in the request's context (its correlation
        id and current span: the work's log lines and spans belong to the request)."""
        if self.writer is not None:
            run = functools.partial(contextvars.copy_context().run, fn)
            return await asyncio.get_running_loop().run_in_executor(self.writer, run)
        return await run_in_threadpool(fn)

    async def handle(self, message: Message[T], actor: Actor) -> T:
        """Send a command or query to the service layer."""
        return await self.call_sync(functools.partial(self.bus.handle, message, actor))

    async def pay(self, command: CreatePayment, actor: Actor) -> PaymentOutcome:
        """A payment under its idempotency key: the outcome says whether it was replayed."""
        return await self.call_sync(functools.partial(self.bus.pay, command, actor))

    async def call(self, fn: Callable[[UnitOfWork], T]) -> T:
        """Run a function in its own unit of work (for the OAuth endpoints' own lookups)."""

        def run() -> T:
            with UnitOfWork(self.db) as uow:
                result = fn(uow)
                uow.commit()
                return result

        return await self.call_sync(run)

    def close(self) -> None:
        if self.flags is not None:
            self.flags.close()
        if self.kpi_relay is not None:
            self.kpi_relay.stop()
        if self.writer is not None:
            self.writer.shutdown(wait=True)
        self.tracing.shutdown()


def container(request: Request) -> Container:
    c: Container = request.app.state.container
    return c


def correlation_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("correlation_id", ""))
