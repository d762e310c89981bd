"""``python -m futurebank.serve``: the spec site at /, the sandbox under /api/v1, and an API console
that works offline (Swagger UI from local files, pointed at the contract file)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import uvicorn
import yaml
from sandbox_helpers import bearer, free_port, token_for
from starlette.testclient import TestClient

from futurebank import serve
from futurebank.sandbox.entrypoints.routers import console

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("<!doctype html><title>spec</title><h1>The spec</h1>", encoding="utf-8")
    return root


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def app(site: Path, port: int, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> object:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SANDBOX_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SANDBOX_SEED", "0")
    monkeypatch.setenv("SANDBOX_ACCESS_LOG", "0")
    monkeypatch.delenv("SANDBOX_ISSUER", raising=False)
    return serve.build_app(site, "127.0.0.1", port)


def test_site_api_console_and_ops_share_one_server(app: object, port: int) -> None:
    with TestClient(app) as client:  # type: ignore[arg-type]
        assert "The spec" in client.get("/").text
        assert client.get("/no-such-page.html").status_code == 404
        assert client.get("/api/v1/accounts").json()["code"] == "UNAUTHENTICATED"
        assert client.get("/api/v1/accounts", headers=bearer(token_for(client))).status_code == 200
        assert client.get("/health").json() == {"status": "pass"}
        assert "http_server_request_duration_seconds" in client.get("/metrics").text
        page = client.get("/console")
        assert page.status_code == 200
        # Offline: every script, style, image and link the page loads is on this server.
        for url in re.findall(r'(?:src|href)="([^"]+)"', page.text):
            assert not urlsplit(url).netloc, f"the console loads {url} from another host"
        assert client.get("/console/static/swagger-ui-bundle.js").status_code == 200
        assert client.get("/console/static/swagger-ui.css").status_code == 200
        assert client.get("/console/static/../../etc/passwd").status_code == 404
        contract = yaml.safe_load(client.get("/console/openapi.yaml").text)
        origin = f"http://127.0.0.1:{port}"
        assert contract["servers"] == [{"url": f"{origin}/api/v1", "description": "This sandbox"}]
        flows = contract["components"]["securitySchemes"]["oauth2"]["flows"]
        assert flows["authorizationCode"]["authorizationUrl"] == f"{origin}/api/v1/oauth/authorize"
        assert (
            contract["paths"].keys()
            == yaml.safe_load(serve.Path("docs/api/openapi.yaml").read_text())["paths"].keys()
        )


def test_a_forged_host_header_does_not_rewrite_the_console_contract(app: object, port: int) -> None:
    origin = f"http://127.0.0.1:{port}"
    with TestClient(app) as client:  # type: ignore[arg-type]
        forged = {"Host": "evil.example:666", "X-Forwarded-Host": "evil.example"}
        text = client.get("/console/openapi.yaml", headers=forged).text
        assert "evil.example" not in text
        contract = yaml.safe_load(text)
        assert contract["servers"][0]["url"] == f"{origin}/api/v1"
        flows = contract["components"]["securitySchemes"]["oauth2"]["flows"]
        assert {f["tokenUrl"] for f in flows.values() if "tokenUrl" in f} == {f"{origin}/api/v1/oauth/token"}
        for page in ("/console", "/console/console.js"):
            assert "evil.example" not in client.get(page, headers=forged).text, page


def test_hidden_build_files_are_not_published(site: Path, app: object) -> None:
    # Sphinx writes these next to the pages: pickles with absolute paths of the build machine.
    (site / ".buildinfo").write_text("# Sphinx build info version 1\n", encoding="utf-8")
    (site / ".doctrees").mkdir()
    (site / ".doctrees" / "environment.pickle").write_bytes(b"\x80\x04pickle")
    (site / "api").mkdir()
    (site / "api" / ".hidden.html").write_text("secret", encoding="utf-8")
    with TestClient(app) as client:  # type: ignore[arg-type]
        for path in (
            "/.buildinfo",
            "/.doctrees/environment.pickle",
            "/%2Edoctrees/environment.pickle",
            "/api/.hidden.html",
            "/api/../.buildinfo",
        ):
            response = client.get(path)
            assert response.status_code == 404, path
            assert b"pickle" not in response.content and b"Sphinx" not in response.content, path
        assert client.get("/index.html").status_code == 200


def test_a_folder_redirect_stays_on_this_server_whatever_the_host_header(site: Path, app: object) -> None:
    (site / "api").mkdir()
    (site / "api" / "index.html").write_text("<!doctype html><title>api</title>", encoding="utf-8")
    with TestClient(app) as client:  # type: ignore[arg-type]
        r = client.get("/api?x=1", headers={"Host": "evil.example"}, follow_redirects=False)
        assert r.status_code in (301, 307, 308) and r.headers["location"] == "/api/?x=1", r.headers


def test_console_contract_is_rendered_once_per_version_of_the_file(app: object) -> None:
    """Each request re-parsed and re-dumped the 170 KB contract on the event loop (about a second):
    a few in flight stalled /health for over 5 s."""
    console._rendered_contract.cache_clear()
    with TestClient(app) as client:  # type: ignore[arg-type]
        first = client.get("/console/openapi.yaml")
        second = client.get("/console/openapi.yaml")
    assert first.status_code == second.status_code == 200 and first.content == second.content
    info = console._rendered_contract.cache_info()
    assert (info.misses, info.hits) == (1, 1)


def test_console_asset_not_found_is_a_problem(app: object) -> None:
    with TestClient(app) as client:  # type: ignore[arg-type]
        r = client.get("/console/static/nope.js")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "RESOURCE_NOT_FOUND"


def test_an_invented_method_adds_no_metric_series(app: object) -> None:
    """OpenTelemetry's HTTP conventions: a method outside the known set is reported as _OTHER."""
    with TestClient(app) as client:  # type: ignore[arg-type]
        for n in range(5):
            assert client.request(f"PROBE{n}", "/health").status_code == 405
        metrics = client.get("/metrics").text
    assert "PROBE" not in metrics
    assert 'http_request_method="_OTHER"' in metrics


