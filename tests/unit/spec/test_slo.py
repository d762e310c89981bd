"""The SLO data file: its shape, its coverage of the contract, its agreement with the NFR texts, and the
Prometheus rules and Grafana dashboard generated from it."""

from __future__ import annotations

from pathlib import Path

import pytest

from futurebank.spec.rules import SpecFileError
from futurebank.spec.slo import (
    coverage_findings,
    grafana_dashboard,
    load_slos,
    nfr_agreement_findings,
    parse_slos,
    prometheus_rules,
    window_words,
)
from futurebank.spec.yaml_lines import load_with_lines

REPO = Path(__file__).resolve().parents[3]
GOOD = """\
window_days: 30
bad_status: "5.."
requests_metric: futurebank_http_requests_total
latency_metric: http_server_request_duration_seconds
slos:
  - {id: reads, title: Reads, nfr: NFR-0007, objective_percent: 99.95, operations: [listAccounts]}
  - {id: payments, title: Payments, nfr: NFR-0007, objective_percent: 99.5, operations: [createPayment]}
burn_rate_alerts:
  - {severity: page, factor: 14.4, long: 1h, short: 5m}
  - {severity: ticket, factor: 1, long: 3d, short: 6h}
"""
PAGE = """\
:id: NFR-0007
:target: 99.95 % for reads; 99.5 % for payments
:id: NFR-0008
:target: Page when burn rate > 14.4 over both 1 h and 5 min; ticket when > 1 over both 3 days and 6 h.
"""


def parse(text: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "slos.yaml"
    path.write_text(text, encoding="utf-8")
    return parse_slos(load_with_lines(path), path)


def test_the_spec_file_parses_and_covers_the_contract() -> None:
    from futurebank.spec.contract.model import load_contract

    slo_set = load_slos(REPO)
    operations = {op.operation_id for op in load_contract(REPO / "docs").operations()}
    assert coverage_findings(slo_set, operations, Path("slos.yaml")) == []
    page = REPO / "docs" / "nfr" / "reliability.md"
    assert nfr_agreement_findings(slo_set, page.read_text(encoding="utf-8"), page) == []
    from futurebank.spec.slo import latency_findings

    performance = REPO / "docs" / "nfr" / "performance.md"
    assert latency_findings(slo_set, performance.read_text(encoding="utf-8"), performance) == []
    assert {s.id: s.p99_ms for s in slo_set.slos if s.p99_ms} == {
        "reads": 800,
        "payments": 2000,
        "card-controls": 1500,
        "assistant": 12000,
    }


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("objective_percent: 99.95", "objective_percent: 100", 6, "between 0 and 100"),
        ("long: 1h, short: 5m", "long: 5m, short: 1h", 9, "must be shorter"),
        ("long: 3d", "long: 3 days", 10, "window such as"),
        ("severity: ticket", "severity: email", 10, "page or ticket"),
        ("operations: [createPayment]", "operations: []", 7, "non-empty list"),
        ("id: payments", "id: reads", 7, "used twice"),
    ],
)
def test_a_malformed_file_names_its_line_and_rule(
    tmp_path: Path, old: str, new: str, line: int, words: str
) -> None:
    assert old in GOOD
    with pytest.raises(SpecFileError) as refused:
        parse(GOOD.replace(old, new), tmp_path)
    assert refused.value.finding.rule == "R-75-slo-data-valid"
    assert refused.value.finding.line == line
    assert words in refused.value.finding.detail


def test_coverage_names_the_uncovered_and_the_unknown_operation(tmp_path: Path) -> None:
    slo_set = parse(GOOD, tmp_path)
    findings = coverage_findings(slo_set, {"listAccounts", "getCard"}, Path("slos.yaml"))
    assert {(f.rule, f.item, f.detail) for f in findings} == {
        ("R-76-slo-covers-operations", "payments", "names createPayment, which the contract lacks"),
        ("R-76-slo-covers-operations", "getCard", "no SLO in slos.yaml covers this operation"),
    }


