"""The sandbox's assistant chat page in a real browser: a product lead signs in as a demo customer
through the dev authorisation server's sign-in page, asks in Russian and in English, sees each figure
with its fact, confirms a card lock and asks for a person. Nothing may leave 127.0.0.1.

The page is served by the same application as ``make run`` (``futurebank.serve.build_app``: site,
sandbox and security headers) from 127.0.0.1 on a free port, on fresh demo data. Debian's Chromium is
driven through Playwright; every request of the browser is recorded, any to another host is refused,
and script errors and Content-Security-Policy violations fail the test.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import uvicorn

from futurebank import serve
from helpers.browser import BrowserPage, offline_browser

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "build" / "screenshots"
DEMO_GRANT = "urn:futurebank:params:oauth:grant-type:demo-customer"
ANNA_DEBIT_CARD = "40000000-0000-4000-8000-000000000001"  # docs/stories/seed.yaml
ANNA_CURRENT = "20000000-0000-4000-8000-000000000001"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(site: Path, monkeypatch: pytest.MonkeyPatch, data: Path) -> Iterator[str]:
    port = _free_port()
    monkeypatch.setenv("SANDBOX_DATA_DIR", str(data))
    monkeypatch.setenv("SANDBOX_ACCESS_LOG", "0")
    for name in ("DATABASE_URL", "SANDBOX_ISSUER", "SANDBOX_SEED"):
        monkeypatch.delenv(name, raising=False)
    app = serve.build_app(site, "127.0.0.1", port)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="chat-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not (server.started and server.servers):
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the sandbox did not start", pytrace=False)
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The sandbox with a one-page stand-in site (the chat page needs none of the spec)."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>spec</title><h1>The spec</h1>", encoding="utf-8")
    yield from _serve(site, monkeypatch, tmp_path / "data")


@pytest.fixture
def served_with_site(site_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The sandbox beside the real built spec site, as ``make run`` serves them."""
    yield from _serve(site_dir, monkeypatch, tmp_path / "data")


Browser = BrowserPage


@pytest.fixture
def browser() -> Iterator[Browser]:
    with offline_browser(frozenset({"127.0.0.1"})) as state:
        yield state


def _sign_in(page: Page, base: str, customer: str = "anna") -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}/assistant-chat")
    expect(page.locator("#who")).to_have_text("Not signed in.")
    page.get_by_role("button", name="Sign in").click()
    # the dev authorisation server's own sign-in page: pick the demo customer and approve
    page.wait_for_url(re.compile(r"/api/v1/oauth/authorize\?"))
    page.check(f"input[name=customer][value={customer}]")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url(f"{base}/assistant-chat")  # back, with the code already taken out of the address
    expect(page.locator("#who")).to_have_text("Signed in as Anna Smirnova (demo customer).")


def _start(page: Page, language: str) -> None:
    page.get_by_label(language).check()
    page.get_by_role("button", name="Start a conversation").click()


def _lock_state(base: str) -> bool:
    token = httpx.post(
        f"{base}/api/v1/oauth/token",
        data={"grant_type": DEMO_GRANT, "customer": "anna", "scope": "cards:read"},
        auth=("demo-app", "demo-app-secret"),
    ).json()["access_token"]
    card = httpx.get(f"{base}/api/v1/cards/{ANNA_DEBIT_CARD}", headers={"Authorization": f"Bearer {token}"})
    assert card.status_code == 200, card.text
    locked: bool = card.json()["controls"]["locked"]
    return locked


