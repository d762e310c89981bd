"""Rate limiting, metrics, JSON logs, health and readiness, migrations, and the command line."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sandbox_helpers import ANNA_CURRENT, bearer, token_for
from starlette.testclient import TestClient

from futurebank.sandbox.adapters import orm
from futurebank.sandbox.adapters.migrate import alembic_config, upgrade
from futurebank.sandbox.entrypoints.app import create_app
from futurebank.sandbox.entrypoints.deps import Container
from futurebank.sandbox.entrypoints.observability import JsonFormatter

API = "/api/v1"


def test_rate_limit_answers_429_with_retry_after(make_container: Callable[..., Container]) -> None:
    container = make_container(rate_limit_rps=0.5, rate_limit_burst=3)
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        h = bearer(token_for(client))
        statuses = [client.get(f"{API}/accounts", headers=h) for _ in range(4)]
        assert [r.status_code for r in statuses[:3]] == [200, 200, 200]
        limited = statuses[3]
        assert (limited.status_code, limited.json()["code"]) == (429, "RATE_LIMITED")
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.headers["content-type"] == "application/problem+json"
        # Per client app: another app still gets through; health checks are never limited.
        other = bearer(token_for(client, "anna", client_id="budget-app"))
        assert client.get(f"{API}/accounts", headers=other).status_code == 200
        assert client.get("/health").status_code == 200


def test_metrics_per_operation(client: TestClient) -> None:
    h = bearer(token_for(client))
    client.get(f"{API}/accounts", headers=h)
    client.get(f"{API}/accounts/{ANNA_CURRENT}", headers=h)
    client.get(f"{API}/accounts/not-a-uuid", headers=h)
    text = client.get("/metrics").text
    assert (
        'http_server_request_duration_seconds_count{http_request_method="GET",http_response_status_code="200",'
        'http_route="/accounts",operation_id="listAccounts"} 1.0'
    ) in text
    assert 'http_route="/accounts/{account_id}",operation_id="getAccount"' in text
    assert (
        'futurebank_http_errors_total{http_response_status_code="400",operation_id="getAccount"} 1.0' in text
    )
    assert "_created" not in text


def test_health_and_ready(client: TestClient) -> None:
    health = client.get("/health")
    assert (health.status_code, health.json()) == (200, {"status": "pass"})
    assert health.headers["content-type"] == "application/health+json"
    ready = client.get("/ready").json()
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert ready["status"] == "pass" and ready["checks"]["database"][0]["observedValue"] == head


def test_json_access_log_carries_the_correlation_id(
    make_container: Callable[..., Container], caplog: pytest.LogCaptureFixture
) -> None:
    container = make_container(access_log=True)
    with (
        TestClient(create_app(container)) as client,
        caplog.at_level(logging.INFO, "futurebank.sandbox.access"),
    ):
        cid = "3f1c1f0e-7a55-4d5b-9a53-0c8a7c1e2b10"
        client.get(f"{API}/accounts", headers=bearer(token_for(client), **{"X-Correlation-ID": cid}))
    records = [
        r
        for r in caplog.records
        if r.name == "futurebank.sandbox.access" and r.__dict__.get("path") == f"{API}/accounts"
    ]
    line = json.loads(JsonFormatter().format(records[-1]))
    assert line["correlation_id"] == cid
    assert (line["operation"], line["status"], line["method"]) == ("listAccounts", 200, "GET")
    assert line["duration_ms"] > 0


def test_unexpected_errors_are_500_problems_without_details(
    client: TestClient,
    container: Container,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from futurebank.sandbox.domain.queries import ListCards

    def broken(*args: object) -> object:
        raise RuntimeError("secret internals")

    monkeypatch.setitem(container.bus.handlers, ListCards, broken)
    r = client.get(f"{API}/cards", headers=bearer(token_for(client)))
    assert (r.status_code, r.json()["code"]) == (500, "INTERNAL_ERROR")
    assert "secret internals" not in r.text and "Traceback" not in r.text
    assert r.json()["correlation_id"] == r.headers["x-correlation-id"]


def test_migrations_match_the_model(container: Container) -> None:
    upgrade(container.db.engine)  # a second upgrade is a no-op
    with container.db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": False})
        diff = compare_metadata(context, orm.metadata)
    assert diff == [], diff


def test_cli_reset_restores_the_demo_data(client: TestClient, container: Container, tmp_path: Path) -> None:
    h = bearer(token_for(client))
    client.patch(
        f"{API}/cards/40000000-0000-4000-8000-000000000001/controls", json={"locked": True}, headers=h
    )
    env = {
        **os.environ,
        "DATABASE_URL": container.settings.database_url,
        "SANDBOX_DATA_DIR": str(tmp_path / "cli"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "futurebank.sandbox", "reset", "--no-history"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.split(":", 1)[1]) == {
        "customers": 2,
        "accounts": 10,
        "entries": 9,
        "cards": 3,
        "consents": 5,
        "payments": 1,
    }
    card = client.get(f"{API}/cards/40000000-0000-4000-8000-000000000001", headers=h).json()
    assert card["controls"]["locked"] is False


def test_missing_postgres_binaries_fail_with_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No silent skip: without the server binaries the PostgreSQL runs fail and say what to install."""
    import sandbox_helpers

    from futurebank import throwaway_postgres

    monkeypatch.setattr(throwaway_postgres, "PG_BIN", tmp_path / "no-postgres")
    with pytest.raises(pytest.fail.Exception, match="apt-get install postgresql"):
        sandbox_helpers.start_throwaway_pg(tmp_path / "pg")
