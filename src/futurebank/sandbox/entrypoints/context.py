"""Per-request context shared by middleware, handlers and log records."""

from __future__ import annotations

from contextvars import ContextVar

correlation_id_var: ContextVar[str] = ContextVar(
    "correlation_id", default="00000000-0000-0000-0000-000000000000"
)


def current_correlation_id() -> str:
    return correlation_id_var.get()
