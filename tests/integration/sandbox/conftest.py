"""Fixtures for the sandbox's integration tests: both database backends, a seeded container per
test, an in-process client, a live uvicorn server, and demo tokens.

Every test that takes ``backend`` runs twice: on SQLite, and (marker ``postgres``) on PostgreSQL.
PostgreSQL comes from ``SANDBOX_TEST_POSTGRES_URL`` when set, otherwise a throwaway server is
started from the Debian binaries in /usr/lib/postgresql/15/bin; when they are missing the tests
FAIL and say how to install them (a silent skip would hide a whole backend).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sandbox_helpers import LiveServer, PgServer, reachable, run_live, start_throwaway_pg
from sqlalchemy import create_engine, text

with warnings.catch_warnings():  # Starlette suggests httpx2; the TestClient works with httpx as installed
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

from futurebank.sandbox import bootstrap
from futurebank.sandbox.config import Settings
from futurebank.sandbox.entrypoints.app import create_app
from futurebank.sandbox.entrypoints.deps import Container

__all__ = ["LiveServer"]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    given = os.environ.get("SANDBOX_TEST_POSTGRES_URL")
    if given:
        if not reachable(given):
            pytest.fail(f"SANDBOX_TEST_POSTGRES_URL={given} is not reachable", pytrace=False)
        yield PgServer(given, lambda: None)
        return
    # Not under pytest's tmp dir: that is private to root, and the server runs as "postgres".
    base = Path(tempfile.mkdtemp(prefix="futurebank-pg-"))
    try:
        server = start_throwaway_pg(base)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _pg_exec(admin_url: str, *statements: str) -> None:
    engine = create_engine(
        admin_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


# --- seeded databases --------------------------------------------------------------------------------


@dataclass
class Template:
    """A migrated and seeded database to copy for each test (copying beats re-seeding)."""

    kind: str
    make: Callable[[Path], str]  # returns a DATABASE_URL of a fresh copy
    data_dir: Path  # the audit MAC key and seals that belong with the copies

    def copy_audit_files(self, where: Path) -> None:
        where.mkdir(parents=True, exist_ok=True)
        for name in ("audit-mac-key", "audit-seals.jsonl"):
            if (self.data_dir / name).exists():
                shutil.copy(self.data_dir / name, where / name)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    base = tmp_path_factory.mktemp("sqlite-template")
    db = bootstrap.open_database(Settings(data_dir=base, seed=False))
    bootstrap.reset(db)
    db.dispose()
    source = base / "sandbox.db"

    def make(where: Path) -> str:
        where.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, where / "sandbox.db")
        return f"sqlite:///{where / 'sandbox.db'}"

    return Template("sqlite", make, base)


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Template:
    name = "sandbox_template"
    _pg_exec(pg_server.admin_url, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
    data_dir = tmp_path_factory.mktemp("pg-template")
    db = bootstrap.open_database(Settings(data_dir=data_dir, database_url=pg_server.url(name), seed=False))
    bootstrap.reset(db)
    db.dispose()

    def make(where: Path) -> str:
        copy = f"sandbox_{uuid.uuid4().hex[:12]}"
        _pg_exec(pg_server.admin_url, f"CREATE DATABASE {copy} TEMPLATE {name}")
        return pg_server.url(copy)

    return Template("postgres", make, data_dir)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    template: Template = request.getfixturevalue("sqlite_template" if backend == "sqlite" else "pg_template")
    template.copy_audit_files(tmp_path / "data")  # the copy's audit entries were MACed with this key
    return template.make(tmp_path / "db")


@pytest.fixture
def make_container(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Container]]:
    made: list[Container] = []

    def make(**overrides: Any) -> Container:
        values: dict[str, Any] = {"data_dir": tmp_path / "data", "database_url": database_url, "seed": False}
        values["audit_seal_interval_s"] = 0.0  # a seal after every commit: truncation tests need no waiting
        values["access_log"] = False
        settings = Settings(**{**values, **overrides})
        c = bootstrap.bootstrap(settings)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()
        c.db.dispose()


@pytest.fixture
def container(make_container: Callable[..., Container]) -> Container:
    return make_container()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container), raise_server_exceptions=False) as tc:
        yield tc


@pytest.fixture
def live(container: Container) -> Iterator[LiveServer]:
    with run_live(container) as server:
        yield server
