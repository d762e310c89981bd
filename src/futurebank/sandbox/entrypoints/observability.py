"""Metrics (Prometheus) and structured JSON logs."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from opentelemetry import trace
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from futurebank.sandbox.entrypoints.context import current_correlation_id

__all__ = ["CONTENT_TYPE_LATEST", "JsonFormatter", "Metrics", "configure_logging"]

disable_created_metrics()  # type: ignore[no-untyped-call]  # the *_created series only add noise to every scrape

# Latency buckets around the sandbox's own targets (p99 <= 100 ms) with room either side.
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """One registry per application instance, so several apps (tests) never share counters.

    Names and labels follow the OpenTelemetry HTTP semantic conventions
    (``http_server_request_duration_seconds`` with ``http_route``, ``http_request_method``,
    ``http_response_status_code``), plus the contract's ``operation_id``.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ("operation_id", "http_route", "http_request_method", "http_response_status_code")
        self.requests = Counter(
            "futurebank_http_requests_total",
            "HTTP requests by operation and status",
            labels,
            registry=self.registry,
        )
        self.errors = Counter(
            "futurebank_http_errors_total",
            "HTTP responses with status >= 400, by operation and status",
            ("operation_id", "http_response_status_code"),
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_server_request_duration_seconds",
            "Time from request start to response end",
            labels,
            buckets=BUCKETS,
            registry=self.registry,
        )

    def observe(self, operation: str, route: str, method: str, status: int, seconds: float) -> None:
        code = str(status)
        self.requests.labels(operation, route, method, code).inc()
        if status >= 400:
            self.errors.labels(operation, code).inc()
        self.latency.labels(operation, route, method, code).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)


_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, correlation id, the trace and span
    ids when the line is written inside a trace (traces on, ADR-0021), and any extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", None) or current_correlation_id(),
        }
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = f"{span.trace_id:032x}"
            entry["span_id"] = f"{span.span_id:016x}"
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: int = logging.INFO) -> None:
    """Send the sandbox's logs to stderr as JSON lines (idempotent)."""
    logger = logging.getLogger("futurebank")
    if any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
