"""Rollout gates that decide: each stage's automatic go and rollback criteria against live metrics.

``docs/delivery/rollout-gates.yaml`` holds the criteria (its own shape is R-82); the stage texts on the
rollout page must state them (R-83); the classes, what counts as a bad request and each class's p99
target come from ``docs/nfr/slos.yaml``. :func:`evaluate` compares them with a :class:`MetricSource`, a
Prometheus server's query API or one scrape of the sandbox's ``/metrics``, and answers go, hold or
rollback with every value it compared.
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from prometheus_client.parser import text_string_to_metric_families

from futurebank.spec.rules import Finding, SpecFileError
from futurebank.spec.slo import WINDOW, Slo, SloSet, window_seconds
from futurebank.spec.yaml_lines import load_with_lines

DATA = Path("docs") / "delivery" / "rollout-gates.yaml"
PAGE = Path("docs") / "delivery" / "rollout.md"
RULE_VALID = "R-82-gates-data-valid"
RULE_AGREES = "R-83-gates-agree-with-stages"
STAGE_ID = re.compile(r"^RS-\d{4}$")

Decision = Literal["go", "hold", "rollback"]


@dataclass(frozen=True)
class GoCriteria:
    max_5xx_percent: float
    p99_factor: float


@dataclass(frozen=True)
class RollbackCriteria:
    above_5xx_percent: float
    over: str
    p99_factor: float | None = None
    p99_over: str | None = None
    fast_burn_page: bool = False


@dataclass(frozen=True)
class StageGates:
    stage: str
    line: int
    go: GoCriteria | None
    rollback: RollbackCriteria
    go_as_for: str | None = None
    rollback_as_for: str | None = None


def _fail(path: Path, line: int, detail: str) -> SpecFileError:
    return SpecFileError(path, line, RULE_VALID, detail)


def _positive(raw: Any, path: Path, line: int, name: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw <= 0:
        raise _fail(path, line, f"{name} must be a positive number, not {raw!r}")
    return float(raw)


def _window(raw: Any, path: Path, line: int, name: str) -> str:
    if not isinstance(raw, str) or WINDOW.match(raw) is None:
        raise _fail(path, line, f"{name} must be a window such as 15m or 6h, not {raw!r}")
    return raw


def _go(raw: Any, path: Path, line: int) -> GoCriteria:
    if not isinstance(raw, dict) or set(raw) != {"max_5xx_percent", "p99_factor"}:
        raise _fail(path, line, "go must give exactly max_5xx_percent and p99_factor")
    return GoCriteria(
        _positive(raw["max_5xx_percent"], path, line, "go.max_5xx_percent"),
        _positive(raw["p99_factor"], path, line, "go.p99_factor"),
    )


def _rollback(raw: Any, path: Path, line: int) -> RollbackCriteria:
    known = {"above_5xx_percent", "over", "p99_factor", "p99_over", "fast_burn_page"}
    if not isinstance(raw, dict) or not {"above_5xx_percent", "over"} <= set(raw) <= known:
        raise _fail(path, line, f"rollback must give above_5xx_percent and over, and only {sorted(known)}")
    if ("p99_factor" in raw) != ("p99_over" in raw):
        raise _fail(path, line, "rollback.p99_factor and rollback.p99_over go together")
    page = raw.get("fast_burn_page", False)
    if not isinstance(page, bool):
        raise _fail(path, line, f"rollback.fast_burn_page must be true or false, not {page!r}")
    return RollbackCriteria(
        _positive(raw["above_5xx_percent"], path, line, "rollback.above_5xx_percent"),
        _window(raw["over"], path, line, "rollback.over"),
        None if "p99_factor" not in raw else _positive(raw["p99_factor"], path, line, "rollback.p99_factor"),
        None if "p99_over" not in raw else _window(raw["p99_over"], path, line, "rollback.p99_over"),
        page,
    )


def parse_gates(data: Any, path: Path) -> dict[str, StageGates]:
    """Stage id -> its criteria, with ``*_as_for`` resolved; every error names the file and line."""
    if not isinstance(data, dict) or not isinstance(data.get("stages"), dict) or not data["stages"]:
        raise _fail(path, 1, "the file must be a mapping with a non-empty mapping `stages`")
    raw_stages: dict[str, Any] = data["stages"]
    for stage, raw in raw_stages.items():
        line = getattr(raw, "line", 1)
        if not STAGE_ID.match(str(stage)):
            raise _fail(path, line, f"{stage!r} is not a stage id RS-NNNN")
        if not isinstance(raw, dict):
            raise _fail(path, line, f"{stage} must be a mapping")
        unknown = set(raw) - {"go", "rollback", "go_as_for", "rollback_as_for"}
        if unknown:
            raise _fail(path, line, f"{stage} has unknown key(s) {sorted(unknown)}")
        for kind in ("go", "rollback"):
            if kind in raw and f"{kind}_as_for" in raw:
                raise _fail(path, line, f"{stage} gives both {kind} and {kind}_as_for")
            other = raw.get(f"{kind}_as_for")
            if other is not None and other not in raw_stages:
                raise _fail(path, line, f"{stage}.{kind}_as_for names {other!r}, which the file lacks")
        if "rollback" not in raw and "rollback_as_for" not in raw:
            raise _fail(path, line, f"{stage} has no rollback criteria: every stage can be rolled back")

    def resolve(stage: str, kind: str, seen: tuple[str, ...] = ()) -> Any:
        raw = raw_stages[stage]
        if stage in seen:
            raise _fail(path, getattr(raw, "line", 1), f"{kind}_as_for loops: {' -> '.join((*seen, stage))}")
        if f"{kind}_as_for" in raw:
            return resolve(raw[f"{kind}_as_for"], kind, (*seen, stage))
        return raw.get(kind)

    stages: dict[str, StageGates] = {}
    for stage, raw in raw_stages.items():
        line = getattr(raw, "line", 1)
        go_raw = resolve(stage, "go")
        stages[stage] = StageGates(
            stage,
            line,
            None if go_raw is None else _go(go_raw, path, line),
            _rollback(resolve(stage, "rollback"), path, line),
            raw.get("go_as_for"),
            raw.get("rollback_as_for"),
        )
    return stages


def load_gates(root: Path) -> dict[str, StageGates]:
    return parse_gates(load_with_lines(root / DATA), root / DATA)


# --- the stage texts must say what the data says ---------------------------------------------------------


def minutes_words(window: str) -> str:
    """15m -> "15 minutes", 1h -> "1 hour", 6h -> "6 hours"."""
    seconds = window_seconds(window)
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "1 hour" if hours == 1 else f"{hours} hours"
    minutes = seconds // 60
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _stage_paragraphs(page_text: str) -> dict[str, dict[str, str]]:
    """Stage id -> {"go": text, "rollback": text} from the stage directives on the rollout page."""
    found: dict[str, dict[str, str]] = {}
    for block in re.finditer(r"```\{stage\}.*?\n:id: (?P<id>RS-\d{4})\n(?P<body>.*?)\n```", page_text, re.S):
        body = " ".join(block["body"].split())
        parts: dict[str, str] = {}
        for kind, label in (("go", "Go"), ("rollback", "Rollback")):
            match = re.search(rf"\*\*{label}\.\*\* (?P<text>.*?)(?= \*\*[A-Z][a-z]+\.\*\*|$)", body)
            if match:
                parts[kind] = match["text"]
        found[block["id"]] = parts
    return found


def _factor_words(factor: float) -> str:
    return {1.0: "the targets", 2.0: "twice the targets"}.get(factor, f"{factor:g} × the targets")


def stage_text_findings(gates: dict[str, StageGates], page_text: str, page: Path) -> list[Finding]:
    """Each stage's Go and Rollback paragraphs state the data file's thresholds (or its "As for")."""
    texts = _stage_paragraphs(page_text)
    findings: list[Finding] = []

    def need(stage: str, kind: str, phrase: str) -> None:
        text = texts.get(stage, {}).get(kind)
        if text is None:
            findings.append(
                Finding(RULE_AGREES, stage, f"the stage has no **{kind.capitalize()}.** text", page, 1)
            )
        elif phrase.lower() not in text.lower():
            findings.append(
                Finding(RULE_AGREES, stage, f"its {kind} text does not state {phrase!r}", page, 1)
            )

    for stage, g in gates.items():
        if stage not in texts:
            findings.append(Finding(RULE_AGREES, stage, "no stage with this id on the rollout page", page, 1))
            continue
        if g.go_as_for:
            need(stage, "go", f"As for {{need}}`{g.go_as_for}`")
        elif g.go is not None:
            need(stage, "go", f"5xx rate ≤ {g.go.max_5xx_percent:g} %")
            need(stage, "go", f"p99 within {_factor_words(g.go.p99_factor)}")
        if g.rollback_as_for:
            need(stage, "rollback", f"as for {{need}}`{g.rollback_as_for}`")
            continue
        r = g.rollback
        need(stage, "rollback", f"5xx rate > {r.above_5xx_percent:g} % over {minutes_words(r.over)}")
        if r.p99_factor is not None and r.p99_over is not None:
            need(stage, "rollback", f"p99 > {r.p99_factor:g} × target for {minutes_words(r.p99_over)}")
        if r.fast_burn_page:
            need(stage, "rollback", "fast-burn page")
    return findings


# --- metric sources -----------------------------------------------------------------------------------


class MetricSource(Protocol):
    """Where the live values come from. ``None`` means no data (no request in the window)."""

    description: str

    def error_ratio(self, slo: Slo, window: str) -> float | None: ...

    def p99_seconds(self, slo: Slo, window: str) -> float | None: ...

    def page_alert_firing(self) -> bool | None: ...


class SourceError(RuntimeError):
    """The metric source could not be read: the message says which and why."""


def _operations(slo: Slo) -> str:
    return "|".join(sorted(slo.operations))


@dataclass
class PrometheusSource:
    """A Prometheus server's HTTP query API (instant queries over each criterion's window)."""

    base_url: str
    slo_set: SloSet
    timeout_s: float = 10.0
    description: str = field(init=False)

    def __post_init__(self) -> None:
        self.description = f"Prometheus at {self.base_url}"

    def query(self, promql: str) -> list[dict[str, Any]]:
        url = f"{self.base_url.rstrip('/')}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
        try:
            with urllib.request.urlopen(url, timeout=self.timeout_s) as response:
                body = json.loads(response.read())
        except (OSError, ValueError) as exc:
            raise SourceError(f"cannot query {self.description}: {exc}") from exc
        if body.get("status") != "success":
            raise SourceError(f"{self.description} refused {promql!r}: {body.get('error')}")
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def scalar(self, promql: str) -> float | None:
        result = self.query(promql)
        if not result:
            return None
        value = float(result[0]["value"][1])
        return None if math.isnan(value) else value

    def error_ratio(self, slo: Slo, window: str) -> float | None:
        m, ops, bad = self.slo_set.requests_metric, _operations(slo), self.slo_set.bad_status
        return self.scalar(
            f'(sum(rate({m}{{operation_id=~"{ops}",http_response_status_code=~"{bad}"}}[{window}]))'
            f' or vector(0)) / sum(rate({m}{{operation_id=~"{ops}"}}[{window}]))'
        )

    def p99_seconds(self, slo: Slo, window: str) -> float | None:
        lat, ops = self.slo_set.latency_metric, _operations(slo)
        return self.scalar(
            f'histogram_quantile(0.99, sum by (le) (rate({lat}_bucket{{operation_id=~"{ops}"}}[{window}])))'
        )

    def page_alert_firing(self) -> bool | None:
        return bool(self.query('ALERTS{alertstate="firing",severity="page"}'))


@dataclass
class ScrapeSource:
    """One scrape of a ``/metrics`` endpoint: counts since the server started, whatever the window."""

    metrics_url: str
    slo_set: SloSet
    timeout_s: float = 10.0
    description: str = field(init=False)
    _samples: list[tuple[str, dict[str, str], float]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.description = f"{self.metrics_url} (since the server started; windows do not apply)"
        try:
            with urllib.request.urlopen(self.metrics_url, timeout=self.timeout_s) as response:
                text = response.read().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(f"cannot read {self.metrics_url}: {exc}") from exc
        try:
            self._samples = [
                (s.name, dict(s.labels), float(s.value))
                for family in text_string_to_metric_families(text)
                for s in family.samples
            ]
        except ValueError as exc:
            raise SourceError(f"{self.metrics_url} is not in the Prometheus text format: {exc}") from exc

    def _select(self, name: str, slo: Slo) -> Iterator[tuple[dict[str, str], float]]:
        for sample_name, labels, value in self._samples:
            if sample_name == name and labels.get("operation_id") in slo.operations:
                yield labels, value

    def error_ratio(self, slo: Slo, window: str) -> float | None:
        bad = re.compile(self.slo_set.bad_status)
        total = errors = 0.0
        for labels, value in self._select(self.slo_set.requests_metric, slo):
            total += value
            if bad.fullmatch(labels.get("http_response_status_code", "")):
                errors += value
        return None if total == 0 else errors / total

    def p99_seconds(self, slo: Slo, window: str) -> float | None:
        buckets: dict[float, float] = {}
        for labels, value in self._select(f"{self.slo_set.latency_metric}_bucket", slo):
            le = float(labels["le"])
            buckets[le] = buckets.get(le, 0.0) + value
        return histogram_quantile(0.99, sorted(buckets.items()))

    def page_alert_firing(self) -> bool | None:
        return None  # alerts live in Prometheus, not in the service's own metrics


def histogram_quantile(q: float, buckets: list[tuple[float, float]]) -> float | None:
    """Prometheus's estimate from cumulative buckets (upper bound, count), linear inside a bucket."""
    if not buckets or buckets[-1][1] == 0:
        return None
    rank = q * buckets[-1][1]
    lower_bound, lower_count = 0.0, 0.0
    for upper, count in buckets:
        if count >= rank:
            if math.isinf(upper):
                return lower_bound  # as Prometheus: the highest finite bound
            if count == lower_count:
                return upper
            return lower_bound + (upper - lower_bound) * (rank - lower_count) / (count - lower_count)
        lower_bound, lower_count = upper, count
    return lower_bound


