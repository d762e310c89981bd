"""How the sandbox's uvicorn runs (``serve``: the one way both entry points start it), and the
HTTP/1.1 protocol it runs: uvicorn's h11 protocol, except that a request it cannot parse gets an
RFC 9457 problem instead of uvicorn's plain-text 400.

Such requests never reach the ASGI app (h11 refuses them while parsing: a raw non-ASCII byte in the
request target, a malformed header line), so the middleware cannot answer them. ``serve`` passes
``HTTP_PROTOCOL`` as uvicorn's ``http=`` for ``futurebank.serve`` and ``python -m futurebank.sandbox
serve`` alike.
"""

from __future__ import annotations

import gc
import uuid
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from futurebank.sandbox.entrypoints.context import correlation_id_var
from futurebank.sandbox.entrypoints.problems import PROBLEM_MEDIA_TYPE, problem_body, uri_reference
from futurebank.sandbox.entrypoints.security_headers import COMMON_HEADERS, CSP, DATA_POLICY

_HEAD_BYTES = 8192  # enough for any request line the server would accept


class ProblemH11Protocol(H11Protocol):
    """uvicorn's h11 protocol answering unparseable requests with ``400 VALIDATION_FAILED``."""

    _head = b""

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:  # the request line is still being read: keep it
            buffered, _ = self.conn.trailing_data
            self._head = ((self._head if buffered else b"") + data)[:_HEAD_BYTES]
        super().data_received(data)

    def _target(self) -> str | None:
        line = self._head.split(b"\r\n", 1)[0].split(b"\n", 1)[0]
        parts = line.split(b" ")
        # UTF-8 as clients mean it; bytes that are not UTF-8 show as U+FFFD in ``instance``
        return parts[1].decode("utf-8", "replace") if len(parts) == 3 else None

    def send_400_response(self, msg: str) -> None:
        target = self._target()
        if target is not None and not target.isascii():
            detail = (
                "The request target must be ASCII: percent-encode any other character "
                "(RFC 3986, section 2.1), e.g. %C3%A9 for é."
            )
        else:
            detail = "The request is not valid HTTP/1.1 (RFC 9112)."
        cid = str(uuid.uuid4())
        token = correlation_id_var.set(cid)
        try:
            instance = uri_reference(target) if target and target.startswith("/") else "/"
            body = problem_body("VALIDATION_FAILED", detail, instance)
        finally:
            correlation_id_var.reset(token)
        headers = [
            (b"content-type", PROBLEM_MEDIA_TYPE.encode("ascii")),
            (b"connection", b"close"),
            (b"x-correlation-id", cid.encode("ascii")),
            (CSP, DATA_POLICY.encode("ascii")),
            *COMMON_HEADERS,
        ]
        for event in (
            h11.Response(status_code=400, headers=headers, reason=b"Bad Request"),
            h11.Data(data=body),
            h11.EndOfMessage(),
        ):
            self.transport.write(self.conn.send(event) or b"")
        self.transport.close()


HTTP_PROTOCOL = ProblemH11Protocol


def serve(app: Any, host: str, port: int) -> None:
    """Run ``app`` until interrupted: uvloop's event loop (about a tenth less CPU per request than
    asyncio's in ``make bench``), the problem-answering protocol above, uvicorn's own logs at warning
    (the sandbox writes its JSON access log itself).

    Before serving, every object alive after start-up (the app, the contract, the loaded modules) is
    moved out of the garbage collector's generations (``gc.freeze``): a full collection otherwise
    walks them all again, and those pauses were the slowest percent of ``make bench``'s requests
    (p99 about 2.5 times p50 without, about 1.3 times with)."""
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_level="warning", http=HTTP_PROTOCOL, loop="uvloop")
