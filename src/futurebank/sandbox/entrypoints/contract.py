"""What the HTTP edge reads from the contract file (docs/api/openapi.yaml) instead of typing it
again: each operation's required scopes (its ``security`` entry) and the scopes a client app may
hold for itself (the client credentials flow)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

CONTRACT = Path(__file__).resolve().parents[4] / "docs" / "api" / "openapi.yaml"
_METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class OperationSecurity:
    scopes: tuple[str, ...]  # every one is required
    customer_only: bool  # no client credentials token can hold these scopes: a customer must act


def load_security(path: Path = CONTRACT) -> dict[str, OperationSecurity]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    flows = doc["components"]["securitySchemes"]["oauth2"]["flows"]
    app_scopes = set(flows["clientCredentials"]["scopes"])
    default = doc.get("security", [])
    table: dict[str, OperationSecurity] = {}
    for item in doc["paths"].values():
        for method in _METHODS:
            op = item.get(method)
            if op is None:
                continue
            requirements = op.get("security", default)
            scopes = tuple(s for req in requirements for s in req.get("oauth2", []))
            table[op["operationId"]] = OperationSecurity(
                scopes, customer_only=bool(scopes) and not set(scopes) <= app_scopes
            )
    return table


SECURITY = load_security()
