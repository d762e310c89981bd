"""Long trace lists are collapsed behind their count; short ones are left as they are."""

from __future__ import annotations

from futurebank.spec.pages.page_polish import collapse_traces


def traces(n: int) -> str:
    links = ", ".join(
        f'<a class="reference internal" href="x.html#Q-{i:04d}">Q-{i:04d}</a>' for i in range(n)
    )
    return f'<div class="line">resolved by: <span class="traces"><span>{links}</span></span></div>'


def test_a_long_list_is_wrapped_in_details_with_its_count() -> None:
    out = collapse_traces(traces(9))
    assert '<details class="trace-list"><summary>9 items</summary>' in out
    assert out.count("<a ") == 9  # every link is still in the page


def test_a_short_list_is_unchanged() -> None:
    assert collapse_traces(traces(6)) == traces(6)


def test_each_list_is_judged_on_its_own() -> None:
    out = collapse_traces(traces(2) + traces(7))
    assert out.count("<details") == 1 and "<summary>7 items</summary>" in out
