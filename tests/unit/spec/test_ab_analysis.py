"""The A/B analysis on simulated traffic with fixed seeds: it finds a known effect, it does not claim
one where there is none, and over many seeds its error rates match the protocol's α and power
(docs/delivery/ab-testing.md; parameters from ab_example of docs/nfr/load-model.yaml)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

from futurebank.cli import main
from futurebank.spec.ab import AbInputError, analyse_counts, analyse_file, load_plan, read_lines

REPO = Path(__file__).resolve().parents[3]
PLAN = load_plan(REPO)
N = PLAN.required_per_group  # the planned size per group: 14,751 for the registered example
RUNS = 400


def simulate(seed: int, p_control: float, p_treatment: float, n: int = N) -> tuple[int, int, int, int]:
    rng = np.random.default_rng(seed)
    return n, int(rng.binomial(n, p_control)), n, int(rng.binomial(n, p_treatment))


def rate_ci(hits: int, runs: int) -> tuple[float, float]:
    ci = binomtest(hits, runs).proportion_ci(confidence_level=0.99)
    return ci.low, ci.high


def test_the_plan_is_the_registered_example() -> None:
    assert (PLAN.baseline, PLAN.minimum_detectable_effect, PLAN.alpha, PLAN.power) == (0.10, 0.01, 0.05, 0.8)
    assert N == 14_751  # the worked example of the A/B page


def test_a_known_effect_is_found() -> None:
    result = analyse_counts(*simulate(7, 0.10, 0.12), PLAN)
    assert result.verdict.startswith("effect: the treatment increases")
    assert result.ci_low > 0 and result.ci_low < 0.02 < result.ci_high


def test_no_effect_is_not_claimed() -> None:
    result = analyse_counts(*simulate(11, 0.10, 0.10), PLAN)
    assert result.verdict.startswith("no effect detected")
    assert result.ci_low < 0 < result.ci_high


def test_the_false_positive_rate_is_alpha() -> None:
    hits = sum(analyse_counts(*simulate(seed, 0.10, 0.10), PLAN).p_value < PLAN.alpha for seed in range(RUNS))
    low, high = rate_ci(hits, RUNS)
    assert low <= PLAN.alpha <= high, hits / RUNS


def test_the_power_at_the_minimum_detectable_effect_is_as_planned() -> None:
    effect = PLAN.baseline + PLAN.minimum_detectable_effect
    hits = sum(
        analyse_counts(*simulate(1000 + seed, PLAN.baseline, effect), PLAN).p_value < PLAN.alpha
        for seed in range(RUNS)
    )
    low, high = rate_ci(hits, RUNS)
    assert low <= PLAN.power <= high, hits / RUNS


def test_the_interval_covers_the_true_difference() -> None:
    covered = 0
    for seed in range(RUNS):
        r = analyse_counts(*simulate(5000 + seed, 0.10, 0.115), PLAN)
        covered += r.ci_low <= 0.015 <= r.ci_high
    low, high = rate_ci(covered, RUNS)
    assert low <= 1 - PLAN.alpha <= high, covered / RUNS


def test_too_small_a_sample_is_not_a_result() -> None:
    result = analyse_counts(*simulate(3, 0.10, 0.14, n=2000), PLAN)
    assert result.p_value < PLAN.alpha  # significant, yet the protocol refuses to read it
    assert result.verdict.startswith("under-powered")


def test_a_broken_split_is_flagged() -> None:
    result = analyse_counts(N, 1475, N + 1200, 1600, PLAN)
    assert result.verdict.startswith("sample ratio mismatch")


def write_log(path: Path, seed: int, p_control: float, p_treatment: float, n: int) -> None:
    """A sandbox-like log: exposure lines (some customers exposed twice), outcome lines, noise."""
    rng = random.Random(seed)
    lines = ["INFO:     Started server process", json.dumps({"msg": "request", "status": 200})]
    for i in range(2 * n):
        customer = f"c-{seed}-{i}"
        variant = "control" if i % 2 == 0 else "treatment"
        exposure = {"msg": "experiment_exposure", "experiment": "suggested-questions", "variant": variant}
        lines += [json.dumps({**exposure, "customer_id": customer})] * (1 + (i % 3 == 0))
        converted = rng.random() < (p_control if variant == "control" else p_treatment)
        outcome = {"msg": "primary_metric", "experiment": "suggested-questions", "customer_id": customer}
        lines.append(json.dumps({**outcome, "value": int(converted)}))
    rng.shuffle(lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_cli_reads_a_log_and_finds_the_effect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "effect.jsonl"
    write_log(log, 21, 0.10, 0.125, N)
    assert main(["ab", "analyse", str(log), "--root", str(REPO), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["experiment"] == "suggested-questions"
    assert (result["n_control"], result["n_treatment"]) == (N, N)
    assert result["verdict"].startswith("effect")
    assert main(["ab", "analyse", str(log), "--root", str(REPO)]) == 0
    assert "95 % CI" in capsys.readouterr().out


def test_the_cli_on_a_log_without_effect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "none.jsonl"
    write_log(log, 22, 0.10, 0.10, N)
    result = analyse_file(log, PLAN)
    assert result.verdict.startswith("no effect detected"), result


def test_a_customer_in_two_variants_is_an_error() -> None:
    lines = [
        json.dumps({"msg": "experiment_exposure", "experiment": "x", "variant": v, "customer_id": "c1"})
        for v in ("control", "treatment")
    ]
    with pytest.raises(AbInputError, match="not sticky"):
        read_lines(lines)
    with pytest.raises(AbInputError, match="no exposure"):
        read_lines([], "x")
