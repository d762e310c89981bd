"""A reader's path through the built site in a real browser: front page, search for a chat message,
the message on the chat page, and on to a spec item that resolves it. Nothing may leave the machine.

Debian's Chromium (``/usr/bin/chromium``) is driven through Playwright's Python client; Playwright's
own browser download is never used, so the test runs offline. The built site is served from 127.0.0.1
on a free port by the same application as ``make run`` (``futurebank.serve.site_app``: its security
headers and Content-Security-Policy included), and every request to any other host is refused and
recorded, as is every Content-Security-Policy violation.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn

from futurebank import serve
from helpers.browser import BrowserPage, offline_browser

if TYPE_CHECKING:
    pass

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def site_url(site_dir: Path) -> Iterator[str]:
    """Base URL of the built site served from 127.0.0.1 on a free port (never 8000)."""
    config = uvicorn.Config(
        serve.site_app(site_dir), host="127.0.0.1", port=0, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="site-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not (server.started and server.servers):
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the site server did not start", pytrace=False)
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def browser_page(site_url: str) -> Iterator[BrowserPage]:
    with offline_browser() as state:
        yield state


REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "build" / "screenshots"
SITE_TITLE = "Banking of the future — spec"


def resolved_message(site_dir: Path) -> tuple[str, list[str]]:
    """The first message (in chat order) that is not courtesy and is resolved, with its resolvers."""
    data: dict[str, Any] = json.loads((site_dir / "needs.json").read_text(encoding="utf-8"))
    needs: dict[str, dict[str, Any]] = data["versions"][data.get("current_version", "")]["needs"]
    for nid in sorted(n for n, need in needs.items() if need["type"] == "msg"):
        need = needs[nid]
        if need.get("disposition") != "courtesy" and need.get("traces_back"):
            return nid, sorted(need["traces_back"])
    pytest.fail("no chat message is resolved by any spec item")


def test_front_page_search_message_and_resolving_item(
    site_dir: Path, site_url: str, browser_page: BrowserPage
) -> None:
    from playwright.sync_api import expect  # after the fixture has checked that Playwright is installed

    msg_id, resolvers = resolved_message(site_dir)
    page = browser_page.page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    # 1. the front page
    page.goto(site_url + "index.html")
    assert page.title() == SITE_TITLE
    page.screenshot(path=str(SCREENSHOTS / "01-front-page.png"))

    # 2. search for the message id with Furo's search box; the chat page must be among the results
    page.fill("form.sidebar-search-container input[name=q]", msg_id)
    page.press("form.sidebar-search-container input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"/search\.html\?q="))
    summary = page.locator("#search-results .search-summary")
    summary.filter(has_text=re.compile(r"found|did not match")).wait_for()
    hits = page.locator("#search-results ul.search li a")
    hrefs = [hits.nth(i).get_attribute("href") or "" for i in range(hits.count())]
    chat_hits = [i for i, href in enumerate(hrefs) if re.match(r"^(\./)?chat/index\.html([?#]|$)", href)]
    assert chat_hits, f"searching {msg_id} did not find the chat page; results: {hrefs}"
    page.screenshot(path=str(SCREENSHOTS / "02-search-results.png"))

    # 3. open the chat page from the results and find the message
    hits.nth(chat_hits[0]).click()
    page.wait_for_url(re.compile(r"/chat/index\.html"))
    message = page.locator(f"table.need[id='{msg_id}']")
    message.scroll_into_view_if_needed()
    assert message.is_visible()
    assert message.locator(".needs-id").inner_text().strip() == msg_id
    message.screenshot(path=str(SCREENSHOTS / "03-chat-message.png"))

    # 4. the message's "resolved by" links (sphinx-needs renders incoming `traces` in the meta area)
    resolved_by = message.locator(
        "xpath=.//tr[contains(@class,'meta')]//div[@class='line']"
        "[starts-with(normalize-space(.), 'resolved by:')]/span[@class='traces']//a"
    )
    # a long list is collapsed behind its count (<details>); open it as a reader would
    message.locator("details.trace-list").evaluate_all("lists => lists.forEach(d => { d.open = true; })")
    shown = sorted(resolved_by.nth(i).inner_text().strip() for i in range(resolved_by.count()))
    assert shown == resolvers, f"{msg_id} shows resolved by {shown}; needs.json says {resolvers}"
    item_id = shown[0]
    resolved_by.filter(has_text=item_id).first.click()

    # 5. the target page shows that item: the browser lands on its anchor and the item is in view
    page.wait_for_url(re.compile(rf"#{re.escape(item_id)}$"))
    page.wait_for_load_state("load")
    assert "/chat/index.html" not in page.url, "the resolving item should live on its own page"
    target = page.locator(f"table.need[id='{item_id}']")
    expect(target).to_be_in_viewport()
    expect(target.locator(".needs-id").first).to_have_text(item_id)
    # and the item links back: its "traces to" names the message we came from
    expect(target.locator("tr.meta span.traces a").filter(has_text=msg_id)).to_have_count(1)
    page.screenshot(path=str(SCREENSHOTS / "04-resolving-item.png"))

    # nothing left the machine, and no script failed on the way
    assert browser_page.blocked == [], f"requests to other hosts: {browser_page.blocked}"
    assert browser_page.script_errors == [], f"script errors: {browser_page.script_errors}"
    assert browser_page.policy_violations == [], f"CSP violations: {browser_page.policy_violations}"


def test_the_site_policy_refuses_an_injected_inline_script(site_url: str, browser_page: BrowserPage) -> None:
    """The guard above works: the site's own inline scripts run, a foreign one is refused and reported."""
    page = browser_page.page
    page.goto(site_url + "index.html")
    # Furo's inline theme script (allowed by its hash) ran
    assert page.evaluate("() => document.body.dataset.theme") in ("auto", "light", "dark")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.injected = 1';"
        " document.head.appendChild(s); }"
    )
    assert page.evaluate("() => window.injected") is None
    page.wait_for_timeout(200)  # the console message arrives asynchronously
    assert any("inline script" in v for v in browser_page.policy_violations), browser_page.policy_violations


