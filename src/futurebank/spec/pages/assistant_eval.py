"""Generator ``assistant-eval-latest``: the assistant evaluation's latest figures on the AI NFR page.

``make eval-assistant`` writes ``build/eval/assistant.json``; the page shows that file as it is, or says
plainly that no run exists in this checkout. The figures are measured, never typed into the spec.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.util import logging

from futurebank.spec.pages import Generator, md_table, repo_root

logger = logging.getLogger(__name__)
LATEST = Path("build") / "eval" / "assistant.json"


def render_assistant_eval(result: dict[str, Any] | None) -> str:
    if result is None:
        return (
            "No assistant evaluation has been run in this checkout yet: `make eval-assistant` measures it "
            f"and writes `{LATEST}`; the next site build shows the figures here.\n"
        )
    t = result["targets"]
    rows = []
    for language, m in result["languages"].items():
        rows.append(
            (
                language,
                str(m["utterances"]),
                f"{m['macro_f1']:.3f}",
                f"{m['wrong_facts']} of {m['facts_checked']}",
                f"{m['false_action_rate'] * 100:.2f} %",
                f"{m['lock_recall'] * 100:.1f} %",
                f"{m['handoff_rate'] * 100:.1f} %",
                f"{m['latency_ms']['p50']} / {m['latency_ms']['p95']}",
            )
        )
    verdict = "met" if not result["failures"] else "**not met**: " + "; ".join(result["failures"])
    targets = (
        f"macro-F1 ≥ {t['macro_f1_min']} per language, zero wrong facts, false actions ≤ "
        f"{t['false_action_rate_max'] * 100:.1f} %, lock recall ≥ {t['lock_recall_min'] * 100:.0f} %, "
        f"p95 ≤ {t['latency_p95_ms_max']:.0f} ms per message in process"
    )
    table = md_table(
        ["Language", "Utterances", "Macro-F1", "Wrong facts", "False actions", "Lock recall", "Handoffs",
         "Latency p50 / p95 (ms)"],
        rows,
    )  # fmt: skip
    return (
        f"Latest run of `make eval-assistant` (from `{LATEST}`, model `{result['model_version']}`):\n\n"
        f"{table}\nTargets ({targets}): {verdict}.\n"
    )


def assistant_eval_latest(app: Sphinx) -> str:
    path = repo_root(app) / LATEST
    if not path.exists():
        return render_assistant_eval(None)
    app.env.note_dependency(str(path))
    try:
        return render_assistant_eval(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        logger.warning(
            "%s is not an assistant evaluation result: %s",
            LATEST,
            exc,
            location=str(LATEST),
            type="futurebank",
            subtype="assistant-eval",
        )
        return ""


GENERATORS: dict[str, Generator] = {
    "assistant-eval-latest": assistant_eval_latest,
}
