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
import subprocess
import tempfile
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sandbox_helpers import LiveServer, free_port, run_live
from sqlalchemy import create_engine, text

with warnings.catch_warnings():  # Starlette suggests httpx2; the TestClient works with httpx as installed
    warnings.filterwarnings("ignore", message=".*httpx2.*")
    from starlette.testclient import TestClient

from futurebank.sandbox import bootstrap
from futurebank.sandbox.config import Settings
from futurebank.sandbox.entrypoints.app import create_app
from futurebank.sandbox.entrypoints.deps import Container

__all__ = ["LiveServer"]

PG_BIN = Path("/usr/lib/postgresql/15/bin")


# --- PostgreSQL ------------------------------------------------------------------------------------


def _reachable(url: str) -> bool:
    try:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


@dataclass
class PgServer:
    admin_url: str  # connects to the "postgres" maintenance database
    stop: Callable[[], None]

    def url(self, database: str) -> str:
        return self.admin_url.rsplit("/", 1)[0] + "/" + database


def _start_throwaway_pg(base: Path) -> PgServer:
    if not (PG_BIN / "initdb").exists() or not (PG_BIN / "pg_ctl").exists():
        pytest.fail(
            f"PostgreSQL server binaries not found in {PG_BIN}: install them with "
            "`apt-get install postgresql` (or set SANDBOX_TEST_POSTGRES_URL to a server the tests may use)",
            pytrace=False,
        )
    as_root = os.geteuid() == 0
    data = base / "pgdata"
    base.mkdir(parents=True, exist_ok=True)
    prefix: list[str] = []
    if as_root:  # PostgreSQL refuses to run as root: run it as the "postgres" system user
        if subprocess.run(["id", "-u", "postgres"], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
        shutil.chown(base, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    run = {"check": True, "capture_output": True}
    subprocess.run(
        [*prefix, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"],
        **run,
    )  # type: ignore[call-overload]
    # Speed over durability: a throwaway test server never needs to survive a crash.
    options = " ".join(
        (
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1",
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
        )
    )
    subprocess.run(
        [
            *prefix,
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(base / "pg.log"),
            "-w",
            "start",
        ],
        **run,
    )  # type: ignore[call-overload]

    def stop() -> None:
        subprocess.run(
            [*prefix, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"], capture_output=True
        )

    return PgServer(f"postgresql://postgres@127.0.0.1:{port}/postgres", stop)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    given = os.environ.get("SANDBOX_TEST_POSTGRES_URL")
    if given:
        if not _reachable(given):
            pytest.fail(f"SANDBOX_TEST_POSTGRES_URL={given} is not reachable", pytrace=False)
        yield PgServer(given, lambda: None)
        return
    # Not under pytest's tmp dir: that is private to root, and the server runs as "postgres".
    base = Path(tempfile.mkdtemp(prefix="futurebank-pg-"))
    try:
        server = _start_throwaway_pg(base)
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

    return Template("sqlite", make)


@pytest.fixture(scope="session")
def pg_template(pg_server: PgServer, tmp_path_factory: pytest.TempPathFactory) -> Template:
    name = "sandbox_template"
    _pg_exec(pg_server.admin_url, f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}")
    db = bootstrap.open_database(
        Settings(
            data_dir=tmp_path_factory.mktemp("pg-template"), database_url=pg_server.url(name), seed=False
        )
    )
    bootstrap.reset(db)
    db.dispose()

    def make(where: Path) -> str:
        copy = f"sandbox_{uuid.uuid4().hex[:12]}"
        _pg_exec(pg_server.admin_url, f"CREATE DATABASE {copy} TEMPLATE {name}")
        return pg_server.url(copy)

    return Template("postgres", make)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    template: Template = request.getfixturevalue("sqlite_template" if backend == "sqlite" else "pg_template")
    return template.make(tmp_path / "db")


@pytest.fixture
def make_container(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Container]]:
    made: list[Container] = []

    def make(**overrides: Any) -> Container:
        values: dict[str, Any] = {"data_dir": tmp_path / "data", "database_url": database_url, "seed": False}
        values["access_log"] = False
        settings = Settings(**{**values, **overrides})
        c = bootstrap.bootstrap(settings)
        made.append(c)
        return c

    yield make
    for c in made:
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
