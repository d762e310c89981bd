"""The SLOs of NFR-0007 and the burn-rate policy of NFR-0008 as data, and what is generated from them.

``docs/nfr/slos.yaml`` is the one source. From it come the Prometheus recording and alerting rules
(multiwindow, multi-burn-rate, after the SRE Workbook), the Grafana dashboard, and the table on the
reliability page. The checks refuse a malformed file (R-75), a contract operation no SLO covers or an
SLO naming an operation the contract lacks (R-76), and objectives or alert windows that the NFR texts
do not state (R-77), so the NFR page and the alerts cannot drift apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from futurebank.spec.rules import Finding, SpecFileError
from futurebank.spec.yaml_lines import load_with_lines

DATA = Path("docs") / "nfr" / "slos.yaml"
NFR_PAGE = Path("docs") / "nfr" / "reliability.md"
PERFORMANCE_PAGE = Path("docs") / "nfr" / "performance.md"
WINDOW = re.compile(r"^(?P<n>[1-9][0-9]*)(?P<unit>[mhd])$")
RULE_VALID = "R-75-slo-data-valid"
RULE_COVERS = "R-76-slo-covers-operations"
RULE_AGREES = "R-77-slo-agrees-with-nfr"


@dataclass(frozen=True)
class Slo:
    id: str
    title: str
    nfr: str
    objective_percent: float
    operations: tuple[str, ...]
    line: int
    latency_nfr: str | None = None
    p99_ms: int | None = None

    @property
    def budget(self) -> float:
        """The error budget: the share of valid requests that may be bad."""
        return round(1 - self.objective_percent / 100, 10)


@dataclass(frozen=True)
class BurnRateAlert:
    severity: str
    factor: float
    long: str
    short: str
    line: int


@dataclass(frozen=True)
class SloSet:
    window_days: int
    bad_status: str
    requests_metric: str
    latency_metric: str
    slos: tuple[Slo, ...]
    alerts: tuple[BurnRateAlert, ...]

    def windows(self) -> list[str]:
        """Every window a rule needs, shortest first."""
        names = {w for a in self.alerts for w in (a.long, a.short)} | {f"{self.window_days}d"}
        return sorted(names, key=window_seconds)


def window_seconds(window: str) -> int:
    match = WINDOW.match(window)
    if match is None:
        raise ValueError(window)
    return int(match["n"]) * {"m": 60, "h": 3600, "d": 86400}[match["unit"]]


def window_words(window: str) -> str:
    """How the NFR text writes a window: 5m -> "5 min", 1h -> "1 h", 3d -> "3 days"."""
    match = WINDOW.match(window)
    if match is None:
        raise ValueError(window)
    n, unit = match["n"], match["unit"]
    if unit == "d":
        return f"{n} day" if n == "1" else f"{n} days"
    return f"{n} {'min' if unit == 'm' else 'h'}"


def _fail(path: Path, line: int, detail: str) -> SpecFileError:
    return SpecFileError(path, line, RULE_VALID, detail)


def _text(raw: Any, path: Path, line: int, field: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise _fail(path, line, f"{field} must be a non-empty text, not {raw!r}")
    return raw


def _window(raw: Any, path: Path, line: int, field: str) -> str:
    if not isinstance(raw, str) or WINDOW.match(raw) is None:
        raise _fail(path, line, f"{field} must be a window such as 5m, 6h or 3d, not {raw!r}")
    return raw


def parse_slos(data: Any, path: Path) -> SloSet:
    """Validate the file's shape; every error names the file and line."""
    if not isinstance(data, dict):
        raise _fail(path, 1, "the file must be a mapping")
    missing = [
        k
        for k in (
            "window_days",
            "bad_status",
            "requests_metric",
            "latency_metric",
            "slos",
            "burn_rate_alerts",
        )
        if k not in data
    ]
    if missing:
        raise _fail(path, 1, f"missing top-level key(s) {missing}")
    days = data["window_days"]
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise _fail(path, 1, f"window_days must be a positive whole number, not {days!r}")
    slos: list[Slo] = []
    for raw in data["slos"] or []:
        line = getattr(raw, "line", 1)
        if not isinstance(raw, dict):
            raise _fail(path, line, "each SLO must be a mapping")
        objective = raw.get("objective_percent")
        if isinstance(objective, bool) or not isinstance(objective, int | float) or not 0 < objective < 100:
            raise _fail(
                path, line, f"objective_percent must be a number between 0 and 100, not {objective!r}"
            )
        operations = raw.get("operations")
        if (
            not isinstance(operations, list)
            or not operations
            or not all(isinstance(o, str) for o in operations)
        ):
            raise _fail(path, line, "operations must be a non-empty list of operation ids")
        slo_id = _text(raw.get("id"), path, line, "id")
        if not re.fullmatch(r"[a-z][a-z0-9-]*", slo_id):
            raise _fail(path, line, f"id must be lower-case words joined by hyphens, not {slo_id!r}")
        if any(s.id == slo_id for s in slos):
            raise _fail(path, line, f"SLO id {slo_id!r} is used twice")
        latency_nfr, p99_ms = raw.get("latency_nfr"), raw.get("p99_ms")
        if (latency_nfr is None) != (p99_ms is None):
            raise _fail(path, line, "latency_nfr and p99_ms go together: give both or neither")
        if p99_ms is not None and (isinstance(p99_ms, bool) or not isinstance(p99_ms, int) or p99_ms <= 0):
            raise _fail(path, line, f"p99_ms must be a positive whole number of milliseconds, not {p99_ms!r}")
        slos.append(
            Slo(
                slo_id,
                _text(raw.get("title"), path, line, "title"),
                _text(raw.get("nfr"), path, line, "nfr"),
                float(objective),
                tuple(operations),
                line,
                None if latency_nfr is None else _text(latency_nfr, path, line, "latency_nfr"),
                p99_ms,
            )
        )
    if not slos:
        raise _fail(path, 1, "slos must list at least one SLO")
    alerts: list[BurnRateAlert] = []
    for raw in data["burn_rate_alerts"] or []:
        line = getattr(raw, "line", 1)
        if not isinstance(raw, dict):
            raise _fail(path, line, "each burn-rate alert must be a mapping")
        severity = raw.get("severity")
        if severity not in ("page", "ticket"):
            raise _fail(path, line, f"severity must be page or ticket, not {severity!r}")
        factor = raw.get("factor")
        if isinstance(factor, bool) or not isinstance(factor, int | float) or factor <= 0:
            raise _fail(path, line, f"factor must be a positive number, not {factor!r}")
        long = _window(raw.get("long"), path, line, "long")
        short = _window(raw.get("short"), path, line, "short")
        if window_seconds(short) >= window_seconds(long):
            raise _fail(path, line, f"the short window {short} must be shorter than the long window {long}")
        alerts.append(BurnRateAlert(severity, float(factor), long, short, line))
    if not alerts:
        raise _fail(path, 1, "burn_rate_alerts must list at least one alert")
    return SloSet(
        days,
        _text(data["bad_status"], path, 1, "bad_status"),
        _text(data["requests_metric"], path, 1, "requests_metric"),
        _text(data["latency_metric"], path, 1, "latency_metric"),
        tuple(slos),
        tuple(alerts),
    )


