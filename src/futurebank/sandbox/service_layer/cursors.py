"""Opaque, tamper-evident paging cursors.

A cursor is base64url(JSON) of the last row's sort key plus a short HMAC over it and over the
collection it belongs to (path and filters). A cursor edited by hand, or replayed against another
collection or filter set, is refused with INVALID_CURSOR instead of silently returning wrong rows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from futurebank.sandbox.domain.errors import InvalidCursor

_MAC_BYTES = 12


class CursorCodec:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, collection: str, payload: bytes) -> bytes:
        return hmac.new(self._secret, collection.encode() + b"\0" + payload, hashlib.sha256).digest()[
            :_MAC_BYTES
        ]

    def encode(self, collection: str, position: list[Any]) -> str:
        payload = json.dumps(position, separators=(",", ":")).encode()
        raw = self._mac(collection, payload) + payload
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")

    def decode(self, collection: str, cursor: str) -> list[Any]:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError) as exc:
            raise InvalidCursor(
                "The cursor is not valid for this collection. Start again without a cursor."
            ) from exc
        mac, payload = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
        if len(mac) != _MAC_BYTES or not hmac.compare_digest(mac, self._mac(collection, payload)):
            raise InvalidCursor("The cursor is not valid for this collection. Start again without a cursor.")
        try:
            position = json.loads(payload)
        except ValueError as exc:  # pragma: no cover - a valid MAC implies we wrote the payload
            raise InvalidCursor("The cursor is not valid for this collection.") from exc
        if not isinstance(position, list):  # pragma: no cover - same reason
            raise InvalidCursor("The cursor is not valid for this collection.")
        return position
