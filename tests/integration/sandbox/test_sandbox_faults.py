"""Faults injected by configuration (SANDBOX_FAULTS, change C-21), and the rollout gates deciding from
them: end to end through the live sandbox, a real Prometheus server scraping it with the rules
generated from the SLOs, and ``futurebank rollout evaluate``."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sandbox_helpers import bearer, free_port, run_live, token_for

from futurebank import prometheus_server
from futurebank.cli import main as futurebank
from futurebank.sandbox.config import Fault, Settings, parse_faults
from futurebank.sandbox.entrypoints.app import create_app
from futurebank.sandbox.entrypoints.deps import Container

REPO = Path(__file__).resolve().parents[3]
API = "/api/v1"
ANNA_CURRENT = "20000000-0000-4000-8000-000000000001"
ANNA_SAVINGS = "20000000-0000-4000-8000-000000000002"
TRANSFER = {
    "debtor_account_id": ANNA_CURRENT,
    "creditor_account_id": ANNA_SAVINGS,
    "amount": {"amount": "1.00", "currency": "RUB"},
}
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


def test_the_fault_setting_is_parsed_and_refused_in_words() -> None:
    assert parse_faults("createPayment:error=0.5,latency_ms=200; *:latency_ms=20") == {
        "createPayment": Fault(0.5, 200),
        "*": Fault(0.0, 20),
    }
    assert Settings.from_env({"SANDBOX_FAULTS": "getCard:error=1"}).faults == {"getCard": Fault(1.0, 0)}
    for bad, words in (
        ("createPayment", "operation:key=value"),
        ("createPayment:rate=0.5", "the keys are error and latency_ms"),
        ("createPayment:error=half", "error is a share"),
        ("createPayment:error=1.5", "error must be 0..1"),
    ):
        with pytest.raises(ValueError, match=words):
            parse_faults(bad)


@SQLITE_ONLY
def test_an_unknown_operation_is_refused_at_start(make_container: Callable[..., Container]) -> None:
    with pytest.raises(ValueError, match="names operations the contract lacks: createPaymnet"):
        make_container(faults={"createPaymnet": Fault(1.0, 0)})


@SQLITE_ONLY
def test_an_injected_failure_is_a_503_problem_and_changes_nothing(
    make_container: Callable[..., Container],
) -> None:
    container = make_container(faults={"createPayment": Fault(1.0, 0), "getCard": Fault(0.0, 150)})
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        token = token_for(client)
        before = client.get(f"{API}/payments", headers=bearer(token)).json()["data"]
        failed = client.post(
            f"{API}/payments", json=TRANSFER, headers=bearer(token, **{"Idempotency-Key": str(uuid.uuid4())})
        )
        assert failed.status_code == 503
        assert failed.headers["content-type"] == "application/problem+json"
        assert failed.headers["retry-after"] == "1"
        assert failed.json()["code"] == "SERVICE_UNAVAILABLE"
        assert "SANDBOX_FAULTS" in failed.json()["detail"]
        assert client.get(f"{API}/payments", headers=bearer(token)).json()["data"] == before
        # Latency only: slower, not failed. Other operations are untouched.
        started = time.perf_counter()
        slow = client.get(f"{API}/cards/40000000-0000-4000-8000-000000000001", headers=bearer(token))
        assert slow.status_code == 200 and time.perf_counter() - started >= 0.15
        assert client.get(f"{API}/accounts", headers=bearer(token)).status_code == 200


@contextlib.contextmanager
def prometheus_scraping(live_url: str, tmp_path: Path) -> Iterator[prometheus_server.PrometheusServer]:
    out = tmp_path / "ops"
    assert futurebank(["ops", "generate", "--root", str(REPO), "--out", str(out)]) == 0
    target = live_url.removeprefix("http://")
    try:
        server = prometheus_server.start(
            tmp_path / "prometheus", target, free_port(), rules=out / "slo-rules.yml", scrape_interval_s=0.5
        )
    except prometheus_server.PrometheusUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        wait_for(lambda: bool(server.query('up{job="futurebank-sandbox"} == 1')), "the first scrape")
        yield server
    finally:
        server.stop()


def evaluate_stage(
    stage: str, prometheus: str | None = None, metrics_url: str | None = None, window: str = "14d"
) -> int:
    """``futurebank rollout evaluate`` as an operator runs it; its exit code is the decision."""
    source = ["--prometheus", prometheus] if prometheus else ["--metrics-url", str(metrics_url)]
    return futurebank(
        ["rollout", "evaluate", "--stage", stage, *source, "--window", window, "--root", str(REPO)]
    )


def wait_for(check: Callable[[], bool], what: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def drive(base: str, payments: int, reads: int, rounds: int = 6) -> dict[int, int]:
    """Traffic spread over several scrapes: Prometheus sees a counter's increase only between two
    scrapes of it, so a burst that ends before the first scrape would read as no traffic at all."""
    statuses: dict[int, int] = {}
    with httpx.Client(base_url=base, timeout=10) as http:
        token = token_for(http)
        for round_no in range(rounds):
            for _ in range(payments // rounds):
                key = {"Idempotency-Key": str(uuid.uuid4())}
                r = http.post(f"{API}/payments", json=TRANSFER, headers=bearer(token, **key))
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            for _ in range(reads // rounds):
                r = http.get(f"{API}/accounts", headers=bearer(token))
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            if round_no < rounds - 1:
                time.sleep(0.6)  # longer than the scrape interval
    return statuses


def scraped(server: prometheus_server.PrometheusServer, operation: str, count: int) -> Callable[[], bool]:
    def check() -> bool:
        result = server.query(f'sum(futurebank_http_requests_total{{operation_id="{operation}"}})')
        return bool(result) and float(result[0]["value"][1]) >= count  # type: ignore[index]

    return check


@SQLITE_ONLY
def test_a_failing_stage_is_rolled_back_from_live_prometheus(
    make_container: Callable[..., Container], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    container = make_container(faults={"createPayment": Fault(0.5, 0)})
    with run_live(container) as live, prometheus_scraping(live.base_url, tmp_path) as prom:
        statuses = drive(live.base_url, payments=60, reads=20)
        assert statuses.get(503, 0) > 10 and statuses.get(201, 0) > 10, statuses
        wait_for(scraped(prom, "createPayment", 60), "Prometheus to scrape the payments")
        # The burn-rate rules generated from the SLOs page for the payments SLO.
        try:
            wait_for(
                lambda: bool(prom.query('ALERTS{alertname="SloBurnRatePaymentsPage1h",alertstate="firing"}')),
                "the payments page alert to fire",
            )
        except AssertionError:
            raise AssertionError(
                f"{prom.query('slo:request_errors:ratio_rate5m')} {prom.query('ALERTS')} "
                f"{prom.log.read_text()[-3000:]}"
            ) from None
        capsys.readouterr()
        code = evaluate_stage("RS-0002", prometheus=prom.url, window="5m")
    out = capsys.readouterr().out
    assert code == 4, out
    assert out.startswith("RS-0002: ROLLBACK (rollback threshold breached: 5xx share of payments")
    assert "page-severity burn-rate alert" in out and "firing" in out
    payments_line = next(line for line in out.splitlines() if "rollback" in line and " payments " in line)
    assert "> 0.5 %" in payments_line and "breached" in payments_line


@SQLITE_ONLY
def test_a_healthy_stage_gets_go_and_a_quiet_one_hold(
    make_container: Callable[..., Container], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    container = make_container()
    with run_live(container) as live, prometheus_scraping(live.base_url, tmp_path) as prom:
        quiet = evaluate_stage("RS-0003", prometheus=prom.url, window="5m")
        assert quiet == 3, capsys.readouterr().out
        statuses = drive(live.base_url, payments=18, reads=36)
        assert statuses == {201: 18, 200: 36}
        wait_for(scraped(prom, "listAccounts", 36), "Prometheus to scrape the reads")
        capsys.readouterr()
        code = evaluate_stage("RS-0003", prometheus=prom.url, window="5m")
        out = capsys.readouterr().out
        assert code == 0, out
        assert out.startswith("RS-0003: GO")
        # The same stage judged from one scrape of the sandbox's own /metrics.
        assert evaluate_stage("RS-0003", metrics_url=f"{live.base_url}/metrics") == 0


def test_an_unreachable_source_is_exit_1_in_words(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    code = evaluate_stage("RS-0002", prometheus=f"http://127.0.0.1:{port}")
    assert code == 1
    assert "cannot query Prometheus at" in capsys.readouterr().err
