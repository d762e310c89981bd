"""Generator ``rollout-flags``: the feature flags, the operations each gates and each stage's rule, on
the rollout page. It reads the same data as ``futurebank flags generate`` and reports R-78 when the
committed flagd files drift from it or a flag gates an operation the contract lacks (ADR-0019)."""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

from futurebank.spec.contract.model import load_contract
from futurebank.spec.flags import (
    FLAGS_DATA,
    LOAD_MODEL,
    OUT_DIR,
    FlagsDataError,
    FlagSet,
    drift,
    load_flag_set,
)
from futurebank.spec.pages import Generator, md_escape, md_table, repo_root
from futurebank.spec.report import report
from futurebank.spec.rules import Finding

RULE = "R-78-flags-generated"


def findings(root: Path, operations: set[str]) -> tuple[FlagSet | None, list[Finding]]:
    """The flag set (None when its data is unusable) and the R-78 findings."""
    try:
        flag_set = load_flag_set(root)
        problems = drift(root, operations)
    except FlagsDataError as exc:
        return None, [Finding(RULE, "feature flags", str(exc), root / FLAGS_DATA, 1)]
    return flag_set, [Finding(RULE, "feature flags", problem, root / OUT_DIR, 1) for problem in problems]


def rollout_flags(app: Sphinx) -> str:
    root = repo_root(app)
    for data in (FLAGS_DATA, LOAD_MODEL):
        app.env.note_dependency(str(root / data))
    operations = {op.operation_id for op in load_contract(root / "docs").operations()}
    flag_set, found = findings(root, operations)
    report(found, root)
    if flag_set is None:
        return ""
    flags = [
        (
            f"`{md_escape(f.key)}`",
            f"{{need}}`{f.feature}`",
            md_escape(f.what),
            ", ".join(f"`{o}`" for o in f.operations),
        )
        for f in flag_set.flags
    ]
    stages = []
    for stage in flag_set.stages:
        buckets = f"buckets 0 to {stage.threshold - 1}" if stage.threshold else ""
        who = " and ".join(part for part in ("staff" if stage.staff else "", buckets) if part)
        path = (OUT_DIR / f"{stage.stage}.flagd.json").as_posix()
        stages.append(
            (f"{{need}}`{stage.stage}`", f"{stage.threshold * 100 / flag_set.buckets:g} %", who, f"`{path}`")
        )
    return (
        f"The flags as data (`{FLAGS_DATA.as_posix()}`); a customer outside a flag's current stage gets "
        "`403 FEATURE_NOT_AVAILABLE` on its operations (change C-20):\n\n"
        + md_table(["Flag", "Feature", "What", "Operations"], flags)
        + f"\nEach stage's rule, generated from `rollout_stages` of `{LOAD_MODEL.as_posix()}` by "
        f"`futurebank flags generate`. A customer's bucket is SHA-256 of "
        f"`{flag_set.salt}:<customer id>` modulo {flag_set.buckets:,}, passed as "
        f"`{flag_set.bucket_attribute}` in the evaluation context, so every stage contains the one "
        "before:\n\n" + md_table(["Stage", "Share of buckets", "Inside", "flagd file"], stages)
    )


GENERATORS: dict[str, Generator] = {"rollout-flags": rollout_flags}