def load_slos(root: Path) -> SloSet:
    return parse_slos(load_with_lines(root / DATA), root / DATA)


# --- checks -------------------------------------------------------------------------------------------


def coverage_findings(slo_set: SloSet, contract_operations: set[str], path: Path) -> list[Finding]:
    """Every contract operation in exactly one SLO, and no SLO naming an operation the contract lacks."""
    findings: list[Finding] = []
    owner: dict[str, str] = {}
    for slo in slo_set.slos:
        for op in slo.operations:
            if op not in contract_operations:
                findings.append(
                    Finding(RULE_COVERS, slo.id, f"names {op}, which the contract lacks", path, slo.line)
                )
            elif op in owner:
                findings.append(
                    Finding(RULE_COVERS, slo.id, f"{op} is already in the SLO {owner[op]}", path, slo.line)
                )
            owner.setdefault(op, slo.id)
    for op in sorted(contract_operations - set(owner)):
        findings.append(Finding(RULE_COVERS, op, "no SLO in slos.yaml covers this operation", path, 1))
    return findings


def _need_field(page_text: str, need_id: str, field: str) -> str | None:
    match = re.search(rf":id: {need_id}\n(?:.*\n)*?:{field}: (?P<value>.*)\n", page_text)
    return match["value"] if match else None


