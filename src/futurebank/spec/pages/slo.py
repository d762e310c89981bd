"""Generator ``slo-objectives``: the SLOs and the burn-rate alert policy on the reliability page.

Both come from ``docs/nfr/slos.yaml``, the file the Prometheus rules and the Grafana dashboard are
generated from (``futurebank ops generate``). The block also runs the SLO checks: the file's shape
(R-75), every contract operation covered once (R-76), the NFR texts agreeing with the data (R-77).
"""

from __future__ import annotations

from sphinx.application import Sphinx

from futurebank.spec.contract.model import load_contract
from futurebank.spec.pages import Generator, load_data, md_escape, md_table, repo_root
from futurebank.spec.report import report
from futurebank.spec.slo import (
    DATA,
    NFR_PAGE,
    PERFORMANCE_PAGE,
    coverage_findings,
    latency_findings,
    milliseconds_words,
    nfr_agreement_findings,
    parse_slos,
    window_seconds,
)


def slo_objectives(app: Sphinx) -> str:
    slo_set = load_data(app, DATA, parse_slos)
    if slo_set is None:
        return ""
    root = repo_root(app)
    operations = {op.operation_id for op in load_contract(root / "docs").operations()}
    page = root / NFR_PAGE
    performance = root / PERFORMANCE_PAGE
    report(
        coverage_findings(slo_set, operations, root / DATA)
        + nfr_agreement_findings(slo_set, page.read_text(encoding="utf-8"), page)
        + latency_findings(slo_set, performance.read_text(encoding="utf-8"), performance),
        root,
    )
    minutes = slo_set.window_days * 24 * 60
    rows = [
        (
            md_escape(slo.id),
            md_escape(slo.title),
            f"{slo.objective_percent:g} %",
            f"{slo.budget * minutes:,.1f} min",
            "" if slo.p99_ms is None else f"{milliseconds_words(slo.p99_ms)} ({slo.latency_nfr})",
            ", ".join(f"`{op}`" for op in slo.operations),
        )
        for slo in slo_set.slos
    ]
    alerts = [
        (
            a.severity,
            f"{a.factor:g}",
            f"{a.long} and {a.short}",
            f"{a.factor * window_seconds(a.long) / (slo_set.window_days * 86400):.1%}",
        )
        for a in slo_set.alerts
    ]
    return (
        f"The SLOs as data (`{DATA}`), over a rolling {slo_set.window_days} days; a request is bad when its "
        f"status matches `{slo_set.bad_status}`. The error budget is shown as minutes of full "
        "outage in the window.\n\n"
        + md_table(["SLO", "Covers", "Objective", "Budget", "p99 target", "Operations"], rows)
        + "\nBurn-rate alerts (each fires when the bad ratio exceeds factor × budget over both windows; the "
        "last column is the share of the 30-day budget spent by the time the long window fills):\n\n"
        + md_table(["Severity", "Factor", "Windows", "Budget spent"], alerts)
        + "\n`futurebank ops generate` writes the Prometheus recording and alerting rules and the Grafana "
        "dashboard from this file into `build/ops/`; `make test` checks the rules with "
        "`promtool check rules` and runs their unit tests with `promtool test rules`.\n"
    )


GENERATORS: dict[str, Generator] = {"slo-objectives": slo_objectives}
