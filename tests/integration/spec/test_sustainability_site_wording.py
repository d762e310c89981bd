"""The built site's sustainability pages follow the wording rules and show what the method page promises.

The text is read from each page's main article as a reader sees it (a table row on one line, every
chart tooltip on its own line), so "a figure without its range" is judged per row, sentence and tooltip.
"""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

from futurebank.footprint.wording import wording_problems

PAGES = ("sustainability/index.html", "stories/ep-0008-sustainable-finance.html")
BREAK_AFTER = {"p", "li", "tr", "h1", "h2", "h3", "h4", "div", "br", "title", "blockquote", "dt", "dd"}


class ArticleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # inside <article>
        self.skip = 0  # inside <script> or <style>
        self.parts: list[str] = []
        self.svgs = 0
        self.cell = 0  # inside <td> or <th>: a row stays on one line

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "article":
            self.depth += 1
        elif tag in {"script", "style"}:
            self.skip += 1
        elif tag == "svg" and self.depth:
            self.svgs += 1
        elif tag in {"td", "th"}:
            self.cell += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self.depth -= 1
        elif tag in {"script", "style"}:
            self.skip -= 1
        elif tag in {"td", "th"}:
            self.cell -= 1
            if self.depth:
                self.parts.append(" | ")
        elif self.depth and tag in BREAK_AFTER:
            self.parts.append(" " if self.cell else "\n")

    def handle_data(self, data: str) -> None:
        if self.depth and not self.skip:
            self.parts.append(data.replace("\n", " "))

    def text(self) -> str:
        return "".join(self.parts)


def article(site_dir: Path, page: str) -> ArticleText:
    parser = ArticleText()
    parser.feed((site_dir / page).read_text(encoding="utf-8"))
    return parser


@pytest.mark.parametrize("page", PAGES)
def test_the_built_page_follows_the_wording_rules(site_dir: Path, page: str) -> None:
    text = article(site_dir, page).text()
    assert len(text) > 500, f"{page}: no article text found"
    assert wording_problems(text) == [], page


def test_the_built_method_page_shows_formula_example_chart_and_limitations(site_dir: Path) -> None:
    parsed = article(site_dir, "sustainability/index.html")
    text = parsed.text()
    assert parsed.svgs == 1  # the chart, inline
    for heading in ("The formula", "Worked example", "months", "Limitations"):
        assert heading in text
    assert "CPI-U(2022) ÷ CPI-U(" in text and "OUT_OF_DATA_RANGE" in text
    assert "Total estimate: 20.122 (8.866 – 46.218) kg CO2e" in text  # the sandbox's figure for Anna
    assert "US factors for Russian spending" in text and "errs low" in text


def test_the_page_reader_catches_a_figure_without_its_range(tmp_path: Path) -> None:
    # The reader keeps a table row on one line: a bare figure in a row is caught, a figure whose range
    # is in another cell of its row is not; the navigation outside the article is not read.
    page = tmp_path / "page.html"
    page.write_text(
        "<html><body><nav>exact</nav><article><p>Intro.</p><table><tr><td><p>2026-07</p></td>"
        "<td><p>12.345 kg</p></td></tr><tr><td><p>2026-08</p></td><td><p>1.5 kg</p></td>"
        "<td><p>0.5 – 4.5</p></td></tr></table></article></body></html>",
        encoding="utf-8",
    )
    problems = wording_problems(article(tmp_path, "page.html").text())
    assert len(problems) == 1 and "a figure without its range" in problems[0]
