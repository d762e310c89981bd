"""Generator ``acceptance-summary``: what this build knows about the acceptance run, in one sentence.

The front page says the scenarios run against the sandbox; this block makes that claim true of every
build: it shows the counts from ``build/acceptance/results.json`` when ``make acceptance`` ran before
the site build, and says plainly that this build did not run them when the file is absent.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sphinx.application import Sphinx

from futurebank.spec.pages import Generator, repo_root
from futurebank.spec.stories import load_run_results

# The file futurebank.spec.acceptance_results writes (not imported: it is a pytest plugin).
RESULTS = Path("build") / "acceptance" / "results.json"


def render_summary(results: dict[str, str] | None) -> str:
    if results is None:
        return (
            "**This build did not run the acceptance scenarios**: no `"
            f"{RESULTS}` was present when the site was built. `make acceptance` runs them against the "
            "sandbox and `make run` builds the site with their results.\n"
        )
    counts = Counter(results.values())
    parts = [f"{counts.get(outcome, 0)} {outcome}" for outcome in ("passed", "failed", "skipped")]
    verdict = "all runnable scenarios passed" if counts.get("failed", 0) == 0 else "**some scenarios failed**"
    return (
        f"Latest acceptance run against the sandbox (`{RESULTS}`): {len(results)} scenarios, "
        f"{', '.join(parts)}; {verdict}. Skipped scenarios need an operation the sandbox answers with "
        "501 or operations tooling; each story page names the reason.\n"
    )


def acceptance_summary(app: Sphinx) -> str:
    path = repo_root(app) / RESULTS
    app.env.note_dependency(str(path))
    return render_summary(load_run_results(path))


GENERATORS: dict[str, Generator] = {
    "acceptance-summary": acceptance_summary,
}
