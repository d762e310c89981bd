"""Traces (ADR-0021): the OpenTelemetry SDK set up from the settings, and database spans.

Where spans go is ``SANDBOX_TRACES``: ``off`` (no tracer provider at all: no span is made and the
middleware is not installed), ``console`` (the SDK's console exporter, on stdout), ``file:<path>``
(one span per line as JSON, appended; offline) or ``otlp`` (OTLP over HTTP; the SDK reads the
endpoint from ``OTEL_EXPORTER_OTLP_ENDPOINT`` / ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``). Spans leave
through a ``BatchSpanProcessor``: a request only appends the ended span to a queue, a background
thread exports.

Sampling is ``ParentBased(TraceIdRatioBased(ratio))``: a request carrying a W3C ``traceparent``
follows the caller's sampled flag; a new trace is recorded with probability ``ratio``.

Database spans come from the SQLAlchemy instrumentation's engine tracer, but only inside a sampled
trace: its statement hook builds a span's name and attributes (and asks the sampler) before it knows
whether the span will be recorded, so on every statement of an unsampled request it would spend as
much as on a recorded one; and any engine-wide hook, even one that only checks a flag, costs every
statement of every request. ``_SampledEngineTracer`` moves the instrumentation's hooks from the engine
to the connection of each transaction begun inside a sampled span, and to no other.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from opentelemetry import trace
from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer, _after_cur_exec
from opentelemetry.instrumentation.sqlalchemy.version import __version__ as sqlalchemy_instrumentation_version
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from sqlalchemy import Connection, Engine, event
from sqlalchemy.orm import Session, sessionmaker

SERVICE = "futurebank-sandbox"
# The tracer of the service layer's spans (one per command or query the message bus handles).
SERVICE_LAYER_SCOPE = "futurebank.sandbox.service_layer"


def span_record(span: ReadableSpan) -> dict[str, Any]:
    """A span as one flat JSON object: ids in hex as trace viewers and the JSON logs show them,
    times in Unix nanoseconds as OTLP has them. (The SDK's own ``to_json`` costs several times more per
    span, which the batch processor's thread takes from the requests.)"""
    ctx = span.get_span_context()
    assert ctx is not None  # an SDK span always has one
    parent = span.parent
    return {
        "trace_id": f"{ctx.trace_id:032x}",
        "span_id": f"{ctx.span_id:016x}",
        "parent_span_id": f"{parent.span_id:016x}" if parent is not None else None,
        "name": span.name,
        "kind": span.kind.name,
        "start_time_unix_nano": span.start_time,
        "end_time_unix_nano": span.end_time,
        "status": span.status.status_code.name,
        "attributes": dict(span.attributes or {}),
        "events": [
            {"name": e.name, "time_unix_nano": e.timestamp, "attributes": dict(e.attributes or {})}
            for e in span.events
        ],
        "service": span.resource.attributes.get(SERVICE_NAME),
    }


class JsonLinesExporter(SpanExporter):
    """Appends each span to a file as one line of JSON (``span_record``)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._out: IO[str] | None = path.open("a", encoding="utf-8")

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = "".join(json.dumps(span_record(span), default=str) + "\n" for span in spans)
        with self._lock:
            if self._out is None:
                return SpanExportResult.FAILURE
            self._out.write(lines)
            self._out.flush()
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        with self._lock:
            if self._out is not None:
                self._out.close()
                self._out = None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def exporter_for(mode: str) -> SpanExporter:
    """The exporter a ``SANDBOX_TRACES`` value names (not ``off``)."""
    if mode == "console":
        return ConsoleSpanExporter(service_name=SERVICE)
    if mode == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    if mode.startswith("file:"):
        return JsonLinesExporter(Path(mode[5:]))
    raise ValueError(f"no span exporter for SANDBOX_TRACES={mode!r}")


def _sampled() -> bool:
    return bool(trace.get_current_span().get_span_context().trace_flags.sampled)


class _SampledEngineTracer(EngineTracer):
    """The instrumentation's engine tracer, listening only on the connections of sampled work.

    The instrumentation registers its statement hooks on the engine, where they would run on every
    statement of every request. Here they come off the engine again, and a session's ``after_begin``
    puts them on that transaction's connection only when the current span is sampled: an unsampled
    transaction runs no tracing code per statement (its ``BEGIN`` itself is not spanned)."""

    def __init__(self, tracer: trace.Tracer, engine: Engine, usage: Any, sessions: sessionmaker[Session]):
        super().__init__(tracer, engine, usage)  # type: ignore[no-untyped-call]
        self._hooks: tuple[tuple[str, Any, bool], ...] = (
            ("before_cursor_execute", self._before_cur_exec, True),
            ("after_cursor_execute", _after_cur_exec, False),
        )  # handle_error stays on the engine: SQLAlchemy 2 takes it there only, and it runs on errors only
        for name, fn, _ in self._hooks:
            event.remove(engine, name, fn)
        # The connection-pool gauge is a metric, not a trace: left out.
        for pool_event, listener in (
            ("connect", self._pool_connect),
            ("close", self._pool_close),
            ("checkin", self._pool_checkin),
            ("checkout", self._pool_checkout),
        ):
            event.remove(engine, pool_event, listener)
        event.listen(sessions, "after_begin", self._on_begin)

    def _on_begin(self, _session: Session, _transaction: Any, connection: Connection) -> None:
        if _sampled():
            for name, fn, retval in self._hooks:
                event.listen(connection, name, fn, retval=retval)


@dataclass
class Tracing:
    """The process's tracer provider (``None`` when traces are off), handed to each part that makes
    spans; never installed as OpenTelemetry's global provider, so several apps in one process (the
    tests) each keep their own."""

    provider: TracerProvider | None = None

    @property
    def enabled(self) -> bool:
        return self.provider is not None

    def tracer(self, scope: str) -> trace.Tracer | None:
        return None if self.provider is None else self.provider.get_tracer(scope)

    def instrument(self, engine: Engine, sessions: sessionmaker[Session]) -> None:
        """Database spans for the statements of the sessions' sampled transactions."""
        if self.provider is None:
            return
        tracer = self.provider.get_tracer(
            "opentelemetry.instrumentation.sqlalchemy", sqlalchemy_instrumentation_version
        )
        usage = NoOpMeterProvider().get_meter(SERVICE).create_up_down_counter("db.client.connections.usage")
        _SampledEngineTracer(tracer, engine, usage, sessions)

    def shutdown(self) -> None:
        """Export what is still queued and stop (the SDK also does this at interpreter exit)."""
        if self.provider is not None:
            self.provider.shutdown()


def make_tracing(mode: str, ratio: float, exporter: SpanExporter | None = None) -> Tracing:
    """Tracing for a ``SANDBOX_TRACES`` mode and sample ratio. ``exporter`` replaces the mode's
    destination and exports each span as it ends (the tests' in-memory exporter); ``off`` stays off."""
    if mode == "off":
        return Tracing()
    attributes = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: SERVICE}
    provider = TracerProvider(
        sampler=ParentBased(TraceIdRatioBased(ratio)), resource=Resource.create(attributes)
    )
    processor: SpanProcessor = (
        SimpleSpanProcessor(exporter) if exporter is not None else BatchSpanProcessor(exporter_for(mode))
    )
    provider.add_span_processor(processor)
    return Tracing(provider)
