"""The NFR page shows the benchmark file as measured, or says that no run exists."""

from __future__ import annotations

from typing import Any

from futurebank.spec.pages.bench import render_bench


def figures(meets: bool) -> dict[str, Any]:
    return {
        "when": "2026-11-24T09:38:29+0000",
        "database": "sqlite",
        "sqlite_version": "3.40.1",
        "cpus": 2,
        "load_average_before": [0.4, 1.0, 1.0],
        "load_average_after": [0.6, 1.0, 1.0],
        "concurrency": 16,
        "transfers": 6000,
        "warmup": 500,
        "http": {"transfers_per_s": 940.0, "p50_ms": 16.97, "p95_ms": 17.96, "p99_ms": 19.75},
        "service_layer_no_http": {"transfers_per_s": 1480.1},
        "database_alone": {"commits_per_s": 6461.5},
        "ratios": {"http_over_database": 0.145, "service_layer_over_database": 0.229},
        "cpu_ms_per_transfer_by_layer": {
            "database_driver_ms": 0.12,
            "service_layer_ms": 0.55,
            "http_ms": 0.41,
        },
        "footprint_6_months": {"p50_ms": 5.1, "p95_ms": 6.3},
        "ledger_check": {"unbalanced_entries": 0},
        "targets": {"http_over_database": 0.4, "service_layer_over_database": 0.7, "p99_ms": 50},
        "meets_targets": meets,
    }


def test_no_run_is_said_plainly() -> None:
    assert "No benchmark has been run" in render_bench(None)


def test_figures_and_verdict_are_shown() -> None:
    text = render_bench(figures(meets=True))
    assert "| Through HTTP | 940.0 transfers/s; p50 16.97 ms, p95 17.96 ms, p99 19.75 ms |" in text
    assert "| Ratio HTTP / bare database | 0.145 (target ≥ 0.4) |" in text
    assert "| Ratio service layer / bare database | 0.229 (target ≥ 0.7) |" in text
    assert "driver 0.12 ms, service layer 0.55 ms, HTTP 0.41 ms" in text
    assert "| Carbon footprint, six months of history | p50 5.1 ms, p95 6.3 ms |" in text
    assert text.rstrip().endswith("| met |")
    assert render_bench(figures(meets=False)).rstrip().endswith("| **not met** |")


def test_the_postgresql_run_is_shown_or_its_absence_said() -> None:
    both = figures(meets=False) | {"postgresql": figures(meets=False) | {"database": "postgresql"}}
    text = render_bench(both)
    assert "The same run on PostgreSQL, in the same `make bench`:" in text
    assert "on 2 CPUs, postgresql |" in text
    skipped = figures(meets=True) | {"postgresql": {"skipped": "PostgreSQL server binaries not found"}}
    assert "was not made: PostgreSQL server binaries not found." in render_bench(skipped)
