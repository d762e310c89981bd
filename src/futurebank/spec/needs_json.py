"""The one reader of a built ``needs.json`` (sphinx-needs 9): the needs of its current version, by id."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any


class ExportError(ValueError):
    """needs.json cannot be exported as it is (unreadable, or older than the chat data)."""


def load_needs(needs_json: Path) -> dict[str, dict[str, Any]]:
    """The needs of the current version of a sphinx-needs 9 ``needs.json``, by id."""
    try:
        data = json.loads(needs_json.read_text(encoding="utf-8"))
        versions: Mapping[str, Any] = data["versions"]
        version = versions.get(data.get("current_version", ""))
        if version is None:  # a needs.json written with an explicit version only
            version = versions[sorted(versions)[-1]]
        needs: dict[str, dict[str, Any]] = version["needs"]
    except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise ExportError(f"{needs_json}: not a readable sphinx-needs needs.json ({exc})") from exc
    return needs