def milliseconds_words(ms: int) -> str:
    """How the performance NFRs write a duration: 800 -> "800 ms", 2000 -> "2,000 ms", 12000 -> "12 s"."""
    return f"{ms // 1000} s" if ms >= 10_000 and ms % 1000 == 0 else f"{ms:,} ms"


def latency_findings(slo_set: SloSet, page_text: str, page: Path) -> list[Finding]:
    """Each class's p99 in the data file is the one its performance NFR's target states."""
    findings: list[Finding] = []
    for slo in slo_set.slos:
        if slo.latency_nfr is None or slo.p99_ms is None:
            continue
        target = _need_field(page_text, slo.latency_nfr, "target")
        written = f"p99 ≤ {milliseconds_words(slo.p99_ms)}"
        if target is None or written not in target:
            findings.append(
                Finding(
                    RULE_AGREES,
                    slo.latency_nfr,
                    f"the target does not state {written!r} (SLO {slo.id})",
                    page,
                    1,
                )
            )
    return findings


def nfr_agreement_findings(slo_set: SloSet, page_text: str, page: Path) -> list[Finding]:
    """The NFR texts state each objective and each alert's factor and windows as the data file does."""
    findings: list[Finding] = []
    for nfr in sorted({s.nfr for s in slo_set.slos}):
        target = _need_field(page_text, nfr, "target")
        if target is None:
            findings.append(Finding(RULE_AGREES, nfr, f"no :target: found for {nfr} in {page.name}", page, 1))
            continue
        for slo in (s for s in slo_set.slos if s.nfr == nfr):
            written = f"{slo.objective_percent:g} %"
            if written not in target:
                findings.append(
                    Finding(RULE_AGREES, nfr, f"the target does not state {written} (SLO {slo.id})", page, 1)
                )
    policy = _need_field(page_text, "NFR-0008", "target")
    for alert in slo_set.alerts:
        written = f"> {alert.factor:g} over both {window_words(alert.long)} and {window_words(alert.short)}"
        if policy is None or written not in policy:
            findings.append(
                Finding(
                    RULE_AGREES,
                    "NFR-0008",
                    f"the target does not state {written!r} ({alert.severity})",
                    page,
                    1,
                )
            )
    return findings


# --- generation ---------------------------------------------------------------------------------------


def _operations_matcher(slo: Slo) -> str:
    return "|".join(sorted(slo.operations))


def ratio_record(window: str) -> str:
    return f"slo:request_errors:ratio_rate{window}"


