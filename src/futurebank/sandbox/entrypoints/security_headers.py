"""Security headers on every response of the sandbox and the spec site (OWASP Secure Headers).

A response may carry its own ``Content-Security-Policy`` (the console pages do: they load Swagger
UI); otherwise it gets the default for its media type. JSON and other data get the strictest policy
(nothing may load, nothing may frame it); HTML pages of the sandbox (the dev sign-in page) may use
their inline ``<style>`` and nothing else. Every response also says ``nosniff``, refuses framing in
the older ``X-Frame-Options`` form too, and sends no referrer (URLs can hold codes and ids).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Data (problem+json, JSON, YAML, metrics): a browser must not run or frame any of it.
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# Server-rendered HTML without scripts. No form-action: the sign-in form's answer redirects to the
# client's redirect_uri (another origin on the loopback), which form-action would block.
HTML_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)

COMMON_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
CSP = b"content-security-policy"


def script_hash(source: str) -> str:
    """A CSP source expression allowing exactly this inline script (CSP Level 3, hash-source)."""
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc\s*=)[^>]*>(.*?)</script>", re.S | re.I)


def inline_script_hashes(pages: Iterable[str]) -> list[str]:
    """The hash-sources of every inline ``<script>`` in the given HTML texts, sorted, no repeats."""
    return sorted({script_hash(m.group(1)) for text in pages for m in _INLINE_SCRIPT.finditer(text)})


def site_policy(site: Path) -> str:
    """The static spec site's policy: its own files only; its few inline scripts (Furo's theme
    switch, Sphinx's index options, sphinx-needs' loaders) by hash, so no other inline script runs.
    Styles may be inline (sphinx-needs writes style attributes); images may be data: URLs (Furo)."""
    hashes = inline_script_hashes(
        p.read_text(encoding="utf-8", errors="replace") for p in sorted(site.rglob("*.html"))
    )
    return "; ".join(
        (
            "default-src 'self'",
            " ".join(("script-src 'self'", *hashes)),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self' data:",
            "object-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "form-action 'self'",
        )
    )


class SecurityHeaders:
    """Adds the headers to every HTTP response; a CSP the response set itself is kept."""

    def __init__(self, app: ASGIApp, html_policy: str = HTML_POLICY, data_policy: str = DATA_POLICY) -> None:
        self.app = app
        self.html_policy = html_policy.encode("ascii")
        self.data_policy = data_policy.encode("ascii")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                if CSP not in names:
                    media = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                    html = media.split(b";")[0].strip().lower() == b"text/html"
                    headers.append((CSP, self.html_policy if html else self.data_policy))
                headers.extend(h for h in COMMON_HEADERS if h[0] not in names)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
