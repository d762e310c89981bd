"""Acceptance tier: the Gherkin scenarios of docs/stories/features against the reference sandbox.

The sandbox runs as it does in production, in its own process: uvicorn serving
``futurebank.sandbox.bootstrap:app_from_env`` on a free loopback port (never 8000), with a private
SQLite database in a temporary directory. "Given the demo data is seeded" resets that database to
exactly docs/stories/seed.yaml with the sandbox's own ``reset`` function, from this process.

Options:
  --acceptance-run-all     also run the scenarios that are skipped by default (those calling an
                           operation the sandbox answers 501, and @not-in-sandbox ones), to see them fail
  FUTUREBANK_ACCEPTANCE_DATABASE_URL   run against another database (e.g. postgresql://…) instead

The run writes build/acceptance/results.json and report.json (futurebank.spec.acceptance_results).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from futurebank.sandbox import bootstrap
from futurebank.sandbox.adapters.db import Database
from futurebank.sandbox.config import DEMO_CLIENTS, Settings
from futurebank.sandbox.entrypoints.routers.not_implemented import NOT_IMPLEMENTED_OPERATIONS
from futurebank.spec.acceptance_results import AcceptanceResults, Operation
from futurebank.spec.stories import load_features, load_seed

ROOT = Path(__file__).resolve().parents[2]
FEATURES = ROOT / "docs" / "stories" / "features"
SEED = ROOT / "docs" / "stories" / "seed.yaml"
API_PREFIX = "/api/v1"
STARTUP_TIMEOUT_S = 30.0
RUNNING = re.compile(r"Uvicorn running on (http://\S+)")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--acceptance-run-all",
        action="store_true",
        default=False,
        help="acceptance: also run scenarios the sandbox cannot run (501 operations, @not-in-sandbox)",
    )


def _git_head() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip()


def pytest_configure(config: pytest.Config) -> None:
    # Gherkin tags become pytest markers (select with -m "US-0009", -m "not failure"); registering
    # them keeps --strict-markers meaningful for everything else.
    features, _ = load_features(FEATURES, ROOT)
    tags = {t for f in features for t in f.tags} | {t for f in features for s in f.scenarios for t in s.tags}
    for tag in sorted(tags):
        config.addinivalue_line("markers", f"{tag}: Gherkin tag @{tag} of docs/stories/features")
    database = "SQLite" if not os.environ.get("FUTUREBANK_ACCEPTANCE_DATABASE_URL") else "external database"
    config.pluginmanager.register(
        AcceptanceResults(
            out_dir=ROOT / "build" / "acceptance",
            sandbox=(
                f"futurebank reference sandbox at git {_git_head()}: uvicorn on loopback, {database}, "
                f"seeded from docs/stories/seed.yaml before every scenario"
            ),
            not_implemented=[
                Operation(op, method, path) for op, method, path, _ in NOT_IMPLEMENTED_OPERATIONS
            ],
            run_everything=bool(config.getoption("--acceptance-run-all")),
        ),
        "futurebank-acceptance-results",
    )


@dataclass
class Sandbox:
    """A running sandbox: where to reach it, and how to put its data back to the seed contract."""

    origin: str
    db: Database
    clients: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base_url(self) -> str:
        return self.origin + API_PREFIX

    def reset(self) -> None:
        # Only the seed contract: the generated demo history would change the figures scenarios count.
        bootstrap.reset(self.db, SEED, history=False)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _start(data_dir: Path, database_url: str, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "SANDBOX_DATA_DIR": str(data_dir),
        "DATABASE_URL": database_url,
        "SANDBOX_SEED": "0",  # each scenario seeds what it needs
        "SANDBOX_ACCESS_LOG": "0",
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "futurebank.sandbox.bootstrap:app_from_env",
        "--host",
        "127.0.0.1",
        "--port",
        "0",  # the kernel picks a free port; uvicorn logs it
        "--log-level",
        "info",
        "--no-access-log",
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        text = log.read_text(encoding="utf-8", errors="replace")
        found = RUNNING.search(text)
        if found:
            return process, found[1]
        if process.poll() is not None:
            raise RuntimeError(f"the sandbox exited with {process.returncode} while starting:\n{text}")
        time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"the sandbox did not start within {STARTUP_TIMEOUT_S} s:\n{log.read_text()}")


def _wait_ready(origin: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last = ""
    while time.monotonic() < deadline:
        try:
            response = httpx.get(origin + "/ready", timeout=2)
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text}"
        except httpx.HTTPError as exc:
            last = repr(exc)
        time.sleep(0.05)
    raise RuntimeError(f"the sandbox is not ready: {last}")


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    data_dir = tmp_path_factory.mktemp("sandbox")
    database_url = (
        os.environ.get("FUTUREBANK_ACCEPTANCE_DATABASE_URL") or f"sqlite:///{data_dir / 'sandbox.db'}"
    )
    settings = Settings(data_dir=data_dir, database_url=database_url, seed=False)
    # Migrate and seed before the server starts, so it never sees a half-built schema.
    db = bootstrap.open_database(settings)
    bootstrap.reset(db, SEED, history=False)
    log = data_dir / "sandbox.log"
    process, origin = _start(data_dir, database_url, log)
    try:
        _wait_ready(origin)
        yield Sandbox(origin=origin, db=db, clients=dict(DEMO_CLIENTS), process=process, log=log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        db.dispose()


@dataclass
class Twin:
    """A second sandbox process on its own PostgreSQL server, for a scenario that takes the database
    away (the shared sandbox must stay up for every other scenario)."""

    origin: str
    stop: Callable[[], None]
    stop_database: Callable[[], None]


@pytest.fixture(scope="session")
def start_twin_on_postgres(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Twin]:
    from futurebank import throwaway_postgres

    def start() -> Twin:
        base = Path(tempfile.mkdtemp(prefix="futurebank-acceptance-pg-"))
        try:
            server = throwaway_postgres.start(base)
        except throwaway_postgres.PostgresUnavailable as exc:
            pytest.fail(str(exc), pytrace=False)
        url = server.url("postgres")
        data_dir = tmp_path_factory.mktemp("twin")
        db = bootstrap.open_database(Settings(data_dir=data_dir, database_url=url, seed=False))
        bootstrap.reset(db, SEED, history=False)
        db.dispose()
        process, origin = _start(data_dir, url, data_dir / "sandbox.log")
        _wait_ready(origin)

        def stop() -> None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
            server.stop()
            shutil.rmtree(base, ignore_errors=True)

        return Twin(origin, stop, server.stop)

    return start


@pytest.fixture(scope="session")
def seed_aliases() -> dict[str, str]:
    """Alias -> id for every seeded record, read with the same code the spec checker uses."""
    return load_seed(SEED, ROOT).aliases()
