"""The objects every route needs, bundled once by ``bootstrap`` and stored on ``app.state``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from futurebank.sandbox.adapters.db import Database
from futurebank.sandbox.adapters.tokens import TokenService
from futurebank.sandbox.config import Settings
from futurebank.sandbox.entrypoints.observability import Metrics
from futurebank.sandbox.service_layer.cursors import CursorCodec
from futurebank.sandbox.service_layer.handlers import IdFactory
from futurebank.sandbox.service_layer.services import Clock, Service
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
    service: Service
    tokens: TokenService
    cursors: CursorCodec
    metrics: Metrics
    new_id: IdFactory
    clock: Clock
    contract_path: Path | None = None
    auth_codes: dict[str, AuthCode] = field(default_factory=dict)

    async def call(self, handler: Callable[[UnitOfWork], T]) -> T:
        """Run a handler in its own transaction.

        Inline (SQLite): on the event loop itself. SQLite has one writer anyway, each transaction
        takes well under a millisecond, and skipping the thread hop is what makes the throughput
        target reachable on two cores. Threadpool (PostgreSQL): concurrent transactions, each
        holding its own row locks.
        """
        if self.settings.inline:
            return self.service.run(handler)
        return await run_in_threadpool(self.service.run, handler)

    async def call_sync(self, fn: Callable[[], T]) -> T:
        if self.settings.inline:
            return fn()
        return await run_in_threadpool(fn)


def container(request: Request) -> Container:
    c: Container = request.app.state.container
    return c


def correlation_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("correlation_id", ""))
