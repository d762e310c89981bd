"""Helpers shared by the routers: links, Location headers, cursor positions."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request

from futurebank.sandbox.domain.errors import InvalidCursor
from futurebank.sandbox.entrypoints.deps import Container
from futurebank.sandbox.entrypoints.problems import uri_reference
from futurebank.sandbox.entrypoints.representations import API_PREFIX

__all__ = ["API_PREFIX", "links_for", "position_datetime", "self_link"]


def self_link(request: Request) -> str:
    query = request.url.query
    return uri_reference(request.url.path, query)


def links_for(request: Request, next_cursor: str | None) -> tuple[str, str | None]:
    """``self`` is the request as made; ``next`` is the same query with the new cursor."""
    if next_cursor is None:
        return self_link(request), None
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    params.append(("cursor", next_cursor))
    return self_link(request), request.url.path + "?" + urlencode(params)


def position_datetime(c: Container, collection: str, cursor: str | None) -> tuple[datetime, Any] | None:
    """Decode a (timestamp, tie-breaker) cursor position for ``collection``."""
    if cursor is None:
        return None
    position = c.cursors.decode(collection, cursor)
    try:
        at = datetime.fromisoformat(str(position[0]))
        return at, position[1]
    except (IndexError, ValueError, TypeError) as exc:  # pragma: no cover - MAC makes this unreachable
        raise InvalidCursor("The cursor is not valid for this collection.") from exc
