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
    http = figures["http"]
    ratios = figures["ratios"]
    targets = figures["targets"]
    verdict = "met" if figures["meets_targets"] else "**not met**"
    engine = f"{figures['database']} {figures.get('sqlite_version', '')}".strip()
    workload = f"{figures['transfers']} transfers at concurrency {figures['concurrency']}"
    latency = f"p50 {http['p50_ms']} ms, p95 {http['p95_ms']} ms, p99 {http['p99_ms']} ms"
    load = f"{figures['load_average_before'][0]:.2f} / {figures['load_average_after'][0]:.2f}"
    rows = [
        ("Measured at", f"{figures['when']} on {figures['cpus']} CPUs, {engine}"),
        ("Workload", f"{workload} (+{figures['warmup']} warm-up)"),
        ("Through HTTP", f"{http['transfers_per_s']} transfers/s; {latency}"),
        ("Service layer, no HTTP", f"{figures['service_layer_no_http']['transfers_per_s']} transfers/s"),
        ("Same writes on the bare database", f"{figures['database_alone']['commits_per_s']} commits/s"),
        ("Ratio HTTP / bare database", str(ratios["http_over_database"])),
        ("Ledger check after the run", ", ".join(f"{k} {v}" for k, v in figures["ledger_check"].items())),
        ("Load average before / after (1 min)", load),
        (f"Target (≥ {targets['transfers_per_s']} transfers/s, p99 ≤ {targets['p99_ms']} ms)", verdict),
    ]
    return f"Latest run of `make bench` (from `{LATEST}`):\n\n" + md_table(["Figure", "Value"], rows)


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
