"""RFC 9457 problem details with the contract's stable codes. Every error response goes through
``problem_response`` so the body shape, media type and headers are the same everywhere."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from starlette.responses import Response

from futurebank.sandbox.entrypoints.context import current_correlation_id
from futurebank.sandbox.entrypoints.contract import PROBLEM_CODES, ContractMismatch, load_problem_codes

PROBLEM_MEDIA_TYPE = "application/problem+json"
# The contract's table of stable codes (docs/api/problem-codes.yaml): code -> (HTTP status, title).
# Any unexpected error answers INTERNAL_ERROR, so the table must have it.
_TABLE = load_problem_codes()
TYPE_BASE = _TABLE.type_base
CODES: dict[str, tuple[int, str]] = _TABLE.codes
if "INTERNAL_ERROR" not in CODES:
    raise ContractMismatch(f"{PROBLEM_CODES}: the stable error codes lack INTERNAL_ERROR")


@dataclass(frozen=True)
class FieldError:
    pointer: str
    code: str
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"pointer": self.pointer, "code": self.code, "detail": self.detail}


@dataclass
class ProblemError(Exception):
    """Raise anywhere in the HTTP layer to answer with a problem."""

    code: str
    detail: str
    errors: Sequence[FieldError] = field(default_factory=tuple)
    headers: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.detail)


_URI_SAFE = "/:@!$&'()*+,;=-._~?%"


def uri_reference(path: str, query: str = "") -> str:
    """The request's path and query as an ASCII URI reference (RFC 3986), whatever bytes the
    client sent: non-ASCII and control characters are percent-encoded, so ``instance`` always
    matches the contract's ``format: uri-reference``."""
    text = path + ("?" + query if query else "")
    return quote(text, safe=_URI_SAFE)


def slug(code: str) -> str:
    return code.lower().replace("_", "-")


def problem_body(code: str, detail: str, instance: str, errors: Sequence[FieldError] = ()) -> bytes:
    status, title = CODES[code]
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug(code),
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
        "code": code,
        "correlation_id": current_correlation_id(),
    }
    if errors:
        body["errors"] = [e.as_json() for e in errors]
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def problem_response(
    code: str,
    detail: str,
    instance: str,
    errors: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
) -> Response:
    status = CODES[code][0]
    return Response(
        content=problem_body(code, detail, instance, errors),
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(headers or {}),
    )