def test_an_operation_in_two_slos_is_refused(tmp_path: Path) -> None:
    slo_set = parse(GOOD.replace("operations: [createPayment]", "operations: [listAccounts]"), tmp_path)
    findings = coverage_findings(slo_set, {"listAccounts"}, Path("slos.yaml"))
    assert [f.detail for f in findings] == ["listAccounts is already in the SLO reads"]


def test_the_nfr_texts_must_state_objectives_and_windows(tmp_path: Path) -> None:
    slo_set = parse(GOOD, tmp_path)
    assert nfr_agreement_findings(slo_set, PAGE, Path("reliability.md")) == []
    drifted = PAGE.replace("99.5 % for payments", "99.9 % for payments").replace("3 days", "2 days")
    details = [f.detail for f in nfr_agreement_findings(slo_set, drifted, Path("reliability.md"))]
    assert details == [
        "the target does not state 99.5 % (SLO payments)",
        "the target does not state '> 1 over both 3 days and 6 h' (ticket)",
    ]


def test_window_words_match_the_nfr_style() -> None:
    assert [window_words(w) for w in ("5m", "1h", "6h", "1d", "3d")] == [
        "5 min",
        "1 h",
        "6 h",
        "1 day",
        "3 days",
    ]


def test_rules_pair_a_long_and_a_short_window_against_the_budget(tmp_path: Path) -> None:
    rules = prometheus_rules(parse(GOOD, tmp_path))
    alerts = {r["alert"]: r for r in rules["groups"][1]["rules"]}
    page = alerts["SloBurnRatePaymentsPage1h"]
    assert page["expr"] == (
        'slo:request_errors:ratio_rate1h{slo="payments"} > (14.4 * 0.005) and '
        'slo:request_errors:ratio_rate5m{slo="payments"} > (14.4 * 0.005)'
    )
    assert page["labels"] == {"severity": "page", "slo": "payments", "nfr": "NFR-0008"}
    records = {(r["record"], r["labels"]["slo"]) for r in rules["groups"][0]["rules"]}
    # every window an alert needs, and the 30-day window for the remaining budget
    for window in ("5m", "1h", "6h", "3d", "30d"):
        assert (f"slo:request_errors:ratio_rate{window}", "reads") in records


def test_the_dashboard_is_generated_from_the_same_file(tmp_path: Path) -> None:
    dashboard = grafana_dashboard(parse(GOOD, tmp_path))
    assert dashboard["uid"] == "futurebank-slo"
    titles = [p["title"] for p in dashboard["panels"]]
    assert titles == [
        "Requests per second by operation",
        "Server errors (5xx) per second by operation",
        "Latency p95 by operation",
        "Error-budget burn rate by SLO (1 = on budget)",
        "Error budget remaining over 30 days by SLO",
    ]
    assert dashboard["templating"]["list"][0]["type"] == "datasource"
    assert all(p["datasource"]["uid"] == "${datasource}" for p in dashboard["panels"])


def test_a_class_p99_must_be_the_one_its_nfr_states(tmp_path: Path) -> None:
    from futurebank.spec.slo import latency_findings, milliseconds_words

    assert [milliseconds_words(ms) for ms in (800, 2000, 12000, 1500)] == [
        "800 ms",
        "2,000 ms",
        "12 s",
        "1,500 ms",
    ]
    text = GOOD.replace(
        "operations: [createPayment]", "operations: [createPayment], latency_nfr: NFR-0002, p99_ms: 2000"
    )
    slo_set = parse(text, tmp_path)
    page = ":id: NFR-0002\n:target: p95 ≤ 800 ms and p99 ≤ 2,000 ms for transfers\n"
    assert latency_findings(slo_set, page, Path("performance.md")) == []
    drifted = latency_findings(slo_set, page.replace("2,000", "1,000"), Path("performance.md"))
    assert [(f.rule, f.item) for f in drifted] == [("R-77-slo-agrees-with-nfr", "NFR-0002")]
    with pytest.raises(SpecFileError, match="go together"):
        parse(GOOD.replace("operations: [createPayment]", "operations: [createPayment], p99_ms: 5"), tmp_path)
