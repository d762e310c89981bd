"""The AI NFR page shows the assistant evaluation file as measured, or says that no run exists."""

from __future__ import annotations

from futurebank.assistant_eval import TARGETS
from futurebank.spec.pages.assistant_eval import render_assistant_eval


def _result(failures: list[str]) -> dict:  # type: ignore[type-arg]
    language = {
        "utterances": 320,
        "macro_f1": 0.969,
        "wrong_facts": 0,
        "facts_checked": 363,
        "false_action_rate": 0.0,
        "lock_recall": 0.95,
        "handoff_rate": 0.122,
        "latency_ms": {"p50": 0.8, "p95": 9.6},
    }
    return {"targets": TARGETS, "languages": {"en": language}, "model_version": "m 1", "failures": failures}


def test_no_run_says_so() -> None:
    assert "No assistant evaluation has been run" in render_assistant_eval(None)


def test_figures_and_verdict() -> None:
    page = render_assistant_eval(_result([]))
    assert "| en | 320 | 0.969 | 0 of 363 |" in page and "met." in page
    assert "**not met**: en: lock recall 0.9" in render_assistant_eval(_result(["en: lock recall 0.9"]))
