"""The rollout gates: the criteria file's shape (R-82), the stage texts stating it (R-83), and the
decision from live values (go, hold, rollback), with a metric source standing in for Prometheus."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from futurebank.spec.gates import (
    PAGE,
    evaluate,
    histogram_quantile,
    load_gates,
    parse_gates,
    stage_text_findings,
)
from futurebank.spec.rules import SpecFileError
from futurebank.spec.slo import Slo, load_slos
from futurebank.spec.yaml_lines import load_with_lines

REPO = Path(__file__).resolve().parents[3]
GOOD = """\
stages:
  RS-0001:
    go: {max_5xx_percent: 0.1, p99_factor: 2}
    rollback: {above_5xx_percent: 1, over: 15m}
  RS-0002:
    go: {max_5xx_percent: 0.05, p99_factor: 1}
    rollback: {above_5xx_percent: 0.5, over: 15m, p99_factor: 2, p99_over: 30m, fast_burn_page: true}
  RS-0003:
    go_as_for: RS-0002
    rollback_as_for: RS-0002
  RS-0006:
    rollback_as_for: RS-0002
"""


def parse(text: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "rollout-gates.yaml"
    path.write_text(text, encoding="utf-8")
    return parse_gates(load_with_lines(path), path)


def test_the_spec_file_parses_and_every_stage_text_states_it() -> None:
    gates = load_gates(REPO)
    assert list(gates) == ["RS-0001", "RS-0002", "RS-0003", "RS-0004", "RS-0005", "RS-0006"]
    assert gates["RS-0005"].go == gates["RS-0002"].go  # RS-0005 -> RS-0004 -> RS-0003 -> RS-0002
    assert gates["RS-0006"].go is None
    page = REPO / PAGE
    assert stage_text_findings(gates, page.read_text(encoding="utf-8"), page) == []


@pytest.mark.parametrize(
    ("old", "new", "line", "words"),
    [
        ("max_5xx_percent: 0.1", "max_5xx_percent: -1", 3, "positive number"),
        ("over: 15m}\n  RS-0002", "over: 15 minutes}\n  RS-0002", 3, "window such as"),
        ("    go_as_for: RS-0002\n", "    go_as_for: RS-0009\n", 9, "which the file lacks"),
        ("  RS-0006:\n    rollback_as_for: RS-0002\n", "  RS-0006: {}\n", 11, "no rollback criteria"),
        ("p99_factor: 2, p99_over: 30m", "p99_factor: 2", 6, "go together"),
        ("  RS-0001:", "  stage-1:", 3, "not a stage id"),
    ],
)
# The line is the first line of the stage's mapping (where the loader places it).
def test_a_malformed_file_names_its_line_and_rule(
    tmp_path: Path, old: str, new: str, line: int, words: str
) -> None:
    assert old in GOOD
    with pytest.raises(SpecFileError) as refused:
        parse(GOOD.replace(old, new), tmp_path)
    assert refused.value.finding.rule == "R-82-gates-data-valid"
    assert refused.value.finding.line == line
    assert words in refused.value.finding.detail


def test_a_stage_text_that_drifts_from_the_data_is_named(tmp_path: Path) -> None:
    gates = load_gates(REPO)
    page = REPO / PAGE
    text = page.read_text(encoding="utf-8")
    drifted = text.replace("5xx rate > 0.5 % over 15 minutes", "5xx rate > 0.7 % over 15 minutes")
    findings = stage_text_findings(gates, drifted, page)
    assert [(f.rule, f.item) for f in findings] == [("R-83-gates-agree-with-stages", "RS-0002")]
    assert "'5xx rate > 0.5 % over 15 minutes'" in findings[0].detail


@dataclass
class Source:
    """Live values by SLO id; missing means no requests in the window."""

    ratios: dict[str, float] = field(default_factory=dict)
    p99: dict[str, float] = field(default_factory=dict)
    page_firing: bool | None = False
    description: str = "a stand-in"

    def error_ratio(self, slo: Slo, window: str) -> float | None:
        return self.ratios.get(slo.id)

    def p99_seconds(self, slo: Slo, window: str) -> float | None:
        return self.p99.get(slo.id)

    def page_alert_firing(self) -> bool | None:
        return self.page_firing


def test_the_decision() -> None:
    gates, slos = load_gates(REPO), load_slos(REPO)
    healthy = Source({"reads": 0.0001, "payments": 0.0}, {"reads": 0.2, "payments": 0.5})
    assert evaluate(gates["RS-0002"], slos, healthy, "14d").decision == "go"
    # 0.08 % of reads failing: over RS-0002's go threshold (0.05 %), under its rollback one (0.5 %)
    assert evaluate(gates["RS-0002"], slos, Source({"reads": 0.0008}), "14d").decision == "hold"
    # ... but within RS-0001's go threshold (0.1 %)
    assert evaluate(gates["RS-0001"], slos, Source({"reads": 0.0008}), "14d").decision == "go"
    failing = evaluate(gates["RS-0002"], slos, Source({"payments": 0.02}), "14d")
    assert failing.decision == "rollback" and "5xx share of payments 2.000 %" in failing.reason
    slow = evaluate(gates["RS-0003"], slos, Source({"reads": 0.0}, {"reads": 1.7}), "14d")
    assert slow.decision == "rollback"  # p99 1.7 s > 2 x 800 ms
    paged = evaluate(gates["RS-0002"], slos, Source({"reads": 0.0}, page_firing=True), "14d")
    assert paged.decision == "rollback"
    assert evaluate(gates["RS-0002"], slos, Source(), "14d").decision == "hold"  # no traffic
    assert evaluate(gates["RS-0006"], slos, healthy, "14d").decision == "hold"  # no next stage


def test_the_quantile_interpolates_inside_a_bucket_as_prometheus_does() -> None:
    buckets = [(0.1, 50.0), (0.5, 90.0), (1.0, 100.0), (float("inf"), 100.0)]
    assert histogram_quantile(0.5, buckets) == pytest.approx(0.1)
    assert histogram_quantile(0.7, buckets) == pytest.approx(0.3)
    assert histogram_quantile(0.99, buckets) == pytest.approx(0.95)
    assert histogram_quantile(0.99, [(0.1, 0.0), (float("inf"), 0.0)]) is None
