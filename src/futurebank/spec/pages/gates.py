"""Generator ``rollout-gates``: the stages' automatic go and rollback criteria on the rollout page.

From ``docs/delivery/rollout-gates.yaml`` and the classes of ``docs/nfr/slos.yaml``, the same data
``futurebank rollout evaluate`` decides with. The block also runs the gate checks: the file's shape
(R-82) and the stage texts stating its thresholds (R-83).
"""

from __future__ import annotations

from sphinx.application import Sphinx

from futurebank.spec.gates import DATA, PAGE, StageGates, parse_gates, stage_text_findings
from futurebank.spec.pages import Generator, load_data, md_table, repo_root
from futurebank.spec.report import report
from futurebank.spec.slo import DATA as SLO_DATA
from futurebank.spec.slo import parse_slos


def _go(g: StageGates) -> str:
    if g.go is None:
        return "none (last stage)"
    factor = "the p99 target" if g.go.p99_factor == 1 else f"{g.go.p99_factor:g} × the p99 target"
    return f"every class: 5xx ≤ {g.go.max_5xx_percent:g} %, p99 within {factor}"


def _rollback(g: StageGates) -> str:
    r = g.rollback
    parts = [f"any class: 5xx > {r.above_5xx_percent:g} % over {r.over}"]
    if r.p99_factor is not None:
        parts.append(f"p99 > {r.p99_factor:g} × target over {r.p99_over}")
    if r.fast_burn_page:
        parts.append("a page-severity burn-rate alert firing")
    return "; ".join(parts)


def rollout_gates(app: Sphinx) -> str:
    gates = load_data(app, DATA, parse_gates)
    slo_set = load_data(app, SLO_DATA, parse_slos)
    if gates is None or slo_set is None:
        return ""
    root = repo_root(app)
    report(stage_text_findings(gates, (root / PAGE).read_text(encoding="utf-8"), root / PAGE), root)
    rows = [(f"{{need}}`{g.stage}`", _go(g), _rollback(g)) for g in gates.values()]
    classes = ", ".join(f"{s.id}" + (f" (p99 {s.p99_ms:,} ms)" if s.p99_ms else "") for s in slo_set.slos)
    return (
        f"The automatic criteria as data (`{DATA}`), over the classes of `{SLO_DATA}`: {classes}. "
        "`futurebank rollout evaluate --stage RS-000N` compares them with a Prometheus server or the "
        "sandbox's `/metrics` and answers **go** (exit 0), **hold** (exit 3) or **rollback** (exit 4), "
        "printing every value it compared; the criteria that need a person (penetration test, "
        "complaint and fraud rates against the control, graded assistant answers) stay with the "
        "product owner and the duty engineering lead.\n\n"
        + md_table(["Stage", "Automatic go", "Automatic rollback"], rows)
    )


GENERATORS: dict[str, Generator] = {"rollout-gates": rollout_gates}
