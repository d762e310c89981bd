"""The assistant chat page for product leads: ``GET /assistant-chat`` and its script and stylesheet.

Static files shipped in the package (``entrypoints/chat_page/``); the page signs in through the dev
authorisation server's authorization code flow (PKCE, public client ``demo-app``, redirect back to this
same-origin path) and then calls startConversation, sendAssistantMessage and requestHandoff like any app.
Nothing is loaded from another host: system fonts, no CDN.

The page carries its own Content-Security-Policy: its script and stylesheet from this server only, no
inline script or style at all, and ``fetch`` to this origin only.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response

router = APIRouter()

PAGE_DIR = Path(__file__).resolve().parents[1] / "chat_page"
PATH = "/assistant-chat"
_ASSETS = {"chat.js": "text/javascript", "chat.css": "text/css"}

CHAT_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
_HEADERS = {"Content-Security-Policy": CHAT_POLICY, "Cache-Control": "no-cache"}


@router.get(PATH, name="assistantChat", include_in_schema=False)
async def chat_page() -> Response:
    return FileResponse(PAGE_DIR / "index.html", media_type="text/html; charset=utf-8", headers=_HEADERS)


@router.get(PATH + "/{name}", name="assistantChatAsset", include_in_schema=False)
async def chat_asset(name: str) -> Response:
    if name not in _ASSETS:  # only the page's own files; the app answers a problem+json 404
        raise HTTPException(status_code=404)
    return FileResponse(PAGE_DIR / name, media_type=_ASSETS[name] + "; charset=utf-8", headers=_HEADERS)
