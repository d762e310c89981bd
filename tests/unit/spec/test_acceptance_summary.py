"""The front page reports the acceptance run it was built with, or says that there was none."""

from __future__ import annotations

from futurebank.spec.pages.acceptance_summary import render_summary


def test_no_run_is_said_plainly() -> None:
    assert render_summary(None).startswith("**This build did not run the acceptance scenarios**")


def test_counts_and_failures_are_shown() -> None:
    text = render_summary({"a": "passed", "b": "failed", "c": "skipped", "d": "passed"})
    assert "4 scenarios, 2 passed, 1 failed, 1 skipped; **some scenarios failed**" in text
    assert "all runnable scenarios passed" in render_summary({"a": "passed", "c": "skipped"})