def test_a_lead_talks_to_the_assistant(served: str, browser: Browser) -> None:
    from playwright.sync_api import expect

    page = browser.page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    _sign_in(page, served)
    transcript = page.locator("#transcript")
    assert transcript.get_attribute("aria-live") == "polite"

    # Russian: the disclosure first, then a balance question typed and sent with the keyboard
    _start(page, "Русский (ru-RU)")
    disclosure = transcript.locator("li.disclosure")
    expect(disclosure).to_contain_text("ИИ")
    assert disclosure.get_attribute("lang") == "ru"
    box = page.get_by_label("Your message")
    box.fill("Какой у меня баланс?")
    box.press("Enter")
    reply = page.locator("#transcript li.message.assistant").first
    expect(reply.locator(".label.ai")).to_have_text("AI-generated")
    expect(reply.locator(".intent")).to_have_text("intent: balance_inquiry")
    expect(reply.locator(".text")).to_contain_text(re.compile(r"24\s650,00"))  # ru-RU formatting
    fact = reply.locator("table.facts tr.fact").filter(has_text="ITAV").filter(has_text=ANNA_CURRENT)
    expect(fact.locator(".fact-value")).to_have_text("24650.00 RUB")
    expect(fact.locator(".fact-operation")).to_have_text("getAccountBalances")
    mine = transcript.locator("li.message.customer").first
    expect(mine.locator(".text")).to_have_text("Какой у меня баланс?")
    expect(mine.locator(".label")).to_have_count(0)  # only the server's messages carry its label
    page.screenshot(path=str(SCREENSHOTS / "chat-01-russian-balance.png"), full_page=True)

    # English, with the keyboard only: a new conversation, its own disclosure and the same figure
    page.get_by_label("Русский (ru-RU)").focus()
    page.keyboard.press("ArrowRight")  # the radio group moves to English
    expect(page.get_by_label("English (en-US)")).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Start a conversation")).to_be_focused()
    page.keyboard.press("Enter")
    expect(disclosure).to_contain_text("AI assistant")
    assert disclosure.get_attribute("lang") == "en"
    expect(transcript.locator("li.message")).to_have_count(1)  # the Russian transcript is gone
    box.fill("What is my balance?")
    page.get_by_role("button", name="Send").click()
    reply = page.locator("#transcript li.message.assistant").first
    expect(reply.locator(".label.ai")).to_have_text("AI-generated")
    expect(reply.locator(".text")).to_contain_text("24,650.00")
    fact = reply.locator("table.facts tr.fact").filter(has_text="ITAV").filter(has_text=ANNA_CURRENT)
    expect(fact.locator(".fact-value")).to_have_text("24650.00 RUB")
    expect(fact.locator(".fact-operation")).to_have_text("getAccountBalances")

    # a card lock: proposed first (nothing changes), locked only after the confirm button
    box.fill("Lock my card")
    box.press("Enter")
    proposal = page.locator("#transcript li.message.assistant").nth(1)
    expect(proposal.locator(".intent")).to_have_text("intent: card_lock")
    expect(proposal.locator(".proposal")).to_contain_text(ANNA_DEBIT_CARD)
    expect(proposal.locator(".no-facts")).to_be_visible()
    assert _lock_state(served) is False
    page.screenshot(path=str(SCREENSHOTS / "chat-02-lock-proposal.png"), full_page=True)
    proposal.get_by_role("button", name="Confirm", exact=True).click()
    done = page.locator("#transcript li.message.assistant").nth(2)
    expect(done.locator(".intent")).to_have_text("intent: card_lock")
    expect(done.locator(".text")).to_contain_text("locked")
    confirming = page.locator("#transcript li.message.customer").nth(2)
    expect(confirming.locator(".text")).to_have_text("Yes")
    expect(confirming).to_contain_text(f"Answers the proposal {proposal.get_attribute('data-message-id')}")
    expect(proposal.get_by_role("button", name="Confirm", exact=True)).to_be_disabled()
    assert _lock_state(served) is True

    # a person: the handoff and its status
    page.get_by_role("button", name="Talk to a human").click()
    status = page.locator("#handoff-status")
    expect(status).to_contain_text("Handed off to a person. Status: requested.")
    expect(status).to_contain_text("7 transcript messages passed to the agent.")
    page.get_by_role("button", name="Talk to a human").click()
    expect(status).to_contain_text("already handed off")
    page.screenshot(path=str(SCREENSHOTS / "chat-03-handoff.png"), full_page=True)

    expect(page.locator("#error")).to_be_hidden()
    browser.assert_stayed_home()


def test_errors_are_shown_in_words(served: str, browser: Browser) -> None:
    from playwright.sync_api import expect

    page = browser.page
    _sign_in(page, served)
    _start(page, "English (en-US)")
    # a message the contract refuses: longer than 2000 characters (the box's maxlength taken off first)
    page.evaluate("() => { document.getElementById('message-text').removeAttribute('maxlength'); }")
    page.get_by_label("Your message").fill("x" * 2001)
    page.get_by_role("button", name="Send").click()
    error = page.get_by_role("alert")
    expect(error).to_contain_text("Validation failed: The request body has 1 error.")
    expect(error).to_contain_text("/text: String should have at most 2000 characters.")
    expect(error).to_contain_text("HTTP 400, code VALIDATION_FAILED, correlation id ")
    # an expired or forged token: 401 in words, and the page asks to sign in again
    page.evaluate("() => sessionStorage.setItem('chat.token', 'not-a-token')")
    page.get_by_label("Your message").fill("What is my balance?")
    page.get_by_role("button", name="Send").click()
    expect(error).to_contain_text("Unauthenticated: The access token is missing, invalid or expired.")
    expect(error).to_contain_text("code UNAUTHENTICATED")
    expect(page.locator("#who")).to_have_text("Not signed in.")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    browser.assert_stayed_home()


def test_the_spec_site_links_to_the_chat_page(served_with_site: str, browser: Browser) -> None:
    """``make run``: from the spec's front page and from the console a reader reaches the chat page."""
    from playwright.sync_api import expect

    page = browser.page
    page.goto(f"{served_with_site}/index.html")
    page.locator("a[href='/assistant-chat']").first.click()
    page.wait_for_url(f"{served_with_site}/assistant-chat")
    expect(page.get_by_role("heading", level=1)).to_have_text("Talk to the AI assistant")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.goto(f"{served_with_site}/stories/ep-0007-ai-assistant.html")
    expect(page.locator("a[href='/assistant-chat']")).to_have_count(1)
    page.goto(f"{served_with_site}/console")
    page.get_by_role("link", name="assistant chat page").click()
    page.wait_for_url(f"{served_with_site}/assistant-chat")
    expect(page.get_by_role("heading", level=1)).to_have_text("Talk to the AI assistant")
    browser.assert_stayed_home()
