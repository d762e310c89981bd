"""The A/B analysis of docs/delivery/ab-testing.md: ``futurebank ab analyse FILE``.

Input: JSON lines. Exposure lines are the sandbox's log lines (``"msg": "experiment_exposure"`` with
``experiment``, ``variant``, ``customer_id``); outcome lines (``"msg": "primary_metric"`` with
``experiment``, ``customer_id`` and ``value`` 0 or 1) come from the analytics store. Other lines are
ignored, so a whole sandbox log can be given. Intention to treat: each customer counts once, in the
variant of their first exposure, converted when an outcome line says 1.

Output, after the protocol: the sample-ratio-mismatch test (chi-square, stop below p = 0.001), the
sample-size check (the A/B page's formula with ``ab_example`` of docs/nfr/load-model.yaml), the
difference treatment − control with a two-sided confidence interval at 1 − α (unpooled normal
approximation), and the two-sided z test of two proportions (pooled) at α.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml
from scipy import stats

from futurebank.spec.pages.load_model import sample_size_per_group

LOAD_MODEL = Path("docs") / "nfr" / "load-model.yaml"
SRM_ALPHA = 0.001  # step 7 of the protocol
EXPOSURE, OUTCOME = "experiment_exposure", "primary_metric"


class AbInputError(ValueError):
    """The input cannot be analysed (the message names the line)."""


@dataclass(frozen=True)
class Plan:
    baseline: float
    minimum_detectable_effect: float
    alpha: float
    power: float

    @property
    def required_per_group(self) -> int:
        return sample_size_per_group(self.baseline, self.minimum_detectable_effect, self.alpha, self.power)


def load_plan(root: Path) -> Plan:
    ab = yaml.safe_load((root / LOAD_MODEL).read_text(encoding="utf-8"))["ab_example"]
    return Plan(
        float(ab["baseline"]), float(ab["minimum_detectable_effect"]), float(ab["alpha"]), float(ab["power"])
    )


@dataclass(frozen=True)
class Result:
    experiment: str
    control: str
    treatment: str
    n_control: int
    n_treatment: int
    converted_control: int
    converted_treatment: int
    rate_control: float
    rate_treatment: float
    difference: float  # treatment - control, absolute
    ci_low: float
    ci_high: float
    confidence: float
    p_value: float
    srm_p_value: float
    required_per_group: int
    verdict: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def analyse_counts(
    n_control: int,
    converted_control: int,
    n_treatment: int,
    converted_treatment: int,
    plan: Plan,
    *,
    experiment: str = "",
    names: tuple[str, str] = ("control", "treatment"),
    expected_share_treatment: float = 0.5,
) -> Result:
    if min(n_control, n_treatment) < 1:
        raise AbInputError("each variant needs at least one exposed customer")
    p1, p2 = converted_control / n_control, converted_treatment / n_treatment
    diff = p2 - p1
    z_ci = stats.norm.ppf(1 - plan.alpha / 2)
    se = math.sqrt(p1 * (1 - p1) / n_control + p2 * (1 - p2) / n_treatment)
    pooled = (converted_control + converted_treatment) / (n_control + n_treatment)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_control + 1 / n_treatment))
    p_value = 1.0 if se0 == 0 else float(2 * stats.norm.sf(abs(diff) / se0))
    total = n_control + n_treatment
    srm = stats.chisquare(
        [n_control, n_treatment],
        [total * (1 - expected_share_treatment), total * expected_share_treatment],
    )
    srm_p = float(srm.pvalue)
    required = plan.required_per_group
    if srm_p < SRM_ALPHA:
        verdict = "sample ratio mismatch: the split is broken; do not read the result, investigate"
    elif min(n_control, n_treatment) < required:
        verdict = (
            f"under-powered: {min(n_control, n_treatment):,} in the smaller group, {required:,} needed; "
            "not a result, keep running to the planned size"
        )
    elif p_value < plan.alpha:
        direction = "increases" if diff > 0 else "decreases"
        verdict = (
            f"effect: the treatment {direction} the primary metric (p = {p_value:.3g} < α = {plan.alpha:g})"
        )
    else:
        verdict = f"no effect detected (p = {p_value:.3g} ≥ α = {plan.alpha:g})"
    return Result(
        experiment,
        names[0],
        names[1],
        n_control,
        n_treatment,
        converted_control,
        converted_treatment,
        p1,
        p2,
        diff,
        diff - z_ci * se,
        diff + z_ci * se,
        1 - plan.alpha,
        p_value,
        srm_p,
        required,
        verdict,
    )


def read_lines(
    lines: Iterable[str], experiment: str | None = None
) -> tuple[str, dict[str, tuple[str, bool]]]:
    """The experiment (the first one exposed unless named) and, for each of its customers, the
    variant of the first exposure and whether they converted."""
    assigned: dict[str, dict[str, str]] = {}  # experiment -> customer -> variant
    converted: dict[str, set[str]] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # a log can hold non-JSON lines (uvicorn's banner): not ours
        if not isinstance(record, dict) or record.get("msg") not in (EXPOSURE, OUTCOME):
            continue
        name, customer = record.get("experiment"), record.get("customer_id")
        if not isinstance(name, str) or not isinstance(customer, str):
            raise AbInputError(f"line {number}: {record.get('msg')} without experiment or customer_id")
        if record["msg"] == EXPOSURE:
            variant = record.get("variant")
            if not isinstance(variant, str):
                raise AbInputError(f"line {number}: exposure without variant")
            first = assigned.setdefault(name, {}).setdefault(customer, variant)
            if first != variant:
                raise AbInputError(
                    f"line {number}: customer {customer} exposed to {variant!r} after {first!r}: "
                    "the assignment is not sticky"
                )
        elif record.get("value") in (1, True):
            converted.setdefault(name, set()).add(customer)
        elif record.get("value") not in (0, False):
            raise AbInputError(f"line {number}: primary_metric value must be 0 or 1")
    if experiment is None:
        experiment = next(iter(assigned), None)
    if experiment is None or experiment not in assigned:
        wanted = experiment or "any experiment"
        raise AbInputError(f"no exposure of {wanted} (experiments exposed: {sorted(assigned)})")
    done = converted.get(experiment, set())
    return experiment, {c: (v, c in done) for c, v in assigned[experiment].items()}


def analyse_file(path: Path, plan: Plan, experiment: str | None = None) -> Result:
    with path.open(encoding="utf-8") as fh:
        name, units = read_lines(fh, experiment)
    variants = sorted({v for v, _ in units.values()})
    if len(variants) != 2 or "control" not in variants:
        raise AbInputError(f"expected two variants, one named control; found {variants}")
    treatment = next(v for v in variants if v != "control")
    n = {v: sum(1 for var, _ in units.values() if var == v) for v in variants}
    k = {v: sum(1 for var, conv in units.values() if var == v and conv) for v in variants}
    return analyse_counts(
        n["control"],
        k["control"],
        n[treatment],
        k[treatment],
        plan,
        experiment=name,
        names=("control", treatment),
    )


def report(result: Result) -> str:
    pp = 100
    return "\n".join(
        [
            f"experiment {result.experiment}: {result.control} vs {result.treatment}",
            f"  {result.control}: {result.converted_control:,} of {result.n_control:,} "
            f"({result.rate_control * pp:.2f} %)",
            f"  {result.treatment}: {result.converted_treatment:,} of {result.n_treatment:,} "
            f"({result.rate_treatment * pp:.2f} %)",
            f"  difference {result.treatment} − {result.control}: {result.difference * pp:+.2f} pp, "
            f"{result.confidence * 100:g} % CI [{result.ci_low * pp:+.2f}, {result.ci_high * pp:+.2f}] pp",
            f"  two-sided z test p = {result.p_value:.4g}; sample ratio test p = {result.srm_p_value:.4g}",
            f"  sample size: {result.required_per_group:,} per group needed",
            f"  verdict: {result.verdict}",
        ]
    )
