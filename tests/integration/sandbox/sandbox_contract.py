"""Reading the contract file (docs/api/openapi.yaml) for the generated tests."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CONTRACT = Path(__file__).resolve().parents[3] / "docs" / "api" / "openapi.yaml"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@cache
def contract() -> dict[str, Any]:
    data = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def resolve(node: Any) -> Any:
    """Follow a local ``$ref`` (one level at a time until a non-ref)."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = contract()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str  # upper case
    path: str  # as in the contract, relative to the server URL (/api/v1)
    spec: dict[str, Any]

    @property
    def scopes(self) -> list[str]:
        security = self.spec.get("security", contract().get("security", []))
        return [s for req in security for s in req.get("oauth2", [])]

    @property
    def parameters(self) -> list[dict[str, Any]]:
        item = contract()["paths"][self.path]
        return [resolve(p) for p in [*item.get("parameters", []), *self.spec.get("parameters", [])]]

    def example_body(self) -> Any | None:
        body = resolve(self.spec.get("requestBody", {}))
        media = body.get("content", {}).get("application/json")
        if not media:
            return None
        examples = media.get("examples") or {}
        if examples:
            return resolve(next(iter(examples.values())))["value"]
        return media.get("example")


def operations() -> list[Operation]:
    found = []
    for path, item in contract()["paths"].items():
        for method in METHODS:
            if method in item:
                found.append(Operation(item[method]["operationId"], method.upper(), path, item[method]))
    return found
