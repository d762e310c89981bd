"""Composition root: builds every adapter from ``Settings`` and wires them into the app (the one
place that knows concrete classes, as in cosmicpython's bootstrap)."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from opentelemetry.sdk.trace.export import SpanExporter
from sqlalchemy import func, select
from starlette.types import ASGIApp

from futurebank.sandbox.adapters import orm
from futurebank.sandbox.adapters.audit_seal import AuditSealer
from futurebank.sandbox.adapters.db import Database, make_database
from futurebank.sandbox.adapters.experiments import load_experiments
from futurebank.sandbox.adapters.flags import DEFAULT_STAGE, RolloutFlags, install_stage, load_config
from futurebank.sandbox.adapters.kpi_sink import JsonLinesSink
from futurebank.sandbox.adapters.migrate import recreate, upgrade
from futurebank.sandbox.adapters.tokens import KeyStore, TokenService
from futurebank.sandbox.adapters.tracing import SERVICE_LAYER_SCOPE, make_tracing
from futurebank.sandbox.config import Settings
from futurebank.sandbox.domain.audit import StoredEntry, verify_log
from futurebank.sandbox.entrypoints.app import create_app
from futurebank.sandbox.entrypoints.deps import Container
from futurebank.sandbox.entrypoints.observability import Metrics, configure_logging
from futurebank.sandbox.service_layer.cursors import CursorCodec
from futurebank.sandbox.service_layer.kpi import KpiRecorder, KpiRelay
from futurebank.sandbox.service_layer.messagebus import Clock, MessageBus, new_uuid, utc_now
from futurebank.sandbox.service_layer.seed import default_seed_path, seed
from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

log = logging.getLogger("futurebank.sandbox")
REPO_ROOT = Path(__file__).resolve().parents[3]
CONTRACT = REPO_ROOT / "docs" / "api" / "openapi.yaml"


def _secret(path: Path) -> bytes:
    """A random secret kept in the data directory (created once, readable by the owner only)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(32))
        with contextlib.suppress(FileExistsError):  # another process created it first: use theirs
            os.link(tmp, path)
        tmp.unlink()
    return path.read_bytes()


def open_database(settings: Settings) -> Database:
    orm.start_mappers()
    if settings.is_sqlite:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = make_database(settings.database_url, busy_timeout_ms=settings.busy_timeout_ms)
    assert settings.audit_key_file is not None and settings.audit_seal_file is not None
    db.use_audit(
        AuditSealer(settings.audit_key_file, settings.audit_seal_file, settings.audit_seal_interval_s)
    )
    upgrade(db.engine)
    return db


def is_empty(db: Database) -> bool:
    with db.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(orm.customers)).scalar_one()) == 0


def reset(db: Database, seed_path: Path | None = None, history: bool = True) -> dict[str, int]:
    """Drop and recreate the schema and seed the demo data again, in one transaction (postings and
    audit entries are append-only, so there is nothing to delete row by row)."""
    with UnitOfWork(db) as uow:
        recreate(uow.session.connection())
        counts = seed(uow, seed_path, history=history)
        if db.audit is not None:
            db.audit.restart()  # the old seals describe chains that no longer exist
        uow.commit()
    return counts


def seed_if_empty(db: Database, seed_path: Path | None = None, history: bool = True) -> bool:
    with UnitOfWork(db) as uow:
        if uow.customers.all():
            return False
        seed(uow, seed_path, history=history)
        uow.commit()
    return True


def verify_audit(db: Database) -> tuple[int, list[str]]:
    """(number of entries, problems); an empty problem list means the log is intact."""
    sealer = db.audit
    key = sealer.read_key() if sealer is not None else None
    if sealer is None or key is None:
        where = sealer.key_file if sealer is not None else "(not configured)"
        return 0, [f"no audit key at {where}: cannot verify (set SANDBOX_AUDIT_KEY_FILE)"]
    seals, problems = sealer.read_seals()
    with UnitOfWork(db) as uow:
        heads = uow.audit.heads()
        entries: list[StoredEntry] = list(uow.audit.entries())
    return len(entries), problems + verify_log(key, entries, heads, seals)


def rollout_flags(settings: Settings) -> RolloutFlags | None:
    """The rollout gate: install the configured stage (or RS-0006 when there is no state file yet)
    and watch the state file. None when SANDBOX_FLAGS=0."""
    if not settings.flags_enabled:
        return None
    state = settings.flags_file
    assert state is not None
    if settings.rollout_stage is not None or not state.exists():
        install_stage(settings.rollout_stage or DEFAULT_STAGE, state)
    return RolloutFlags(load_config(), state, settings.staff_customers, settings.flags_poll_ms)


def bootstrap(
    settings: Settings | None = None,
    *,
    clock: Clock = utc_now,
    new_id: Callable[[], str] | None = None,
    seed_path: Path | None = None,
    history: bool = True,
    span_exporter: SpanExporter | None = None,
) -> Container:
    """``span_exporter``: where spans go instead of the ``SANDBOX_TRACES`` destination (tests)."""
    settings = settings or Settings.from_env()
    db = open_database(settings)
    if settings.seed:
        seed_if_empty(db, seed_path or default_seed_path(), history=history)
    tracing = make_tracing(settings.traces, settings.trace_sample_ratio, span_exporter)
    tracing.instrument(
        db.engine, db.sessions
    )  # after the migrations and the seed: they are no request's work
    tokens = TokenService(
        KeyStore(settings.data_dir / "token-signing-keys.json"),
        settings.issuer,
        settings.audience,
        settings.token_ttl_s,
        clients=tuple(settings.clients),
        algorithm=settings.token_alg,
        leeway_seconds=settings.token_leeway_s,
    )
    bus = MessageBus(
        db,
        clock=clock,
        new_id=new_id or new_uuid,
        idempotency_wait_s=settings.idempotency_wait_s,
        first_party_clients=settings.first_party_clients,
        kpi=KpiRecorder(_secret(settings.data_dir / "kpi-pseudonym-key")),
        tracer=tracing.tracer(SERVICE_LAYER_SCOPE),
    )
    relay = KpiRelay(db, JsonLinesSink(settings.data_dir / "kpi-events.jsonl"), bus.clock)
    relay.start()
    return Container(
        settings=settings,
        db=db,
        bus=bus,
        tokens=tokens,
        cursors=CursorCodec(_secret(settings.data_dir / "cursor-secret")),
        metrics=Metrics(),
        contract_path=CONTRACT if CONTRACT.exists() else None,
        kpi_relay=relay,
        flags=rollout_flags(settings),
        experiments=load_experiments(),
        tracing=tracing,
    )


def app_from_env() -> ASGIApp:
    """uvicorn factory: ``uvicorn --factory futurebank.sandbox.bootstrap:app_from_env``."""
    configure_logging()
    return create_app(bootstrap())
