"""Generators ``load-model``, ``load-model-nfr``, ``rollout-cohorts`` and ``ab-feasibility``.

All four read ``docs/nfr/load-model.yaml`` and compute their figures in the build, so the performance
NFRs, the rollout cohort sizes and the A/B durations rest on one customer base and one headroom factor.
A broken data file is reported with its file and line and the block renders nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import Any

from sphinx.application import Sphinx

from futurebank.spec.pages import Generator, load_data, md_escape, md_table
from futurebank.spec.rules import SpecFileError

DATA = Path("docs") / "nfr" / "load-model.yaml"
SECONDS_PER_HOUR = 3600


@dataclass(frozen=True)
class OperationClass:
    name: str
    operations: str
    per_active_day: float
    formula: str
    basis: str
    nfr: str


@dataclass(frozen=True)
class LoadModel:
    base_low: int
    base_high: int
    base_what: str
    base_why: str
    question: str
    headroom: float
    headroom_why: str
    inputs: dict[str, dict[str, Any]]
    classes: list[OperationClass]
    stages: list[dict[str, Any]]
    ab: dict[str, float]

    def value(self, name: str) -> float:
        return float(self.inputs[name]["value"])

    def peak(self, cls: OperationClass, base: int) -> float:
        """Busiest-minute calls per second for a base of customers."""
        daily = base * self.value("daily_active_share") * cls.per_active_day
        mean = daily * self.value("busiest_hour_share") / SECONDS_PER_HOUR
        return mean * self.value("peak_to_mean")

    def target(self, cls: OperationClass) -> int:
        """Sustained-throughput target: the headroom over the peak at the top of the base range."""
        return nice_ceil(self.peak(cls, self.base_high) * self.headroom)


def nice_ceil(value: float) -> int:
    """Round up to two significant figures, so targets read as targets, not as computed noise."""
    if value <= 0:
        return 0
    step = 10 ** max(math.floor(math.log10(value)) - 1, 0)
    return int(math.ceil(value / step) * step)


def fmt(value: float) -> str:
    if value >= 100 or value == int(value):
        return f"{round(value):,}"
    if value >= 1:
        return f"{value:,.1f}"
    return f"{value:.2g}"


def _number(raw: Any, path: Path, line: int, field: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
        raise SpecFileError(
            path, line, "R-60-load-model-valid", f"{field} must be a non-negative number, not {raw!r}"
        )
    return float(raw)


def parse_load_model(data: Any, path: Path) -> LoadModel:
    """Validate the data file's shape; every error names the file and line."""
    if not isinstance(data, dict):
        raise SpecFileError(path, 1, "R-60-load-model-valid", "the file must be a mapping")
    try:
        base, head, inputs = data["customer_base"], data["headroom"], data["inputs"]
        raw_classes, stages, ab = data["operation_classes"], data["rollout_stages"], data["ab_example"]
    except KeyError as exc:
        raise SpecFileError(path, 1, "R-60-load-model-valid", f"missing top-level key {exc}") from None
    line = getattr(base, "line", 1)
    low = _number(base.get("low"), path, line, "customer_base.low")
    high = _number(base.get("high"), path, line, "customer_base.high")
    if low > high:
        raise SpecFileError(
            path, line, "R-60-load-model-valid", "customer_base.low is above customer_base.high"
        )
    for name, item in inputs.items():
        _number(item.get("value"), path, getattr(item, "line", 1), f"inputs.{name}.value")
        if item.get("source") is None:
            raise SpecFileError(
                path, getattr(item, "line", 1), "R-60-load-model-valid", f"inputs.{name} has no source"
            )
    classes: list[OperationClass] = []
    for raw in raw_classes:
        cl_line = getattr(raw, "line", 1)
        per_day = raw.get("per_active_day")
        if isinstance(per_day, str):
            names = [n.strip() for n in per_day.split("×")]
            unknown = [n for n in names if n not in inputs]
            if unknown:
                raise SpecFileError(
                    path, cl_line, "R-60-load-model-valid", f"unknown input(s) {unknown} in {per_day!r}"
                )
            value = math.prod(float(inputs[n]["value"]) for n in names)
            basis = " × ".join(f"{fmt(float(inputs[n]['value']))} ({inputs[n]['unit']})" for n in names)
            formula = per_day
        else:
            value = _number(per_day, path, cl_line, f"{raw.get('name')}.per_active_day")
            if raw.get("source") is None:
                raise SpecFileError(
                    path, cl_line, "R-60-load-model-valid", f"class {raw.get('name')!r} has no source"
                )
            basis = f"{label(str(raw.get('source')))}: {raw.get('why', '')}".rstrip(": ")
            formula = fmt(value)
        classes.append(
            OperationClass(raw["name"], raw["operations"], value, formula, basis, str(raw.get("nfr", "")))
        )
    return LoadModel(
        base_low=int(low),
        base_high=int(high),
        base_what=str(base.get("what", "")),
        base_why=str(base.get("why", "")),
        question=str(base.get("question", "")),
        headroom=_number(head.get("value"), path, getattr(head, "line", 1), "headroom.value"),
        headroom_why=str(head.get("why", "")),
        inputs=dict(inputs),
        classes=classes,
        stages=list(stages),
        ab={k: float(v) for k, v in ab.items()},
    )


