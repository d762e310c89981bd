"""The rollout gate through the HTTP app (ADR-0019, change C-20): a customer outside the current stage
gets 403 FEATURE_NOT_AVAILABLE on every operation of a gated feature, as the contract documents; a
promotion changes who is inside without a restart. Anna's rollout bucket is 7229 and Boris's 2372
(pinned in tests/unit/sandbox/test_rollout_flags.py): at RS-0004 (25 %) Boris is inside, Anna is not."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sandbox_contract import contract, operations, resolve
from sandbox_helpers import ANNA, ANNA_CURRENT, bearer, token_for
from starlette.testclient import TestClient

from futurebank.sandbox.__main__ import main as sandbox_main
from futurebank.sandbox.entrypoints.app import create_app
from futurebank.sandbox.entrypoints.deps import Container

REPO = Path(__file__).resolve().parents[3]
FLAGS = yaml.safe_load((REPO / "docs" / "delivery" / "feature-flags.yaml").read_text(encoding="utf-8"))
GATED = {op: flag["key"] for flag in FLAGS["flags"] for op in flag["operations"]}
IDS = {"account_id": ANNA_CURRENT, "conversation_id": "d4c3b2a1-f0e9-4d8c-b7a6-958473625140"}
PROBLEM_FIELDS = {"type", "title", "status", "detail", "instance", "code", "correlation_id"}


def app_at(make_container: Callable[..., Container], stage: str, **settings: Any) -> TestClient:
    return TestClient(
        create_app(make_container(rollout_stage=stage, flags_poll_ms=50, **settings)),
        raise_server_exceptions=False,
    )


def call(client: TestClient, op: Any, token: str) -> Any:
    path = op.path
    for name, value in IDS.items():
        path = path.replace("{" + name + "}", value)
    body = op.example_body()
    kwargs: dict[str, Any] = {"headers": bearer(token)}
    if body is not None:
        kwargs["json"] = body
    return client.request(op.method, "/api/v1" + path, **kwargs)


def start(client: TestClient, token: str) -> Any:
    return client.post(
        "/api/v1/assistant/conversations",
        json={"channel": "mobile", "locale": "ru-RU"},
        headers=bearer(token),
    )


def test_every_gated_operation_answers_the_documented_problem(
    make_container: Callable[..., Container],
) -> None:
    gated = [op for op in operations() if op.operation_id in GATED]
    assert {op.operation_id for op in gated} == set(GATED)  # every gated operation is in the contract
    problem_codes = set(contract()["components"]["schemas"]["Problem"]["properties"]["code"]["enum"])
    with app_at(make_container, "RS-0003") as client:  # 10 %: neither Anna nor Boris
        token = token_for(client, "anna")
        for op in gated:
            r = call(client, op, token)
            assert r.status_code == 403, (op.operation_id, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
            problem = r.json()
            assert problem["code"] == "FEATURE_NOT_AVAILABLE" and problem["code"] in problem_codes
            assert set(problem) >= PROBLEM_FIELDS and problem["status"] == 403
            assert problem["type"] == "https://futurebank.example/problems/feature-not-available"
            documented = resolve(op.spec["responses"]["403"])["content"]["application/problem+json"][
                "examples"
            ]
            assert "FEATURE_NOT_AVAILABLE" in documented, op.operation_id
        # Operations of no gated feature are untouched.
        assert client.get("/api/v1/customers/me", headers=bearer(token)).status_code == 200
        assert client.get("/api/v1/accounts", headers=bearer(token)).status_code == 200


def test_the_gate_comes_after_authentication_and_before_the_body(
    make_container: Callable[..., Container],
) -> None:
    with app_at(make_container, "RS-0003") as client:
        assert start(client, "not-a-token").status_code == 401
        token = token_for(client, "anna", scopes="accounts:read")
        assert start(client, token).json()["code"] == "INSUFFICIENT_SCOPE"
        token = token_for(client, "anna")
        r = client.post("/api/v1/assistant/conversations", content=b"{not json", headers=bearer(token))
        assert (r.status_code, r.json()["code"]) == (403, "FEATURE_NOT_AVAILABLE")


def test_inside_and_outside_one_stage(make_container: Callable[..., Container]) -> None:
    with app_at(make_container, "RS-0004") as client:  # 25 %
        assert start(client, token_for(client, "boris")).status_code == 201
        r = start(client, token_for(client, "anna"))
        assert (r.status_code, r.json()["code"]) == (403, "FEATURE_NOT_AVAILABLE")


def test_a_client_apps_own_token_is_inside_only_at_100_percent(
    make_container: Callable[..., Container],
) -> None:
    for stage, status in (("RS-0005", 403), ("RS-0006", 200)):
        with app_at(make_container, stage) as client:
            token = token_for(client, None, scopes="sustainability:read")
            r = client.get("/api/v1/green-products", headers=bearer(token))
            assert r.status_code == status, (stage, r.text)


def test_the_staff_stage_lets_only_staff_in(make_container: Callable[..., Container]) -> None:
    with app_at(make_container, "RS-0001", staff_customers=frozenset({ANNA})) as client:
        assert start(client, token_for(client, "anna")).status_code == 201
        assert start(client, token_for(client, "boris")).json()["code"] == "FEATURE_NOT_AVAILABLE"


def test_a_promotion_takes_effect_without_a_restart(
    make_container: Callable[..., Container], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app_at(make_container, "RS-0004") as client:
        token = token_for(client, "anna")
        assert start(client, token).status_code == 403
        monkeypatch.setenv("SANDBOX_DATA_DIR", str(tmp_path / "data"))  # the container's data dir
        assert sandbox_main(["flags", "promote", "RS-0006"]) == 0
        deadline = time.monotonic() + 10
        status = 403
        while status == 403 and time.monotonic() < deadline:
            time.sleep(0.05)
            status = start(client, token).status_code
        assert status == 201
        assert sandbox_main(["flags", "promote", "RS-0003"]) == 0  # and back: a rollback is a promotion
        deadline = time.monotonic() + 10
        while status == 201 and time.monotonic() < deadline:
            time.sleep(0.05)
            status = start(client, token).status_code
        assert status == 403


def test_an_unknown_stage_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SANDBOX_DATA_DIR", str(tmp_path))
    assert sandbox_main(["flags", "promote", "RS-0042"]) == 2
    assert not (tmp_path / "flags.flagd.json").exists()
