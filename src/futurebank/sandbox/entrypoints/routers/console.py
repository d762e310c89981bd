"""Interactive API console that works offline: Swagger UI served from the locally installed
``fastapi-offline`` package (no CDN), pointed at the contract file itself.

The contract is served with its server and OAuth URLs rewritten to this sandbox's public origin, so
"Try it out" and "Authorize" reach it; nothing else in it is changed. The origin comes from the
configuration (the issuer, ``SANDBOX_ISSUER``, which ``serve`` derives from the bound host and port),
never from the request's ``Host`` header: a forged header must not point the console elsewhere.

The pages carry their own Content-Security-Policy: scripts only from this server (the console's
start-up script is a file, not inline), the OAuth redirect page's one inline script by its hash.
"""

from __future__ import annotations

import html
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_oauth2_redirect_html
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response

from futurebank.sandbox.config import Settings
from futurebank.sandbox.entrypoints.deps import container
from futurebank.sandbox.entrypoints.problems import problem_response, uri_reference
from futurebank.sandbox.entrypoints.security_headers import inline_script_hashes

router = APIRouter()

try:  # the assets ship in a wheel; without it the console says what to install
    import fastapi_offline

    ASSETS: Path | None = Path(fastapi_offline.__file__).parent / "static"
except ImportError:  # pragma: no cover - depends on the environment
    ASSETS = None

_ASSET_FILES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon.png": "image/png",
}


_OAUTH_REDIRECT = get_swagger_ui_oauth2_redirect_html()
# Swagger UI: its bundle and CSS from here; React sets style attributes and the CSS holds data: images;
# "Try it out" calls this server.
CONSOLE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self' {origin}; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
REDIRECT_POLICY = "default-src 'none'; script-src {hashes}; frame-ancestors 'none'; base-uri 'none'".format(
    hashes=" ".join(inline_script_hashes([bytes(_OAUTH_REDIRECT.body).decode("utf-8")]))
)


def public_origin(settings: Settings) -> str:
    """scheme://host[:port] of this sandbox as configured: the issuer without its ``/api/v1``."""
    base = settings.issuer.rstrip("/")
    return base.removesuffix("/api/v1")


def _origin(request: Request) -> str:
    return public_origin(container(request).settings)


def contract_at(origin: str, contract: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(json.dumps(contract))  # deep copy; the original stays as read
    doc["servers"] = [{"url": f"{origin}/api/v1", "description": "This sandbox"}]
    flows = doc.get("components", {}).get("securitySchemes", {}).get("oauth2", {}).get("flows", {})
    for flow in flows.values():
        for key in ("tokenUrl", "authorizationUrl"):
            if key in flow:
                flow[key] = origin + "/api/v1/oauth/" + flow[key].rstrip("/").rsplit("/", 1)[-1]
    return doc


@router.get("/console", name="console", include_in_schema=False)
async def console(request: Request) -> Response:
    if ASSETS is None:
        return PlainTextResponse(
            "The console needs the fastapi-offline package: pip install fastapi-offline", 503
        )
    origin = _origin(request)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>futurebank sandbox - API console</title>
<link rel="icon" href="/console/static/favicon.png">
<link rel="stylesheet" href="/console/static/swagger-ui.css"></head>
<body>
<div style="font:14px system-ui,sans-serif;margin:1em 2em">
<b>futurebank reference sandbox</b>. Authorize with the <i>authorizationCode</i> flow (client
<code>demo-app</code>, no secret needed with PKCE; pick a demo customer on the sign-in page), then
create a consent with <code>POST /consents</code> before reading accounts. Scripts:
<code>curl -s -d grant_type={html.escape("urn:futurebank:params:oauth:grant-type:demo-customer")}
-d customer=anna -u demo-app:demo-app-secret {html.escape(origin)}/api/v1/oauth/token</code>.
To talk to the AI assistant as a demo customer, open the <a href="/assistant-chat">assistant chat page</a>.
</div>
<div id="swagger-ui"></div>
<script src="/console/static/swagger-ui-bundle.js"></script>
<script src="/console/console.js"></script>
</body></html>"""
    return HTMLResponse(page, headers={"Content-Security-Policy": CONSOLE_POLICY.format(origin=origin)})


@router.get("/console/console.js", name="consoleScript", include_in_schema=False)
async def console_script(request: Request) -> Response:
    # A file rather than an inline script, so the console's policy allows scripts from this server only.
    config = {
        "url": "/console/openapi.yaml",
        "dom_id": "#swagger-ui",
        "layout": "BaseLayout",
        "deepLinking": True,
        "persistAuthorization": True,
        "validatorUrl": None,  # the default would call validator.swagger.io
        "oauth2RedirectUrl": _origin(request) + "/console/oauth2-redirect.html",
    }
    oauth = {"clientId": "demo-app", "usePkceWithAuthorizationCodeGrant": True, "scopes": []}
    script = (
        f"const ui = SwaggerUIBundle(Object.assign({json.dumps(config)}, "
        "{presets: [SwaggerUIBundle.presets.apis]}));\n"
        f"ui.initOAuth({json.dumps(oauth)});\n"
    )
    return Response(script, media_type="text/javascript")


@router.get("/console/openapi.yaml", name="consoleContract", include_in_schema=False)
async def console_contract(request: Request) -> Response:
    c = container(request)
    if c.contract_path is None or not c.contract_path.exists():
        return problem_response(
            "RESOURCE_NOT_FOUND", "The contract file is not found.", "/console/openapi.yaml"
        )
    stat = c.contract_path.stat()
    # In a worker thread: the first rendering of a version takes about a second.
    body = await run_in_threadpool(
        _rendered_contract, c.contract_path, stat.st_mtime_ns, stat.st_size, _origin(request)
    )
    return Response(body, media_type="application/yaml")


@lru_cache(maxsize=4)
def _rendered_contract(path: Path, _mtime_ns: int, _size: int, origin: str) -> bytes:
    """The contract as the console serves it, rendered once per version of the file and origin:
    parsing and dumping 170 KB of YAML takes about a second, and on the event loop, for every request,
    it stalled every other request of the server."""
    contract = yaml.safe_load(path.read_text(encoding="utf-8"))
    return yaml.safe_dump(contract_at(origin, contract), sort_keys=False, allow_unicode=True).encode("utf-8")


@router.get("/console/oauth2-redirect.html", name="consoleOAuthRedirect", include_in_schema=False)
async def console_oauth_redirect() -> Response:
    return HTMLResponse(bytes(_OAUTH_REDIRECT.body), headers={"Content-Security-Policy": REDIRECT_POLICY})


@router.get("/console/static/{name}", name="consoleAsset", include_in_schema=False)
async def console_asset(name: str) -> Response:
    if ASSETS is None or name not in _ASSET_FILES:
        return problem_response(
            "RESOURCE_NOT_FOUND", "No such console asset.", uri_reference(f"/console/static/{name}")
        )
    return FileResponse(ASSETS / name, media_type=_ASSET_FILES[name])
