"""The HTTP side of traces (ADR-0021): the server span and the ``traceresponse`` header.

The server span comes from OpenTelemetry's ASGI instrumentation, which continues the trace of an
incoming W3C ``traceparent`` (Trace Context Level 1). Its default span name carries the raw path (ids
included); here a span starts named after the method alone and is renamed to ``METHOD route`` once
the router has matched (the semantic conventions' low-cardinality name). Every response of a traced
request carries ``traceresponse`` (the W3C Distributed Tracing Working Group's draft response header):
version, trace id, the server span's id and its flags, so a caller can find the trace without having
sent a ``traceparent``.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.trace import Span, SpanContext
from starlette.types import ASGIApp, Scope

from futurebank.sandbox.adapters.tracing import Tracing

TRACERESPONSE = b"traceresponse"


def traceresponse(ctx: SpanContext) -> bytes:
    """``00-<trace id>-<child id>-<flags>``: the draft's version 00 format, the child id being the
    server span's id."""
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}".encode("ascii")


def name_server_span(span: Span, scope: Scope, correlation_id: str) -> None:
    """Name the recording server span after the matched route and tag it with the correlation id."""
    route: Any = scope.get("route")
    template = getattr(route, "path", None)
    if template:
        span.update_name(f"{scope['method']} {template}")
        span.set_attribute("http.route", str(template))
    span.set_attribute("futurebank.correlation_id", correlation_id)


def _method_only(scope: Scope) -> tuple[str, dict[str, str]]:
    return str(scope.get("method", "HTTP")), {}


def with_server_spans(app: ASGIApp, tracing: Tracing) -> ASGIApp:
    """``app`` inside the ASGI instrumentation, or ``app`` itself when traces are off."""
    if tracing.provider is None:
        return app
    middleware: ASGIApp = OpenTelemetryMiddleware(
        app,
        default_span_details=_method_only,
        tracer_provider=tracing.provider,
        # HTTP metrics are Prometheus's (entrypoints/observability.py), not the instrumentation's.
        meter_provider=NoOpMeterProvider(),
        # One span per request: no child span per ASGI receive/send message.
        exclude_spans=["receive", "send"],
    )
    return middleware
