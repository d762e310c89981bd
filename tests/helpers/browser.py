"""Debian's Chromium through Playwright, offline: one launcher for every browser test.

The context refuses every request whose host is not a loopback host and records it; script errors and
Content-Security-Policy violations (Chromium reports those on the console) are recorded too, so a test
can assert that the page neither reached out nor broke.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass
class BrowserPage:
    """A page plus what it asked for and what it tried that it must not: reach another host, throw a
    script error, break the page's Content-Security-Policy."""

    page: Page
    requests: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    script_errors: list[str] = field(default_factory=list)
    policy_violations: list[str] = field(default_factory=list)

    def assert_stayed_home(self, host: str = "127.0.0.1") -> None:
        hosts = {urlsplit(url).hostname for url in self.requests}
        assert self.requests and hosts == {host}, f"requests left {host}: {sorted(hosts)}"
        assert self.blocked == [], f"requests to other hosts: {self.blocked}"
        assert self.script_errors == [], f"script errors: {self.script_errors}"
        assert self.policy_violations == [], f"CSP violations: {self.policy_violations}"


@contextlib.contextmanager
def offline_browser(allowed_hosts: frozenset[str] = LOOPBACK_HOSTS) -> Iterator[BrowserPage]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium with `apt-get install chromium`"
            " (or `scripts/bootstrap.sh chromium`)",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is missing: run `make setup`", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
        page = context.new_page()
        page.set_default_timeout(15_000)
        state = BrowserPage(page)

        def only_allowed(route: Route) -> None:
            # every request of the context passes here; anything not on an allowed host is refused
            url = route.request.url
            state.requests.append(url)
            if urlsplit(url).hostname in allowed_hosts:
                route.continue_()
            else:
                state.blocked.append(url)
                route.abort("blockedbyclient")

        context.route("**/*", only_allowed)
        page.on("pageerror", lambda error: state.script_errors.append(str(error)))
        context.on(
            "console",
            lambda m: state.policy_violations.append(m.text) if "Content Security Policy" in m.text else None,
        )
        try:
            yield state
        finally:
            context.close()
            browser.close()
