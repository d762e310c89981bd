"""``make run``: the spec site and the reference sandbox in one uvicorn process.

    python -m futurebank.serve --site build/site --host 127.0.0.1 --port 8000

* ``/``            the static spec site (``--site``, built by ``make site``)
* ``/api/v1/…``    the sandbox API (the contract docs/api/openapi.yaml), with its dev OAuth server
* ``/console``     interactive API console (Swagger UI served from local files: works offline)
* ``/assistant-chat``  a chat page to talk to the sandbox's AI assistant as a demo customer
* ``/health``, ``/ready``, ``/metrics``   operations endpoints of the sandbox

Sandbox configuration comes from the environment (``futurebank.sandbox.config``); its data lives
in ``build/sandbox`` unless ``SANDBOX_DATA_DIR`` or ``DATABASE_URL`` say otherwise.

Files and folders whose name starts with a dot (Sphinx's ``.doctrees/`` and ``.buildinfo``: pickles
holding absolute build paths) are not published: they answer 404. Every response carries security
headers (``futurebank.sandbox.entrypoints.security_headers``); the site's policy allows its own files
and its inline scripts by hash only.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

SANDBOX_PREFIXES = ("/api/v1/", "/console", "/assistant-chat")
SANDBOX_PATHS = {"/api/v1", "/health", "/ready", "/metrics"}


class Dispatcher:
    """Sends API, console and operations paths to the sandbox and everything else to the site."""

    def __init__(self, sandbox: ASGIApp, site: ASGIApp) -> None:
        self.sandbox = sandbox
        self.site = site

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or path in SANDBOX_PATHS or path.startswith(SANDBOX_PREFIXES):
            await self.sandbox(scope, receive, send)
        else:
            await self.site(scope, receive, send)


class PublicFiles(StaticFiles):
    """StaticFiles that never serves a hidden file or anything inside a hidden folder."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        if any(part.startswith(".") and part not in (".", "..") for part in Path(path).parts):
            raise HTTPException(status_code=404)
        response = await super().get_response(path, scope)
        if isinstance(response, RedirectResponse):
            # Starlette builds a folder's redirect from the request's Host header; a path alone keeps
            # the visitor on this server whatever the header says (and "//" would name another host).
            target = urlsplit(response.headers["location"])
            response.headers["location"] = urlunsplit(
                ("", "", "/" + target.path.lstrip("/"), target.query, "")
            )
        return response


def site_app(site: Path) -> ASGIApp:
    """The static spec site with its security headers."""
    from futurebank.sandbox.entrypoints.security_headers import SecurityHeaders, site_policy

    # StaticFiles raises HTTPException for a missing file; inside a Starlette app that becomes a
    # plain 404 page instead of an error escaping to the server.
    static = Starlette(routes=[Mount("/", app=PublicFiles(directory=site, html=True))])
    policy = site_policy(site)
    return SecurityHeaders(static, html_policy=policy, data_policy=policy)


def build_app(site: Path, host: str = "127.0.0.1", port: int = 8000) -> ASGIApp:
    from futurebank.sandbox.bootstrap import bootstrap
    from futurebank.sandbox.config import Settings
    from futurebank.sandbox.entrypoints.app import create_app

    issuer = os.environ.get("SANDBOX_ISSUER") or f"http://{host}:{port}/api/v1"
    sandbox = create_app(bootstrap(Settings.from_env(issuer=issuer)))
    return Dispatcher(sandbox, site_app(site))


def banner(host: str, port: int) -> str:
    origin = f"http://{host}:{port}"
    grant = "urn:futurebank:params:oauth:grant-type:demo-customer"
    return f"""
futurebank: spec site and reference sandbox
  spec site        {origin}/
  API console      {origin}/console   (offline Swagger UI; Authorize -> authorizationCode, client demo-app)
  assistant chat   {origin}/assistant-chat   (sign in as a demo customer and talk to the AI assistant)
  sandbox API      {origin}/api/v1    (contract: docs/api/openapi.yaml)
  health, metrics  {origin}/health  {origin}/ready  {origin}/metrics

A demo token (customers: anna, boris, vera, gleb; clients: demo-app, budget-app):
  curl -s -u demo-app:demo-app-secret -d grant_type={grant} -d customer=anna {origin}/api/v1/oauth/token
then, for example:
  curl -s -H "Authorization: Bearer $TOKEN" {origin}/api/v1/accounts
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m futurebank.serve", description="serve the spec site and the sandbox"
    )
    parser.add_argument("--site", default="build/site", help="the built spec site (make site)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--prometheus-port",
        type=int,
        default=0,
        help="also start Debian's Prometheus on 127.0.0.1 at this port, scraping the sandbox (0: no)",
    )
    parser.add_argument(
        "--prometheus-rules", default="build/ops/slo-rules.yml", help="rules it loads (make ops)"
    )
    args = parser.parse_args(argv)
    site = Path(args.site)
    if not (site / "index.html").is_file():
        print(f"{site}/index.html not found: build the site first (make site)", file=sys.stderr)
        return 2

    from futurebank.sandbox.entrypoints.contract import ContractMismatch
    from futurebank.sandbox.entrypoints.http_server import serve
    from futurebank.sandbox.entrypoints.observability import configure_logging

    configure_logging()
    try:
        app = build_app(site, args.host, args.port)
    except ContractMismatch as exc:
        print(f"serve: the sandbox does not start: {exc}", file=sys.stderr)
        return 2
    prometheus = None
    if args.prometheus_port:
        from futurebank import prometheus_server

        rules = Path(args.prometheus_rules)
        try:
            prometheus = prometheus_server.start(
                Path("build/prometheus"),
                f"{args.host}:{args.port}",
                args.prometheus_port,
                rules=rules if rules.is_file() else None,
            )
        except prometheus_server.PrometheusUnavailable as exc:
            print(f"serve: {exc}", file=sys.stderr)
            return 2
    print(banner(args.host, args.port), flush=True)
    if prometheus is not None:
        print(
            f"  prometheus       {prometheus.url}  (scrapes the sandbox every 5 s; rules from "
            f"{args.prometheus_rules}; try: futurebank rollout evaluate --stage RS-0002 "
            f"--prometheus {prometheus.url} --window 15m)",
            flush=True,
        )
    try:
        serve(app, args.host, args.port)
    finally:
        if prometheus is not None:
            prometheus.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
