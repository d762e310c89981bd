"""``python -m futurebank.bench`` end to end on a tiny budget: it runs, keeps the ledger whole, and
writes its JSON report (the real figures come from ``make bench``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from futurebank import throwaway_postgres
from futurebank.spec.pages.bench import render_bench

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.slow
def test_bench_smoke(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "futurebank.bench",
            "--transfers",
            "120",
            "--warmup",
            "0",
            "--concurrency",
            "4",
            "--out",
            str(out),
        ],
        cwd=tmp_path,  # its work directory (build/bench/…) lands in the temporary directory
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    assert result["http"]["statuses"] == {"201": 120}
    assert result["ledger_check"] == {
        "unbalanced_entries": 0,
        "balances_not_matching_postings": 0,
        "payments": 131,
    }
    assert (
        result["database_alone"]["commits_per_s"] > 0
        and result["service_layer_no_http"]["transfers_per_s"] > 0
    )
    assert "transfers/s" in done.stdout and "p99" in done.stdout
    # ADR-0024: the stack's ceilings are measured in the same run and the "at best" ratios follow from them.
    ceilings = result["stack_ceilings"]
    raw = result["database_alone"]["commits_per_s"]
    sqla = ceilings["sqlalchemy_driver_layer_commits_per_s"]
    empty_route = ceilings["http_floor"]["requests_per_s"]
    assert sqla > 0 and empty_route > 0 and ceilings["http_floor"]["statuses"] == {"201": 120}
    assert ceilings["service_layer_over_database_at_best"] == pytest.approx(sqla / raw, abs=0.001)
    combined = 1 / (1 / sqla + 1 / empty_route) / raw
    assert ceilings["http_over_database_at_best"] == pytest.approx(combined, abs=0.001)
    assert "stack ceiling:" in done.stdout and "ADR-0024" in done.stdout
    assert f"{sqla} commits/s; service layer / bare database at best" in render_bench(result)
    # The NFR page renders this very file (it once read keys the bench no longer wrote).
    page = render_bench(result)
    assert f"| Through HTTP | {result['http']['transfers_per_s']} transfers/s;" in page
    # The same run on PostgreSQL, in the same invocation, when the server binaries are installed.
    postgresql = result["postgresql"]
    if throwaway_postgres.available():
        assert postgresql["database"] == "postgresql"
        assert postgresql["http"]["statuses"] == {"201": 120}
        assert postgresql["ledger_check"]["unbalanced_entries"] == 0
        assert "The same run on PostgreSQL, in the same `make bench`:" in page
    else:
        assert "not found" in postgresql["skipped"]