def load(app: Sphinx) -> LoadModel | None:
    return load_data(app, DATA, parse_load_model)


def label(source: str) -> str:
    return "*our assumption*" if source == "assumption" else md_escape(source)


def render_model(model: LoadModel) -> str:
    base = f"{model.base_low:,} to {model.base_high:,}"
    rows = [
        (
            "Customer base (eligible at 100 %)",
            base,
            f"*our assumption*, {{need}}`{model.question}`: {md_escape(model.base_why)}",
        )
    ]
    for item in model.inputs.values():
        why = f"{label(item['source'])}: {item['why']}"
        rows.append((md_escape(item["unit"]), fmt(float(item["value"])), why))
    why_headroom = f"*our assumption*: {model.headroom_why}"
    rows.append(("Headroom factor over the peak", fmt(model.headroom), why_headroom))
    for cls in model.classes:
        if cls.formula != fmt(cls.per_active_day) or "×" in cls.formula:
            continue
        rows.append((f"{cls.name} per active customer per day", fmt(cls.per_active_day), cls.basis))
    inputs = md_table(["Input", "Value", "Source"], rows)

    arithmetic: list[tuple[str, ...]] = []
    share = model.value("daily_active_share")
    hour = model.value("busiest_hour_share")
    burst = model.value("peak_to_mean")
    for cls in model.classes:
        for base_n in (model.base_low, model.base_high):
            daily = base_n * share * cls.per_active_day
            mean = daily * hour / SECONDS_PER_HOUR
            arithmetic.append(
                (
                    cls.name,
                    f"{base_n:,}",
                    f"{base_n:,} × {fmt(share)} × {fmt(cls.per_active_day)} = {fmt(daily)}",
                    f"{fmt(daily)} × {fmt(hour)} / 3,600 = {fmt(mean)}",
                    f"× {fmt(burst)} = **{fmt(mean * burst)}**",
                )
            )
    table = md_table(
        ["Class", "Base", "Calls a day", "Busiest-hour mean (per s)", "Peak (per s)"], arithmetic
    )
    targets = md_table(
        ["Class", "Operations", "Peak at the top of the range (per s)", "Target (per s)", "Latency NFR"],
        [
            (
                cls.name,
                cls.operations,
                fmt(model.peak(cls, model.base_high)),
                f"**{model.target(cls):,}**",
                f"{{need}}`{cls.nfr}`",
            )
            for cls in model.classes
        ],
    )
    return (
        f"**Inputs** (from `{DATA}`; the build computes everything below from them):\n\n{inputs}\n"
        "**From customers to requests per second.** Calls a day = base × daily active share × calls per "
        "active customer per day; busiest-hour mean = calls a day × busiest-hour share / 3,600 s; peak = "
        "mean × peak-to-mean ratio.\n\n"
        f"{table}\n"
        f"**Targets.** Target = peak at the top of the range ({model.base_high:,} customers) × the headroom "
        f"factor {fmt(model.headroom)}, rounded up to two significant figures. The same factor is used "
        "for every class, for the load tests before each rollout stage and nowhere else.\n\n"
        f"{targets}"
    )


