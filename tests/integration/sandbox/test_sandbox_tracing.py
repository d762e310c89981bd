"""Traces (ADR-0021): one payment is one trace of an HTTP server span, the service layer's span and
its database spans; an incoming W3C ``traceparent`` is continued; the JSON logs carry the trace id;
with ``SANDBOX_TRACES=off`` nothing is recorded. Spans are collected by the SDK's in-memory exporter
(or, for the file and OTLP destinations, read back from where they went)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sandbox_helpers import ANNA_CURRENT, ANNA_SAVINGS, bearer, token_for
from starlette.testclient import TestClient

from futurebank.sandbox import bootstrap
from futurebank.sandbox.config import Settings
from futurebank.sandbox.entrypoints.app import create_app
from futurebank.sandbox.entrypoints.deps import Container
from futurebank.sandbox.entrypoints.observability import JsonFormatter

API = "/api/v1"
BODY = {
    "debtor_account_id": ANNA_CURRENT,
    "creditor_account_id": ANNA_SAVINGS,
    "amount": {"amount": "10.00", "currency": "RUB"},
    "remittance_information": "traced",
}
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"

Make = Callable[..., tuple[TestClient, Container]]


@pytest.fixture
def memory() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def make_app(database_url: str, tmp_path: Path, memory: InMemorySpanExporter) -> Iterator[Make]:
    made: list[tuple[TestClient, Container]] = []

    def make(
        exporter: InMemorySpanExporter | None = memory, **overrides: Any
    ) -> tuple[TestClient, Container]:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "seed": False,
            "traces": "console",  # replaced by the exporter when one is given
            "trace_sample_ratio": 1.0,
            **overrides,
        }
        c = bootstrap.bootstrap(Settings(**values), span_exporter=exporter)
        client = TestClient(create_app(c), raise_server_exceptions=False)
        client.__enter__()
        made.append((client, c))
        return client, c

    yield make
    for client, c in made:
        client.__exit__(None, None, None)
        c.close()
        c.db.dispose()


def pay(client: TestClient, token: str, key: str, **headers: str) -> Any:
    return client.post(
        f"{API}/payments", json=BODY, headers=bearer(token, **{"Idempotency-Key": key}, **headers)
    )


def one(spans: list[ReadableSpan], test: Callable[[ReadableSpan], bool]) -> ReadableSpan:
    found = [s for s in spans if test(s)]
    assert len(found) == 1, [s.name for s in spans]
    return found[0]


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def test_one_payment_is_one_trace_of_http_service_and_database_spans(
    make_app: Make, memory: InMemorySpanExporter
) -> None:
    client, c = make_app()
    token = token_for(client)
    memory.clear()  # the token request is a trace of its own
    response = pay(client, token, "traced-1")
    assert response.status_code == 201, response.text
    spans = list(memory.get_finished_spans())
    assert len({s.context.trace_id for s in spans}) == 1, "one payment, one trace"
    server = one(spans, lambda s: s.kind == SpanKind.SERVER)
    assert server.name == "POST /api/v1/payments"
    assert server.parent is None  # the request sent no traceparent: a new trace
    assert server.attributes is not None
    assert server.attributes["http.route"] == "/api/v1/payments"
    assert server.attributes["futurebank.correlation_id"] == response.headers["x-correlation-id"]
    service = one(spans, lambda s: s.name == "CreatePayment")
    assert parent_id(service) == server.context.span_id
    database = [s for s in spans if s.kind == SpanKind.CLIENT]
    # BEGIN IMMEDIATE, the idempotency claim, the accounts under lock, the payment, its postings ...
    assert len(database) >= 5, [s.name for s in database]
    assert {parent_id(s) for s in database} == {service.context.span_id}
    statements = [str((s.attributes or {}).get("db.statement", "")) for s in database]
    assert any(st.startswith("INSERT INTO payments") for st in statements), statements
    system = "sqlite" if c.db.is_sqlite else "postgresql"
    assert all((s.attributes or {}).get("db.system") == system for s in database)
    assert len(spans) == 2 + len(database), [s.name for s in spans]
    # every span ended inside its parent
    by_id = {s.context.span_id: s for s in spans}
    for s in spans:
        if s.parent is not None:
            p = by_id[s.parent.span_id]
            assert p.start_time is not None and s.start_time is not None
            assert p.end_time is not None and s.end_time is not None
            assert p.start_time <= s.start_time and s.end_time <= p.end_time, s.name
    # the response names the trace and the server span (W3C Trace Context Level 2)
    tid, sid = f"{server.context.trace_id:032x}", f"{server.context.span_id:016x}"
    version, trace_id, span_id, flags = response.headers["traceresponse"].split("-")
    assert (version, trace_id, span_id) == ("00", tid, sid)
    # sampled (0x01); a trace this server started also says its id is random (0x02, Level 2)
    assert int(flags, 16) == int(server.context.trace_flags) and int(flags, 16) & 0x01


def test_an_incoming_traceparent_is_continued(make_app: Make, memory: InMemorySpanExporter) -> None:
    client, _ = make_app(trace_sample_ratio=0.0)  # only the caller's sampled flag records anything
    token = token_for(client)
    assert memory.get_finished_spans() == ()  # ratio 0 and no traceparent: not sampled
    response = pay(client, token, "traced-2", traceparent=f"00-{CALLER_TRACE}-{CALLER_SPAN}-01")
    assert response.status_code == 201, response.text
    spans = list(memory.get_finished_spans())
    assert {f"{s.context.trace_id:032x}" for s in spans} == {CALLER_TRACE}
    server = one(spans, lambda s: s.kind == SpanKind.SERVER)
    assert server.parent is not None and server.parent.is_remote
    assert f"{server.parent.span_id:016x}" == CALLER_SPAN
    assert parent_id(one(spans, lambda s: s.name == "CreatePayment")) == server.context.span_id
    assert response.headers["traceresponse"] == f"00-{CALLER_TRACE}-{server.context.span_id:016x}-01"


def test_a_caller_that_did_not_sample_gets_no_spans_but_its_trace_id(
    make_app: Make, memory: InMemorySpanExporter
) -> None:
    client, _ = make_app(trace_sample_ratio=1.0)
    token = token_for(client)
    memory.clear()
    response = pay(client, token, "traced-3", traceparent=f"00-{CALLER_TRACE}-{CALLER_SPAN}-00")
    assert response.status_code == 201, response.text
    assert memory.get_finished_spans() == ()
    answer = response.headers["traceresponse"].split("-")
    assert (answer[0], answer[1], answer[3]) == ("00", CALLER_TRACE, "00")


class Lines(logging.Handler):
    """The sandbox's log lines as its JSON formatter writes them."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def access_lines() -> Iterator[Lines]:
    logger = logging.getLogger("futurebank.sandbox.access")
    handler = Lines()
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def test_log_lines_carry_the_trace_id_next_to_the_correlation_id(
    make_app: Make, memory: InMemorySpanExporter, access_lines: Lines
) -> None:
    client, _ = make_app(access_log=True)
    token = token_for(client)
    response = pay(client, token, "traced-4", traceparent=f"00-{CALLER_TRACE}-{CALLER_SPAN}-01")
    assert response.status_code == 201
    line = access_lines.lines[-1]
    assert line["operation"] == "createPayment"
    assert line["correlation_id"] == response.headers["x-correlation-id"]
    assert line["trace_id"] == CALLER_TRACE
    server = one(
        list(memory.get_finished_spans()),
        lambda s: s.kind == SpanKind.SERVER and s.name.startswith("POST /api/v1/payments"),
    )
    assert line["span_id"] == f"{server.context.span_id:016x}"