def test_requests_to_other_hosts_are_blocked_and_recorded(site_url: str, browser_page: BrowserPage) -> None:
    """The guard of the test above works: a page that tries to reach another host is caught. A script
    from another host is already refused by the site's policy, before any request; a navigation is not
    subject to it and reaches the guard."""
    page = browser_page.page
    page.goto(site_url + "index.html")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.src = 'https://cdn.example.com/x.js';"
        " document.head.appendChild(s); }"
    )
    page.wait_for_timeout(200)  # the console message arrives asynchronously
    assert any("cdn.example.com/x.js" in v for v in browser_page.policy_violations), browser_page
    with page.expect_event("requestfailed", lambda request: "cdn.example.com" in request.url):
        page.evaluate("() => { window.location.href = 'https://cdn.example.com/page.html'; }")
    assert browser_page.blocked == ["https://cdn.example.com/page.html"]


@pytest.mark.parametrize("query", ["бюджета", "бюджетом"])
def test_russian_search_finds_inflected_forms(query: str, site_url: str, browser_page: BrowserPage) -> None:
    """The chat page holds only «бюджет»; other case forms must find it (English stems stay as they were)."""
    page = browser_page.page
    page.goto(site_url + f"search.html?q={query}")
    summary = page.locator("#search-results .search-summary")
    summary.filter(has_text=re.compile(r"found|did not match")).wait_for()
    hits = page.locator("#search-results ul.search li a")
    hrefs = [hits.nth(i).get_attribute("href") or "" for i in range(hits.count())]
    assert any(re.match(r"^(\./)?chat/index\.html([?#]|$)", h) for h in hrefs), (
        f"searching {query!r} did not find the chat page; results: {hrefs}"
    )
    page.goto(site_url + "search.html?q=budgets")
    summary.filter(has_text=re.compile(r"found|did not match")).wait_for()
    assert hits.count() > 0, "the English stemmer no longer finds 'budget' pages for 'budgets'"
    assert browser_page.blocked == [], f"requests to other hosts: {browser_page.blocked}"
    assert browser_page.script_errors == [], f"script errors: {browser_page.script_errors}"
