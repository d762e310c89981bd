"""Pure ASGI middleware (cheaper than BaseHTTPMiddleware, and it can see every byte).

Order, outermost first: (with traces on, the ASGI instrumentation's server span, see
``entrypoints/tracing.py``) → ``Observability`` (correlation id, metrics, access log, ``traceresponse``)
→ ``SafetyNet`` (never a stack trace) → ``RateLimit`` → ``BodyLimit`` → the FastAPI app.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from futurebank.sandbox.adapters.tokens import InvalidToken, TokenService
from futurebank.sandbox.entrypoints.constants import UUID_RE
from futurebank.sandbox.entrypoints.context import correlation_id_var
from futurebank.sandbox.entrypoints.observability import Metrics
from futurebank.sandbox.entrypoints.problems import ProblemError, problem_response, uri_reference
from futurebank.sandbox.entrypoints.tracing import TRACERESPONSE, name_server_span, traceresponse

access_log = logging.getLogger("futurebank.sandbox.access")
error_log = logging.getLogger("futurebank.sandbox.errors")


# OpenTelemetry's HTTP semantic conventions: a method outside the known set is reported as _OTHER, so an
# invented method (any token is valid HTTP) cannot add metric series without limit.
KNOWN_METHODS = frozenset({"CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE"})


def metric_method(method: str) -> str:
    return method if method in KNOWN_METHODS else "_OTHER"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _instance(scope: Scope) -> str:
    raw = scope.get("raw_path")
    path = raw.decode("latin-1") if raw else str(scope.get("root_path", "")) + str(scope["path"])
    return uri_reference(path, scope.get("query_string", b"").decode("latin-1"))


class Observability:
    def __init__(self, app: ASGIApp, metrics: Metrics, log_requests: bool = True) -> None:
        self.app = app
        self.metrics = metrics
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        offered = _header(scope, b"x-correlation-id")
        # The contract: echo a valid UUID, otherwise generate one (never refuse the request for it).
        cid = offered.lower() if offered and UUID_RE.match(offered) else str(uuid.uuid4())
        token = correlation_id_var.set(cid)
        scope.setdefault("state", {})["correlation_id"] = cid
        started = time.perf_counter()
        status = 500
        added = [(b"x-correlation-id", cid.encode("ascii"))]
        span = trace.get_current_span()  # the server span when traces are on
        if span.get_span_context().is_valid:
            added.append((TRACERESPONSE, traceresponse(span.get_span_context())))

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message = {**message, "headers": [*message.get("headers", []), *added]}
                if span.is_recording():  # routed by now, and the span ends with the response
                    name_server_span(span, scope, cid)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("route")
            operation = getattr(route, "operation_id", None) or getattr(route, "name", None) or "unmatched"
            if status == 405:  # the path matched, the method did not: not that operation's traffic
                operation = "methodNotAllowed"
            template = str(getattr(route, "path", "") or "unmatched").removeprefix("/api/v1")
            self.metrics.observe(operation, template, metric_method(scope["method"]), status, seconds)
            if self.log_requests:
                access_log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(seconds * 1000, 3),
                        "operation": operation,
                        "correlation_id": cid,
                    },
                )
            correlation_id_var.reset(token)


class SafetyNet:
    """The last line: any exception becomes 500 INTERNAL_ERROR with no details; the traceback goes
    to the log, tagged with the correlation id, never to the client."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            error_log.exception("unhandled error", extra={"path": scope.get("path")})
            if not started:
                response = problem_response(
                    "INTERNAL_ERROR",
                    "An unexpected error occurred. Quote the correlation id to support.",
                    _instance(scope),
                )
                await response(scope, receive, send)


class PayloadTooLarge(ProblemError):
    pass


class BodyLimit:
    """Refuse bodies over the limit: by Content-Length before reading, or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    def _error(self) -> PayloadTooLarge:
        return PayloadTooLarge("PAYLOAD_TOO_LARGE", f"The request body exceeds {self.max_bytes} bytes.")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = False  # the server (h11) already refuses malformed lengths
            if too_big:
                err = self._error()
                await problem_response(err.code, err.detail, _instance(scope))(scope, receive, send)
                return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise self._error()
            return message

        await self.app(scope, counting_receive, send)


class TokenBucket:
    """Per-key token bucket: ``rate`` tokens per second, at most ``burst`` saved up."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float | None:
        """Spend one token; ``None`` when allowed, else the seconds until a token is available."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return None
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate if self.rate > 0 else 3600.0


def _peer_key(scope: Scope) -> str:
    client: Any = scope.get("client")
    return "peer:" + (str(client[0]) if client else "unknown")


class RateLimit:
    """429 RATE_LIMITED with Retry-After, per client app (from the bearer token; per peer address
    when there is no valid token). Only API paths are limited, never health checks or metrics."""

    def __init__(
        self, app: ASGIApp, bucket: TokenBucket, tokens: TokenService, prefix: str = "/api/v1"
    ) -> None:
        self.app = app
        self.bucket = bucket
        self.tokens = tokens
        self.prefix = prefix

    def _key(self, scope: Scope) -> str:
        auth = _header(scope, b"authorization")
        if auth and auth[:7].lower() == "bearer ":
            try:
                claims = self.tokens.verify(auth[7:].strip())
                # One bucket per (client app, customer): one customer cannot starve the app's others.
                return f"client:{claims.client_id}:{claims.customer_id or ''}"
            except InvalidToken:
                pass
        client: Any = scope.get("client")
        return "peer:" + (str(client[0]) if client else "unknown")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope["path"]).startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        # The dev authorisation server takes no bearer token: its requests always spend the peer's
        # bucket, so a token added next to the form credentials cannot buy a fresh bucket.
        oauth = str(scope["path"]).startswith(self.prefix + "/oauth/")
        wait = self.bucket.take(_peer_key(scope) if oauth else self._key(scope))
        if wait is None:
            await self.app(scope, receive, send)
            return
        seconds = max(1, math.ceil(wait))
        response = problem_response(
            "RATE_LIMITED",
            f"Too many requests from this client app. Retry after {seconds} seconds.",
            _instance(scope),
            headers={"Retry-After": str(seconds)},
        )
        await response(scope, receive, send)
