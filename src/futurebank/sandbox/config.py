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
| ``SANDBOX_EXECUTION`` | ``auto`` | ``inline`` (handlers on the event loop), ``threadpool``, or ``auto`` |

``auto`` runs handlers inline for SQLite (one writer anyway; no thread hop) and in the thread pool
for PostgreSQL (concurrent transactions holding row locks).
| ``SANDBOX_SEED`` | ``1`` | seed the demo data into an empty database on start |
| ``SANDBOX_ACCESS_LOG`` | ``1`` | one JSON log line per request |
| ``SANDBOX_TOKEN_TTL_S`` | ``3600`` | access token lifetime |
| ``SANDBOX_AUDIT_KEY_FILE`` | ``<data dir>/audit-mac-key`` | audit log's HMAC key (made on first start) |
| ``SANDBOX_AUDIT_SEAL_FILE`` | ``<data dir>/audit-seals.jsonl`` | MACed chain heads, outside the db |
| ``SANDBOX_AUDIT_SEAL_INTERVAL_S`` | ``1`` | seconds between seals (``0``: after every commit) |
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
}


def _bool(value: str) -> bool:
    return value.strip().lower() not in ("0", "false", "no", "off", "")


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("build/sandbox")
    database_url: str = ""
    issuer: str = "http://127.0.0.1:8000/api/v1"
    audience: str = "futurebank-api"
    token_ttl_s: int = 3600
    rate_limit_rps: float = 5000.0
    rate_limit_burst: int = 10000
    max_body_bytes: int = 65536
    idempotency_wait_s: float = 5.0
    execution: str = "auto"
    seed: bool = True
    access_log: bool = True
    clients: Mapping[str, str] = field(default_factory=lambda: dict(DEMO_CLIENTS))
    # Outside the database on purpose: whoever can write to it must not hold the key or the seals.
    audit_key_file: Path | None = None
    audit_seal_file: Path | None = None
    audit_seal_interval_s: float = 1.0

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.data_dir / 'sandbox.db'}")
        if self.audit_key_file is None:
            object.__setattr__(self, "audit_key_file", self.data_dir / "audit-mac-key")
        if self.audit_seal_file is None:
            object.__setattr__(self, "audit_seal_file", self.data_dir / "audit-seals.jsonl")
        if self.execution not in ("auto", "inline", "threadpool"):
            raise ValueError(f"SANDBOX_EXECUTION must be auto, inline or threadpool, not {self.execution!r}")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def inline(self) -> bool:
        return self.execution == "inline" or (self.execution == "auto" and self.is_sqlite)

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
            ("rate_limit_rps", "SANDBOX_RATE_LIMIT_RPS", float),
            ("rate_limit_burst", "SANDBOX_RATE_LIMIT_BURST", int),
            ("max_body_bytes", "SANDBOX_MAX_BODY_BYTES", int),
            ("idempotency_wait_s", "SANDBOX_IDEMPOTENCY_WAIT_S", float),
            ("execution", "SANDBOX_EXECUTION", str),
            ("seed", "SANDBOX_SEED", _bool),
            ("access_log", "SANDBOX_ACCESS_LOG", _bool),
            ("audit_key_file", "SANDBOX_AUDIT_KEY_FILE", Path),
            ("audit_seal_file", "SANDBOX_AUDIT_SEAL_FILE", Path),
            ("audit_seal_interval_s", "SANDBOX_AUDIT_SEAL_INTERVAL_S", float),
        ):
            if key in env:
                values[name] = conv(env[key])
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