# --- the decision ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    kind: Literal["go", "rollback"]
    what: str
    slo: str
    value: str
    threshold: str
    window: str
    outcome: Literal["met", "breached", "no data"]


@dataclass(frozen=True)
class Verdict:
    stage: str
    decision: Decision
    reason: str
    checks: tuple[Check, ...]
    source: str


def _pct(value: float | None) -> str:
    return "no requests" if value is None else f"{value * 100:.3f} %"


def _ms(value: float | None) -> str:
    return "no requests" if value is None else f"{value * 1000:.0f} ms"


def evaluate(stage: StageGates, slo_set: SloSet, source: MetricSource, window: str) -> Verdict:
    """Rollback if any rollback criterion is breached; go if every go criterion is met with traffic in
    at least one class; otherwise hold (keep the stage running and evaluate again)."""
    checks: list[Check] = []
    r = stage.rollback
    for slo in slo_set.slos:
        ratio = source.error_ratio(slo, r.over)
        too_many = ratio is not None and ratio * 100 > r.above_5xx_percent
        checks.append(
            Check(
                "rollback",
                "5xx share",
                slo.id,
                _pct(ratio),
                f"> {r.above_5xx_percent:g} %",
                r.over,
                "no data" if ratio is None else "breached" if too_many else "met",
            )
        )
        if r.p99_factor is not None and r.p99_over is not None and slo.p99_ms is not None:
            p99 = source.p99_seconds(slo, r.p99_over)
            limit = r.p99_factor * slo.p99_ms / 1000
            checks.append(
                Check(
                    "rollback",
                    "p99",
                    slo.id,
                    _ms(p99),
                    f"> {limit * 1000:.0f} ms",
                    r.p99_over,
                    "no data" if p99 is None else "breached" if p99 > limit else "met",
                )
            )
    if r.fast_burn_page:
        firing = source.page_alert_firing()
        checks.append(
            Check(
                "rollback",
                "page-severity burn-rate alert",
                "all",
                "unknown" if firing is None else "firing" if firing else "none firing",
                "firing",
                "now",
                "no data" if firing is None else "breached" if firing else "met",
            )
        )
    if stage.go is not None:
        g = stage.go
        for slo in slo_set.slos:
            ratio = source.error_ratio(slo, window)
            checks.append(
                Check(
                    "go",
                    "5xx share",
                    slo.id,
                    _pct(ratio),
                    f"≤ {g.max_5xx_percent:g} %",
                    window,
                    "no data" if ratio is None else "met" if ratio * 100 <= g.max_5xx_percent else "breached",
                )
            )
            if slo.p99_ms is not None:
                p99 = source.p99_seconds(slo, window)
                limit = g.p99_factor * slo.p99_ms / 1000
                checks.append(
                    Check(
                        "go",
                        "p99",
                        slo.id,
                        _ms(p99),
                        f"≤ {limit * 1000:.0f} ms",
                        window,
                        "no data" if p99 is None else "met" if p99 <= limit else "breached",
                    )
                )
    breached = [c for c in checks if c.kind == "rollback" and c.outcome == "breached"]
    if breached:
        names = ", ".join(f"{c.what} of {c.slo} {c.value} {c.threshold}" for c in breached)
        return Verdict(
            stage.stage,
            "rollback",
            f"rollback threshold breached: {names}",
            tuple(checks),
            source.description,
        )
    if stage.go is None:
        return Verdict(
            stage.stage,
            "hold",
            "no rollback threshold breached; the last stage has no next stage",
            tuple(checks),
            source.description,
        )
    go_checks = [c for c in checks if c.kind == "go"]
    failing = [c for c in go_checks if c.outcome == "breached"]
    if failing:
        names = ", ".join(f"{c.what} of {c.slo} {c.value}" for c in failing)
        return Verdict(
            stage.stage, "hold", f"go thresholds not met: {names}", tuple(checks), source.description
        )
    if all(c.outcome == "no data" for c in go_checks):
        return Verdict(
            stage.stage,
            "hold",
            f"no requests in the last {window}: nothing to judge",
            tuple(checks),
            source.description,
        )
    return Verdict(
        stage.stage,
        "go",
        "every automatic go threshold met and no rollback threshold breached; the stage's other go "
        "criteria (rollout page) are signed by the product owner and the duty engineering lead",
        tuple(checks),
        source.description,
    )


EXIT_CODES: dict[Decision, int] = {"go": 0, "hold": 3, "rollback": 4}
