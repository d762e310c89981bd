"""Idempotency keys (draft-ietf-httpapi-idempotency-key-header): the request fingerprint and the
decision taken when a key has been seen before."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum
from typing import Any

from futurebank.sandbox.domain.audit import canonical_json

MAX_KEY_LENGTH = 255


def fingerprint(method: str, path: str, body: Any) -> str:
    """Hash of what the request asks for. The parsed body is canonicalised so that whitespace or
    key order do not make an identical request look different."""
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical_json(body)).hexdigest()


class Decision(Enum):
    EXECUTE = "execute"
    REPLAY = "replay"
    REUSED = "reused"


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: str
    status: int
    body: bytes


def decide(stored: StoredResponse | None, request_fingerprint: str) -> Decision:
    if stored is None:
        return Decision.EXECUTE
    if stored.fingerprint != request_fingerprint:
        return Decision.REUSED
    return Decision.REPLAY
