"""What the HTTP edge reads from the contract file (docs/api/openapi.yaml) instead of typing it
again: each operation's required scopes (its ``security`` entry), the scopes a client app may hold
for itself (the client credentials flow), and the schema of each request field the payer's text
passes through (so adding such a field is adding it to the contract and the command)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

CONTRACT = Path(__file__).resolve().parents[4] / "docs" / "api" / "openapi.yaml"
PROBLEM_CODES = CONTRACT.with_name("problem-codes.yaml")  # the stable error codes (guideline API-012)
_METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class OperationSecurity:
    scopes: tuple[str, ...]  # every one is required
    customer_only: bool  # no client credentials token can hold these scopes: a customer must act


def _document(path: Path) -> dict[str, Any]:
    """The contract, parsed once per version of the file however many tables are read from it."""
    stat = path.stat()
    return _parse(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _parse(path: Path, _mtime_ns: int, _size: int) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return doc


def load_security(path: Path = CONTRACT) -> dict[str, OperationSecurity]:
    doc = _document(path)
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


class ContractMismatch(RuntimeError):
    """The code asks the contract for something it does not declare: the sandbox refuses to start."""


@dataclass(frozen=True)
class ProblemTable:
    type_base: str  # a problem's ``type`` is this URI followed by its code in lower-kebab-case
    codes: dict[str, tuple[int, str]]  # code -> (HTTP status, title), in the table's order


def load_problem_codes(path: Path = PROBLEM_CODES) -> ProblemTable:
    """The stable error codes with their HTTP status and title. The spec's R-84 checks the table
    itself; a file this server cannot read stops it (ContractMismatch)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        codes = {str(e["code"]): (int(e["status"]), str(e["title"])) for e in data["codes"]}
        return ProblemTable(str(data["type_base"]), codes)
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as exc:
        raise ContractMismatch(f"{path}: cannot read the stable error codes ({exc})") from None


def request_properties(
    schemas: tuple[str, ...], names: Iterable[str], path: Path = CONTRACT
) -> dict[str, dict[str, Any]]:
    """Each named field's property schema in the request body ``schemas`` (the branches of one
    ``oneOf`` body). Every branch must declare the field, and alike: the branches differ only in the
    fields that tell them apart."""
    declared = _document(path)["components"]["schemas"]
    found: dict[str, dict[str, Any]] = {}
    for name in names:
        variants = [declared[schema].get("properties", {}).get(name) for schema in schemas]
        missing = [schema for schema, prop in zip(schemas, variants, strict=True) if prop is None]
        if missing:
            raise ContractMismatch(
                f"{path.name}: request field {name!r} is not declared in {', '.join(missing)}"
            )
        if any(prop != variants[0] for prop in variants[1:]):
            raise ContractMismatch(
                f"{path.name}: request field {name!r} differs between {', '.join(schemas)}"
            )
        found[name] = variants[0]
    return found