def _csp(response: Any) -> dict[str, str]:
    policy = response.headers.get("content-security-policy", "")
    return {d.split()[0]: d.strip() for d in policy.split(";") if d.strip()}


def test_every_kind_of_page_sends_security_headers(app: object) -> None:
    with TestClient(app) as client:  # type: ignore[arg-type]
        sign_in = (
            "/api/v1/oauth/authorize?response_type=code&client_id=demo-app&redirect_uri=/console/x"
            "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
        )
        for path in (
            "/",
            "/no-such-page.html",
            "/console",
            "/console/console.js",
            "/console/openapi.yaml",
            "/console/oauth2-redirect.html",
            "/assistant-chat",
            "/assistant-chat/chat.js",
            "/assistant-chat/chat.css",
            "/assistant-chat/no-such-file.js",
            sign_in,
            "/api/v1/accounts",
            "/health",
        ):
            response = client.get(path)
            assert response.status_code in (200, 401, 404), (path, response.status_code)
            assert response.headers.get("x-content-type-options") == "nosniff", path
            assert response.headers.get("x-frame-options") == "DENY", path
            assert response.headers.get("referrer-policy") == "no-referrer", path
            policy = _csp(response)
            assert policy.get("frame-ancestors") == "frame-ancestors 'none'", (path, policy)
            # no page may run a script it did not name: no 'unsafe-inline' or 'unsafe-eval' for scripts
            scripts = policy.get("script-src", policy.get("default-src", ""))
            assert scripts and "unsafe" not in scripts, (path, policy)
        assert _csp(client.get("/api/v1/accounts"))["default-src"] == "default-src 'none'"


