"""The monitoring generated from docs/nfr/slos.yaml, checked by Prometheus's own tool.

``promtool check rules`` validates the generated rules and every dashboard query; ``promtool test rules``
runs the alert unit tests in ``promtool/slo-alerts.test.yml`` against them. The metric names the
dashboard and the rules read are the ones the sandbox exports. A broken SLO file or an NFR text that
drifts from it fails the real spec's build with file, item and rule.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from futurebank.cli import main as futurebank
from futurebank.sandbox.entrypoints.observability import Metrics
from helpers.sphinx_build import sphinx_build

REPO = Path(__file__).resolve().parents[3]
ALERT_TESTS = Path(__file__).parent / "promtool" / "slo-alerts.test.yml"


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        pytest.fail(
            "promtool not found: install Debian's prometheus package (`scripts/bootstrap.sh prometheus`)",
            pytrace=False,
        )
    return found


@pytest.fixture
def generated(tmp_path: Path) -> Path:
    out = tmp_path / "ops"
    assert futurebank(["ops", "generate", "--root", str(REPO), "--out", str(out)]) == 0
    return out


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_generated_rules_pass_promtool_check(generated: Path) -> None:
    done = run(promtool(), "check", "rules", "slo-rules.yml", cwd=generated)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"SUCCESS: \d+ rules found", done.stdout)


def test_alert_unit_tests_pass_against_the_generated_rules(generated: Path) -> None:
    shutil.copy(ALERT_TESTS, generated / ALERT_TESTS.name)
    done = run(promtool(), "test", "rules", ALERT_TESTS.name, cwd=generated)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_alert_tests_can_fail(generated: Path) -> None:
    """A rule that no longer pages on a 2 % payment failure rate is caught by the unit tests."""
    rules = generated / "slo-rules.yml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("(14.4 * 0.0005)", "(100 * 0.0005)"))
    shutil.copy(ALERT_TESTS, generated / ALERT_TESTS.name)
    done = run(promtool(), "test", "rules", ALERT_TESTS.name, cwd=generated)
    assert done.returncode != 0
    assert "SloBurnRatePaymentsPage1h" in done.stdout + done.stderr


def test_every_dashboard_query_is_valid_promql(generated: Path) -> None:
    dashboard = json.loads((generated / "grafana-dashboard.json").read_text(encoding="utf-8"))
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(exprs) == len(dashboard["panels"]) >= 5
    wrapped = {
        "groups": [
            {
                "name": "dashboard-queries",
                "rules": [{"record": f"dashboard:query{i}", "expr": e} for i, e in enumerate(exprs)],
            }
        ]
    }
    (generated / "queries.yml").write_text(yaml.safe_dump(wrapped), encoding="utf-8")
    done = run(promtool(), "check", "rules", "queries.yml", cwd=generated)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_queries_read_metrics_the_sandbox_exports(generated: Path) -> None:
    metrics = Metrics()
    metrics.observe("createPayment", "/api/v1/payments", "POST", 201, 0.01)
    exported = metrics.render().decode()
    rules = (generated / "slo-rules.yml").read_text(encoding="utf-8")
    dashboard = (generated / "grafana-dashboard.json").read_text(encoding="utf-8")
    read = set(re.findall(r"\b(futurebank_[a-z_]+|http_server_[a-z_]+)\b", rules + dashboard))
    assert read == {"futurebank_http_requests_total", "http_server_request_duration_seconds_bucket"}
    for name in read:
        assert re.search(rf"^{name}\{{", exported, re.MULTILINE), f"{name} is not exported by the sandbox"
    for label in ("operation_id", "http_response_status_code"):
        assert f'{label}="' in exported


def test_drift_and_a_gap_fail_the_real_build(tmp_path: Path) -> None:
    src = tmp_path / "docs"
    shutil.copytree(REPO / "docs", src, ignore=shutil.ignore_patterns("_build"))
    slos = src / "nfr" / "slos.yaml"
    slos.write_text(
        slos.read_text(encoding="utf-8").replace(
            "operations: [getCarbonFootprint, listGreenProducts]", "operations: [getCarbonFootprint]"
        ),
        encoding="utf-8",
    )
    page = src / "nfr" / "reliability.md"
    page.write_text(
        page.read_text(encoding="utf-8").replace(
            "> 6 over both 6 h and 30 min", "> 5 over both 6 h and 30 min"
        ),
        encoding="utf-8",
    )
    result = sphinx_build(src, tmp_path / "out")
    assert result.returncode != 0
    assert re.search(
        r"docs/nfr/slos\.yaml:1: (WARNING|ERROR): listGreenProducts breaks R-76-slo-covers-operations",
        result.stderr,
    ), result.stderr
    assert re.search(
        r"docs/nfr/reliability\.md:1: (WARNING|ERROR): NFR-0008 breaks R-77-slo-agrees-with-nfr: "
        r".*> 6 over both",
        result.stderr,
    ), result.stderr
