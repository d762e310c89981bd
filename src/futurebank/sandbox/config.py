"""Configuration from the environment, with defaults that make ``make run`` work out of the box.

| Variable | Default | Meaning |
|---|---|---|
| ``DATABASE_URL`` | ``sqlite:///<data dir>/sandbox.db`` | SQLite file, or ``postgresql://…`` (psycopg 3) |
| ``SANDBOX_DATA_DIR`` | ``build/sandbox`` | database file, token signing key, cursor secret |
| ``SANDBOX_ISSUER`` | ``http://127.0.0.1:8000/api/v1`` | ``iss`` of issued tokens |
| ``SANDBOX_RATE_LIMIT_RPS`` | ``5000`` | token bucket per client app: refill rate |
| ``SANDBOX_RATE_LIMIT_BURST`` | ``10000`` | token bucket per client app: size |
| ``SANDBOX_MAX_BODY_BYTES`` | ``65536`` | larger bodies get 413 (the contract's 64 KiB) |
| ``SANDBOX_IDEMPOTENCY_WAIT_S`` | ``5`` | how long a retry waits for an in-flight twin before 409 |
| ``SANDBOX_EXECUTION`` | ``auto`` | ``writer`` (one database thread), ``threadpool``, or ``auto`` |
| ``SANDBOX_SEED`` | ``1`` | seed the demo data into an empty database on start |
| ``SANDBOX_ACCESS_LOG`` | ``1`` | one JSON log line per request |
| ``SANDBOX_TOKEN_TTL_S`` | ``3600`` | access token lifetime |
| ``SANDBOX_BUSY_TIMEOUT_MS`` | ``2000`` | SQLite: wait for another process's write lock, then ``503`` |
| ``SANDBOX_TOKEN_ALG`` | ``ES256`` | signer (ADR-0017): ES256, Ed25519, ML-DSA-44/-65/-87; a change rotates |
| ``SANDBOX_TOKEN_LEEWAY_S`` | ``30`` | clock skew allowed on a token's ``iat``, ``nbf`` and ``exp`` |
| ``SANDBOX_AUDIT_KEY_FILE`` | ``<data dir>/audit-mac-key`` | audit log's HMAC key (made on first start) |
| ``SANDBOX_AUDIT_SEAL_FILE`` | ``<data dir>/audit-seals.jsonl`` | MACed chain heads, outside the db |
| ``SANDBOX_AUDIT_SEAL_INTERVAL_S`` | ``1`` | seconds between seals (``0``: after every commit) |
| ``SANDBOX_FAULTS`` | (none) | injected faults: ``createPayment:error=0.5,latency_ms=200;*:latency_ms=20`` |
| ``SANDBOX_ROLLOUT_STAGE`` | (keep the state file; ``RS-0006`` when none) | stage installed on start |
| ``SANDBOX_FLAGS_FILE`` | ``<data dir>/flags.flagd.json`` | the flagd state file the provider watches |
| ``SANDBOX_FLAGS_POLL_MS`` | ``500`` | how often the provider checks the state file for a change |
| ``SANDBOX_FLAGS`` | ``1`` | ``0`` switches the rollout gate off (every customer inside; for the bench) |
| ``SANDBOX_STAFF_CUSTOMERS`` | (none) | comma-separated customer ids of the staff cohort (RS-0001) |
| ``SANDBOX_TRACES`` | ``off`` | spans to ``off``, ``console``, ``file:<path>`` (JSON lines), ``otlp`` |
| ``SANDBOX_TRACE_SAMPLE_RATIO`` | ``0.01`` | share of new traces recorded (a caller's sampled flag wins) |

``auto`` runs every database call on one dedicated thread for SQLite (one writer anyway; the event
loop never blocks on the file lock) and in the thread pool for PostgreSQL (concurrent transactions
holding row locks).

``otlp`` sends spans over OTLP/HTTP to ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``), the OpenTelemetry SDK's own variables, as a Jaeger or Tempo
collector expects; ``OTEL_SERVICE_NAME`` overrides the service name ``futurebank-sandbox``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Client apps of the development authorisation server. Secrets are public on purpose: sandbox only.
DEMO_CLIENTS: dict[str, str] = {
    "demo-app": "demo-app-secret",  # the bank's own app (docs/stories/seed.yaml)
    "budget-app": "budget-app-secret",  # a third-party budgeting app (docs/stories/seed.yaml)
    "support-desk": "support-desk-secret",  # the support agents' desk (staff client, scope agent)
}
# Staff clients and the support agent (staff id) each one signs in: their client credentials tokens carry
# the staff scope ``agent`` and nothing else, and no customer grant is issued to them. One client per agent
# stands in for the bank's staff sign-in (our assumption for the sandbox, change C-17).
DEMO_STAFF_CLIENTS: dict[str, str] = {"support-desk": "SA104233"}
# The bank's own apps: they may list and revoke every consent of their customer (change C-09).
FIRST_PARTY_CLIENTS: frozenset[str] = frozenset({"demo-app"})


@dataclass(frozen=True)
class Fault:
    """A failure injected into one operation: a share of requests answered 503, and added latency."""

    error_rate: float = 0.0
    latency_ms: int = 0


def parse_faults(text: str) -> dict[str, Fault]:
    """``SANDBOX_FAULTS``: ``operation:error=0.5,latency_ms=200;other:latency_ms=50`` (``*``: every
    operation). A malformed value is refused at start-up with what is wrong, never half-applied."""
    faults: dict[str, Fault] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        operation, sep, settings = part.partition(":")
        if not sep or not operation.strip():
            raise ValueError(f"SANDBOX_FAULTS: {part!r} is not operation:key=value,...")
        values: dict[str, str] = {}
        for item in filter(None, (i.strip() for i in settings.split(","))):
            key, eq, value = item.partition("=")
            if not eq or key not in ("error", "latency_ms"):
                raise ValueError(f"SANDBOX_FAULTS: {item!r} in {part!r}: the keys are error and latency_ms")
            values[key] = value
        try:
            error, latency = float(values.get("error", "0")), int(values.get("latency_ms", "0"))
        except ValueError:
            raise ValueError(f"SANDBOX_FAULTS: {part!r}: error is a share, latency_ms whole ms") from None
        if not 0 <= error <= 1 or not 0 <= latency <= 60_000:
            raise ValueError(f"SANDBOX_FAULTS: {part!r}: error must be 0..1 and latency_ms 0..60000")
        faults[operation.strip()] = Fault(error, latency)
    return faults


TRACE_MODES = ("off", "console", "otlp", "file:<path>")


def parse_traces(text: str) -> str:
    """``SANDBOX_TRACES``: where spans go. Refused at start-up when it names no known destination."""
    value = text.strip()
    if value.lower() in ("off", "console", "otlp"):
        return value.lower()
    if value[:5].lower() == "file:" and value[5:].strip():
        return "file:" + value[5:].strip()
    raise ValueError(f"SANDBOX_TRACES must be one of {', '.join(TRACE_MODES)}, not {text!r}")


def parse_ratio(text: str) -> float:
    """``SANDBOX_TRACE_SAMPLE_RATIO``: a share from 0 to 1."""
    try:
        ratio = float(text)
    except ValueError:
        raise ValueError(f"SANDBOX_TRACE_SAMPLE_RATIO must be a number from 0 to 1, not {text!r}") from None
    if not 0.0 <= ratio <= 1.0:
        raise ValueError(f"SANDBOX_TRACE_SAMPLE_RATIO must be from 0 to 1, not {text!r}")
    return ratio


def _bool(value: str) -> bool:
    return value.strip().lower() not in ("0", "false", "no", "off", "")


def _id_set(value: str) -> frozenset[str]:
    return frozenset(part.strip().lower() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("build/sandbox")
    database_url: str = ""
    issuer: str = "http://127.0.0.1:8000/api/v1"
    audience: str = "futurebank-api"
    token_ttl_s: int = 3600
    token_alg: str = "ES256"
    token_leeway_s: int = 30
    rate_limit_rps: float = 5000.0
    rate_limit_burst: int = 10000
    max_body_bytes: int = 65536
    idempotency_wait_s: float = 5.0
    execution: str = "auto"
    busy_timeout_ms: int = 2000
    seed: bool = True
    access_log: bool = True
    clients: Mapping[str, str] = field(default_factory=lambda: dict(DEMO_CLIENTS))
    first_party_clients: frozenset[str] = FIRST_PARTY_CLIENTS
    staff_clients: Mapping[str, str] = field(default_factory=lambda: dict(DEMO_STAFF_CLIENTS))
    # Outside the database on purpose: whoever can write to it must not hold the key or the seals.
    audit_key_file: Path | None = None
    audit_seal_file: Path | None = None
    audit_seal_interval_s: float = 1.0
    # Injected failures by operation id ("*" for all), for driving the rollout gates into rollback.
    faults: Mapping[str, Fault] = field(default_factory=dict)
    # Rollout flags (ADR-0019): None keeps the state file's stage (RS-0006 when there is none).
    rollout_stage: str | None = None
    flags_file: Path | None = None
    flags_poll_ms: int = 500
    flags_enabled: bool = True
    staff_customers: frozenset[str] = frozenset()
    # Traces (ADR-0021): where spans go, and the share of new traces recorded.
    traces: str = "off"
    trace_sample_ratio: float = 0.01

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / 'sandbox.db'}")
        if self.audit_key_file is None:
            object.__setattr__(self, "audit_key_file", self.data_dir / "audit-mac-key")
        if self.audit_seal_file is None:
            object.__setattr__(self, "audit_seal_file", self.data_dir / "audit-seals.jsonl")
        if self.flags_file is None:
            object.__setattr__(self, "flags_file", self.data_dir / "flags.flagd.json")
        if self.execution not in ("auto", "writer", "threadpool"):
            raise ValueError(f"SANDBOX_EXECUTION must be auto, writer or threadpool, not {self.execution!r}")
        object.__setattr__(self, "traces", parse_traces(self.traces))
        parse_ratio(str(self.trace_sample_ratio))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def single_writer(self) -> bool:
        return self.execution == "writer" or (self.execution == "auto" and self.is_sqlite)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        if "SANDBOX_DATA_DIR" in env:
            values["data_dir"] = Path(env["SANDBOX_DATA_DIR"])
        if env.get("DATABASE_URL"):
            values["database_url"] = env["DATABASE_URL"]
        for name, key, conv in (
            ("issuer", "SANDBOX_ISSUER", str),
            ("token_ttl_s", "SANDBOX_TOKEN_TTL_S", int),
            ("token_alg", "SANDBOX_TOKEN_ALG", str),
            ("token_leeway_s", "SANDBOX_TOKEN_LEEWAY_S", int),
            ("rate_limit_rps", "SANDBOX_RATE_LIMIT_RPS", float),
            ("rate_limit_burst", "SANDBOX_RATE_LIMIT_BURST", int),
            ("max_body_bytes", "SANDBOX_MAX_BODY_BYTES", int),
            ("idempotency_wait_s", "SANDBOX_IDEMPOTENCY_WAIT_S", float),
            ("execution", "SANDBOX_EXECUTION", str),
            ("busy_timeout_ms", "SANDBOX_BUSY_TIMEOUT_MS", int),
            ("seed", "SANDBOX_SEED", _bool),
            ("access_log", "SANDBOX_ACCESS_LOG", _bool),
            ("audit_key_file", "SANDBOX_AUDIT_KEY_FILE", Path),
            ("audit_seal_file", "SANDBOX_AUDIT_SEAL_FILE", Path),
            ("audit_seal_interval_s", "SANDBOX_AUDIT_SEAL_INTERVAL_S", float),
            ("faults", "SANDBOX_FAULTS", parse_faults),
            ("rollout_stage", "SANDBOX_ROLLOUT_STAGE", str),
            ("flags_file", "SANDBOX_FLAGS_FILE", Path),
            ("flags_poll_ms", "SANDBOX_FLAGS_POLL_MS", int),
            ("flags_enabled", "SANDBOX_FLAGS", _bool),
            ("staff_customers", "SANDBOX_STAFF_CUSTOMERS", _id_set),
            ("traces", "SANDBOX_TRACES", parse_traces),
            ("trace_sample_ratio", "SANDBOX_TRACE_SAMPLE_RATIO", parse_ratio),
        ):
            if key in env:
                values[name] = conv(env[key])
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
