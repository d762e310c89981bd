"""Sphinx extension: long trace lists collapsed behind their count on the chat and scope pages.

A chat message or a scope decision can be resolved by twenty items; listed inline they push the text
apart. After sphinx-needs has rendered a page, a ``traces`` list longer than ``COLLAPSE_OVER`` links is
wrapped in ``<details>`` whose summary gives the count, so the list costs one line until it is opened.
The links stay in the page (search, find-in-page and the browser test still see them).
"""

from __future__ import annotations

import re
from typing import Any

from sphinx.application import Sphinx

COLLAPSE_OVER = 6
PAGES = ("chat/", "scope/")
TRACE_LIST = re.compile(r'<span class="traces"><span>(?P<links>(?:(?!</span>).)*)</span></span>', re.DOTALL)


def collapse_traces(body: str, limit: int = COLLAPSE_OVER) -> str:
    def wrap(match: re.Match[str]) -> str:
        count = match["links"].count("<a ")
        if count <= limit:
            return match[0]
        return (
            '<span class="traces"><details class="trace-list">'
            f"<summary>{count} items</summary><span>{match['links']}</span></details></span>"
        )

    return TRACE_LIST.sub(wrap, body)


def _on_page(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    if pagename.startswith(PAGES) and isinstance(context.get("body"), str):
        context["body"] = collapse_traces(context["body"])


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("html-page-context", _on_page)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