def test_the_assistant_chat_page_is_served_with_its_own_strict_policy(app: object) -> None:
    with TestClient(app) as client:  # type: ignore[arg-type]
        page = client.get("/assistant-chat")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "<h1>Talk to the AI assistant</h1>" in page.text
        # its script and stylesheet are files on this server; no inline script or style at all
        assert re.findall(r'(?:src|href)="(/assistant-chat/[^"]+)"', page.text) == [
            "/assistant-chat/chat.css",
            "/assistant-chat/chat.js",
        ]
        assert "<style" not in page.text and " style=" not in page.text
        assert not re.search(r"<script(?![^>]*\bsrc=)", page.text), "an inline script"
        policy = _csp(page)
        assert policy["default-src"] == "default-src 'none'"
        for directive in ("script-src", "style-src", "connect-src", "img-src"):
            assert policy[directive] == f"{directive} 'self'", policy  # this origin only, nothing inline
        assert policy["form-action"] == "form-action 'none'" and policy["base-uri"] == "base-uri 'none'"
        script = client.get("/assistant-chat/chat.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert "/assistant/conversations" in script.text and "/oauth/authorize" in script.text
        assert client.get("/assistant-chat/chat.css").headers["content-type"].startswith("text/css")
        missing = client.get("/assistant-chat/../app.py")
        assert missing.status_code == 404
        unknown = client.get("/assistant-chat/index.html")
        assert unknown.status_code == 404 and unknown.json()["code"] == "RESOURCE_NOT_FOUND"


def test_banner_says_how_to_get_a_token() -> None:
    text = serve.banner("127.0.0.1", 8000)
    assert "urn:futurebank:params:oauth:grant-type:demo-customer" in text and "/console" in text
    assert "http://127.0.0.1:8000/assistant-chat" in text


def test_missing_site_is_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert serve.main(["--site", str(tmp_path / "nothing")]) == 2
    assert "make site" in capsys.readouterr().err


@pytest.fixture
def served(app: object, port: int) -> Iterator[str]:
    # On the port the app was configured for: the console's contract names that origin.
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")  # type: ignore[arg-type]
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not (server.started and server.servers):
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.browser
def test_console_renders_the_contract_offline_in_chromium(served: str, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the browser check needs one backend; the API under it is covered on both")
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's Chromium with `apt-get install chromium`", pytrace=False
        )
    from playwright.sync_api import Route, sync_playwright

    blocked: list[str] = []
    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context()

        def only_loopback(route: Route) -> None:
            if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
                route.continue_()
            else:
                blocked.append(route.request.url)
                route.abort("blockedbyclient")

        context.route("**/*", only_loopback)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        # A Content-Security-Policy violation is reported on the console, not thrown.
        context.on(
            "console",
            lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None,
        )
        page.goto(f"{served}/console")
        page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
        assert "futurebank Retail API" in page.inner_text(".swagger-ui .info .title")
        assert page.locator(".opblock-summary-operation-id, .opblock").count() >= 21
        # Sign in through the authorization code flow (PKCE) and call an operation for real.
        page.click("button.authorize")
        flow = page.locator(".modal-ux .auth-container").filter(has_text="authorizationCode").first
        flow.locator("a", has_text="select all").first.click()
        with context.expect_page() as popup:
            flow.locator("button.authorize").click()
        sign_in = popup.value
        sign_in.wait_for_load_state()
        sign_in.click("button[type=submit]")  # the dev sign-in page: first demo customer, Approve
        page.wait_for_selector(".modal-ux button:has-text('Logout')")
        page.click(".modal-ux .close-modal")
        operation = page.locator("#operations-Accounts-listAccounts")
        operation.click()
        operation.locator("button.try-out__btn").click()
        operation.locator("button.execute").click()
        page.wait_for_selector("#operations-Accounts-listAccounts .live-responses-table .response-col_status")
        answer = operation.locator(".live-responses-table").inner_text()
        assert "200" in answer and '"account_number"' in answer, answer
        context.close()
        browser.close()
    assert not blocked, f"the console tried to reach other hosts: {blocked}"
    assert not errors, errors
    assert console.ASSETS is not None
