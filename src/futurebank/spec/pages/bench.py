"""Generator ``bench-latest``: the sandbox benchmark's latest figures on the NFR page.

``make bench`` writes ``build/bench/latest.json``; the page shows that file as it is, or says plainly
that no run exists in this checkout. The figures are measured, never typed into the spec.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

from futurebank.spec.pages import Generator, md_table, repo_root
from futurebank.spec.report import report
from futurebank.spec.rules import Finding

LATEST = Path("build") / "bench" / "latest.json"


def render_bench(figures: dict[str, Any] | None) -> str:
    if figures is None:
        return (
            "No benchmark has been run in this checkout yet: `make bench` measures it and writes "
            f"`{LATEST}`; the next site build shows the figures here.\n"
        )
    table = md_table(["Figure", "Value"], _rows(figures))
    text = f"Latest run of `make bench` (from `{LATEST}`):\n\n" + table
    postgresql = figures.get("postgresql")
    if postgresql is None:
        return text
    if "skipped" in postgresql:
        return text + f"\nThe same run on PostgreSQL was not made: {postgresql['skipped']}.\n"
    return (
        text
        + "\nThe same run on PostgreSQL, in the same `make bench`:\n\n"
        + md_table(["Figure", "Value"], _rows(postgresql))
    )


def _rows(figures: dict[str, Any]) -> list[tuple[str, str]]:
    http = figures["http"]
    ratios = figures["ratios"]
    targets = figures["targets"]
    verdict = "met" if figures["meets_targets"] else "**not met**"
    version = figures.get("sqlite_version", "") if figures["database"] == "sqlite" else ""
    engine = f"{figures['database']} {version}".strip()
    workload = f"{figures['transfers']} transfers at concurrency {figures['concurrency']}"
    latency = f"p50 {http['p50_ms']} ms, p95 {http['p95_ms']} ms, p99 {http['p99_ms']} ms"
    load = f"{figures['load_average_before'][0]:.2f} / {figures['load_average_after'][0]:.2f}"
    cpu = figures["cpu_ms_per_transfer_by_layer"]
    footprint = figures["footprint_6_months"]
    rows = [
        ("Measured at", f"{figures['when']} on {figures['cpus']} CPUs, {engine}"),
        ("Workload", f"{workload} (+{figures['warmup']} warm-up)"),
        ("Through HTTP", f"{http['transfers_per_s']} transfers/s; {latency}"),
        ("Service layer, no HTTP", f"{figures['service_layer_no_http']['transfers_per_s']} transfers/s"),
        ("Same writes on the bare database", f"{figures['database_alone']['commits_per_s']} commits/s"),
        (
            "Ratio HTTP / bare database",
            f"{ratios['http_over_database']} (target ≥ {targets['http_over_database']})",
        ),
        (
            "Ratio service layer / bare database",
            f"{ratios['service_layer_over_database']} (target ≥ {targets['service_layer_over_database']})",
        ),
        (
            "CPU per transfer by layer",
            f"driver {cpu['database_driver_ms']} ms, service layer {cpu['service_layer_ms']} ms, "
            f"HTTP {cpu['http_ms']} ms",
        ),
        *_ceiling_rows(figures.get("stack_ceilings")),
        (
            "Carbon footprint, six months of history",
            f"p50 {footprint['p50_ms']} ms, p95 {footprint['p95_ms']} ms",
        ),
        ("Ledger check after the run", ", ".join(f"{k} {v}" for k, v in figures["ledger_check"].items())),
        ("Load average before / after (1 min)", load),
        (f"Targets met (ratios above, p99 ≤ {targets['p99_ms']} ms, every transfer booked)", verdict),
    ]
    return rows


def _ceiling_rows(ceilings: dict[str, Any] | None) -> list[tuple[str, str]]:
    """What the decided stack allows at best (ADR-0024); absent from reports older than it."""
    if not ceilings:
        return []
    floor = ceilings["http_floor"]
    return [
        (
            "Stack ceiling (ADR-0024): SQLAlchemy's driver layer alone, same statements",
            f"{ceilings['sqlalchemy_driver_layer_commits_per_s']} commits/s; service layer / bare database"
            f" at best {ceilings['service_layer_over_database_at_best']}",
        ),
        (
            "Stack ceiling (ADR-0024): an empty FastAPI route, same driver",
            f"{floor['requests_per_s']} requests/s ({floor['server_cpu_ms_per_request']} ms CPU each);"
            f" HTTP / bare database at best {ceilings['http_over_database_at_best']}",
        ),
    ]


def bench_latest(app: Sphinx) -> str:
    path = repo_root(app) / LATEST
    if not path.exists():
        return render_bench(None)
    app.env.note_dependency(str(path))
    try:
        figures = json.loads(path.read_text(encoding="utf-8"))
        return render_bench(figures)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        report([Finding("R-55-bench-result-readable", LATEST.name, str(exc), path, 1)], repo_root(app))
        return ""


GENERATORS: dict[str, Generator] = {
    "bench-latest": bench_latest,
}