def test_with_traces_off_nothing_is_recorded(
    make_app: Make, memory: InMemorySpanExporter, access_lines: Lines
) -> None:
    client, c = make_app(traces="off", access_log=True)
    assert not c.tracing.enabled and c.bus.tracer is None
    token = token_for(client)
    response = pay(client, token, "traced-5", traceparent=f"00-{CALLER_TRACE}-{CALLER_SPAN}-01")
    assert response.status_code == 201, response.text
    assert memory.get_finished_spans() == ()
    assert "traceresponse" not in response.headers
    line = access_lines.lines[-1]
    assert line["operation"] == "createPayment" and "trace_id" not in line


def test_file_destination_writes_one_span_per_line(make_app: Make, tmp_path: Path) -> None:
    path = tmp_path / "spans" / "spans.jsonl"
    client, c = make_app(exporter=None, traces=f"file:{path}")
    token = token_for(client)
    response = pay(client, token, "traced-6")
    assert response.status_code == 201
    c.tracing.shutdown()  # the batch processor exports what is queued
    spans = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    trace_id = response.headers["traceresponse"].split("-")[1]
    payment = {s["span_id"]: s for s in spans if s["trace_id"] == trace_id}
    server = next(s for s in payment.values() if s["kind"] == "SERVER")
    service = next(s for s in payment.values() if s["name"] == "CreatePayment")
    database = [s for s in payment.values() if s["kind"] == "CLIENT"]
    assert server["name"] == "POST /api/v1/payments" and server["parent_span_id"] is None
    assert service["parent_span_id"] == server["span_id"]
    assert database and all(s["parent_span_id"] == service["span_id"] for s in database)
    assert all(s["end_time_unix_nano"] >= s["start_time_unix_nano"] > 0 for s in spans)
    assert {s["service"] for s in spans} == {"futurebank-sandbox"}


class Collector(BaseHTTPRequestHandler):
    """A stand-in OTLP/HTTP receiver on the loopback: keeps each decoded export request."""

    received: list[ExportTraceServiceRequest]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        request = ExportTraceServiceRequest()
        request.ParseFromString(body)
        type(self).received.append(request)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return None


def test_otlp_destination_sends_spans_to_the_configured_endpoint(
    make_app: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    handler = type("Received", (Collector,), {"received": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{server.server_port}")
        client, c = make_app(exporter=None, traces="otlp")
        response = pay(client, token_for(client), "traced-7")
        assert response.status_code == 201
        c.tracing.shutdown()
    finally:
        server.shutdown()
        server.server_close()
    names = {
        span.name
        for request in handler.received
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
        if span.trace_id.hex() == response.headers["traceresponse"].split("-")[1]
    }
    assert {"POST /api/v1/payments", "CreatePayment"} <= names


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"SANDBOX_TRACES": "jaeger"}, "SANDBOX_TRACES must be one of"),
        ({"SANDBOX_TRACES": "file:"}, "SANDBOX_TRACES must be one of"),
        ({"SANDBOX_TRACE_SAMPLE_RATIO": "1.5"}, "from 0 to 1"),
        ({"SANDBOX_TRACE_SAMPLE_RATIO": "all"}, "a number from 0 to 1"),
    ],
)
def test_bad_trace_settings_are_refused_at_start(env: dict[str, str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        Settings.from_env(env)


def test_trace_settings_from_the_environment() -> None:
    assert (Settings.from_env({}).traces, Settings.from_env({}).trace_sample_ratio) == ("off", 0.01)
    s = Settings.from_env({"SANDBOX_TRACES": "File:/tmp/x.jsonl", "SANDBOX_TRACE_SAMPLE_RATIO": "0.25"})
    assert (s.traces, s.trace_sample_ratio) == ("file:/tmp/x.jsonl", 0.25)
    assert Settings.from_env({"SANDBOX_TRACES": " OTLP "}).traces == "otlp"