def prometheus_rules(slo_set: SloSet) -> dict[str, Any]:
    """Recording rules (bad ratio per SLO and window) and alerting rules (burn rate over paired windows)."""
    metric, bad = slo_set.requests_metric, slo_set.bad_status
    recording: list[dict[str, Any]] = []
    for slo in slo_set.slos:
        ops = _operations_matcher(slo)
        for window in slo_set.windows():
            # "or vector(0)": with no 5xx series yet the ratio is 0, not absent (absent would blank the
            # dashboard and the budget); with no traffic at all it stays absent (0/0 is no information).
            bad_rate = (
                f'(sum(rate({metric}{{operation_id=~"{ops}",http_response_status_code=~"{bad}"}}[{window}]))'
                " or vector(0))"
            )
            all_rate = f'sum(rate({metric}{{operation_id=~"{ops}"}}[{window}]))'
            recording.append(
                {
                    "record": ratio_record(window),
                    "expr": f"{bad_rate} / {all_rate}",
                    "labels": {"slo": slo.id, "objective": f"{slo.objective_percent:g}"},
                }
            )
        full = f"{slo_set.window_days}d"
        recording.append(
            {
                "record": "slo:error_budget_remaining:ratio",
                "expr": f'1 - {ratio_record(full)}{{slo="{slo.id}"}} / {slo.budget:g}',
                "labels": {"slo": slo.id, "objective": f"{slo.objective_percent:g}"},
            }
        )
    alerting: list[dict[str, Any]] = []
    for slo in slo_set.slos:
        for alert in slo_set.alerts:
            threshold = f"({alert.factor:g} * {slo.budget:g})"
            long_ratio = f'{ratio_record(alert.long)}{{slo="{slo.id}"}}'
            short_ratio = f'{ratio_record(alert.short)}{{slo="{slo.id}"}}'
            name = "".join(part.capitalize() for part in slo.id.split("-"))
            alerting.append(
                {
                    "alert": f"SloBurnRate{name}{alert.severity.capitalize()}{alert.long}",
                    "expr": f"{long_ratio} > {threshold} and {short_ratio} > {threshold}",
                    "labels": {"severity": alert.severity, "slo": slo.id, "nfr": "NFR-0008"},
                    "annotations": {
                        "summary": f"{slo.title}: error budget burning at more than {alert.factor:g}x "
                        f"over {alert.long} and {alert.short}",
                        "objective": f"{slo.objective_percent:g} % of valid requests good over "
                        f"{slo_set.window_days} days ({slo.nfr})",
                    },
                }
            )
    return {
        "groups": [
            {"name": "futurebank-slo-recording", "rules": objective_rules(slo_set) + recording},
            {"name": "futurebank-slo-alerts", "rules": alerting},
        ]
    }


def _panel(panel_id: int, title: str, expr: str, unit: str, y: int, x: int, legend: str) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": title,
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"refId": "A", "expr": expr, "legendFormat": legend}],
    }


def grafana_dashboard(slo_set: SloSet) -> dict[str, Any]:
    """Per-operation rate, errors and latency, and per-SLO error-budget burn and remaining budget."""
    m, lat, bad = slo_set.requests_metric, slo_set.latency_metric, slo_set.bad_status
    short = min(slo_set.windows(), key=window_seconds)
    panels = [
        _panel(
            1,
            "Requests per second by operation",
            f"sum by (operation_id) (rate({m}[{short}]))",
            "reqps",
            0,
            0,
            "{{operation_id}}",
        ),
        _panel(
            2,
            "Server errors (5xx) per second by operation",
            f'sum by (operation_id) (rate({m}{{http_response_status_code=~"{bad}"}}[{short}]))',
            "reqps",
            0,
            12,
            "{{operation_id}}",
        ),
        _panel(
            3,
            "Latency p95 by operation",
            f"histogram_quantile(0.95, sum by (operation_id, le) (rate({lat}_bucket[{short}])))",
            "s",
            8,
            0,
            "{{operation_id}}",
        ),
        _panel(
            4,
            "Error-budget burn rate by SLO (1 = on budget)",
            f"{ratio_record(slo_set.alerts[0].long)} / on (slo) (1 - slo:objective:ratio)",
            "none",
            8,
            12,
            "{{slo}}",
        ),
        _panel(
            5,
            f"Error budget remaining over {slo_set.window_days} days by SLO",
            "slo:error_budget_remaining:ratio",
            "percentunit",
            16,
            0,
            "{{slo}}",
        ),
    ]
    return {
        "uid": "futurebank-slo",
        "title": "Futurebank API: SLOs and error budgets",
        "description": f"Generated from {DATA} (NFR-0007, NFR-0008); do not edit by hand.",
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "30s",
        "tags": ["futurebank", "slo"],
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"}
            ]
        },
        "panels": panels,
    }


def objective_rules(slo_set: SloSet) -> list[dict[str, Any]]:
    """One constant series per SLO holding its budget, which the burn-rate panel divides by."""
    return [
        {
            "record": "slo:objective:ratio",
            "expr": f"vector({slo.objective_percent / 100:g})",
            "labels": {"slo": slo.id},
        }
        for slo in slo_set.slos
    ]