def render_nfr(model: LoadModel) -> str:
    targets = "; ".join(f"{cls.name} {model.target(cls):,}/s" for cls in model.classes)
    peaks = "; ".join(
        f"{cls.name} {fmt(model.peak(cls, model.base_low))} to {fmt(model.peak(cls, model.base_high))}/s"
        for cls in model.classes
    )
    h = fmt(model.headroom)
    return "\n".join(
        [
            f"```{{nfr}} The platform sustains {h} times the modelled peak without breaking its "
            "latency targets",
            ":id: NFR-0005",
            ":traces: MSG-0006, MSG-0027, MSG-0032",
            ":measures: SCOPE-0011",
            ":metric: Sustained throughput per operation class in a 60-minute load test at which NFR-0001 to "
            "NFR-0004 still hold and the error rate stays below 0.1 %",
            ":unit: requests per second per operation class",
            f":target: {targets}; all for 60 minutes with no latency target breached (headroom {h} × the "
            f"modelled peak at {model.base_high:,} customers)",
            f":baseline: Modelled peak (load model on this page, our assumption) {peaks} for "
            f"{model.base_low:,} to {model.base_high:,} customers; replaced by the measured peak of RS-0003 "
            "scaled to 100 %",
            ":method: Load test in the pre-production environment with production-shaped data before each "
            "rollout stage from RS-0002 on, at the stage's cohort share of these targets (never less "
            f"than the RS-0003 figure); before RS-0005 at {h} × the peak measured in RS-0003 scaled to "
            "100 %; the test script and its results are kept with the release",
            ":cites: SRC-0325",
            "",
            "**Why.** Staged rollout ({need}`RS-0001` … {need}`RS-0006`) means each stage sees at most the "
            "stage's share of traffic; the load test proves the next stage fits before it starts. The "
            "targets are computed from the load model above; changing the customer base or the headroom "
            "changes them.",
            "```",
            "",
        ]
    )


def span(low: int, high: int) -> str:
    return f"{low:,}" if low == high else f"{low:,} to {high:,}"


def render_cohorts(model: LoadModel) -> str:
    rows = []
    share = model.value("daily_active_share")
    reads = model.classes[0]
    for stage in model.stages:
        if "customers" in stage:
            low = high = int(stage["customers"])
            what = f"{stage.get('cohort', '')} ({low:,})"
        else:
            low, high = round(model.base_low * stage["share"]), round(model.base_high * stage["share"])
            what = f"{stage['share'] * 100:g} % of the base"
        rows.append(
            (
                f"{{need}}`{stage['stage']}`",
                what,
                span(low, high),
                span(round(low * share), round(high * share)),
                fmt(model.peak(reads, high)),
            )
        )
    return md_table(
        ["Stage", "Cohort", "Customers", "Active on a day", f"Peak {reads.name} at the top (per s)"], rows
    )


def sample_size_per_group(p1: float, delta: float, alpha: float, power: float) -> int:
    """Two-sided test of two proportions, normal approximation (the formula on the A/B page)."""
    p2 = p1 + delta
    pbar = (p1 + p2) / 2
    z_a = NormalDist().inv_cdf(1 - alpha / 2)
    z_b = NormalDist().inv_cdf(power)
    root = z_a * math.sqrt(2 * pbar * (1 - pbar)) + z_b * math.sqrt(p1 * (1 - p1) + p2 * (1 - p2))
    return math.ceil(root**2 / delta**2)


def render_ab(model: LoadModel) -> str:
    ab = model.ab
    n = sample_size_per_group(ab["baseline"], ab["minimum_detectable_effect"], ab["alpha"], ab["power"])
    active = model.value("active_in_14_days_share")
    window = int(ab["window_days"])
    rows = []
    for stage in model.stages:
        if "share" not in stage:
            continue
        low, high = model.base_low * stage["share"], model.base_high * stage["share"]
        exposed_low, exposed_high = round(low * active), round(high * active)
        if exposed_low >= 2 * n:
            verdict = f"yes: runs the {window}-day minimum"
        elif exposed_high >= 2 * n:
            verdict = "only at the top of the base range"
        else:
            verdict = "no: must not be run here"
        rows.append((f"{{need}}`{stage['stage']}`", f"{exposed_low:,} to {exposed_high:,}", verdict))
    return (
        f"Computed in the build from `{DATA}`: baseline {ab['baseline'] * 100:g} %, minimum detectable "
        "effect "
        f"{ab['minimum_detectable_effect'] * 100:g} percentage point, α = {ab['alpha']:g}, power "
        f"{ab['power']:g} give **{n:,} customers per group**, {2 * n:,} in total. Customers exposed in a "
        f"{window}-day window = cohort × {active * 100:g} % active in {window} days (*our assumption*):\n\n"
        + md_table(["Stage", f"Exposed in {window} days", f"Can the experiment reach {2 * n:,}?"], rows)
    )


def _render(app: Sphinx, render: Any) -> str:
    model = load(app)
    return "" if model is None else str(render(model))


def load_model_page(app: Sphinx) -> str:
    return _render(app, render_model)


def load_model_nfr(app: Sphinx) -> str:
    return _render(app, render_nfr)


def rollout_cohorts(app: Sphinx) -> str:
    return _render(app, render_cohorts)


def ab_feasibility(app: Sphinx) -> str:
    return _render(app, render_ab)


GENERATORS: dict[str, Generator] = {
    "load-model": load_model_page,
    "load-model-nfr": load_model_nfr,
    "rollout-cohorts": rollout_cohorts,
    "ab-feasibility": ab_feasibility,
}
