"""Baselines: the spec's needs and contracts frozen at a git commit, and the changes between two of them.

``futurebank baseline NAME`` writes ``docs/workshop/baselines/NAME.json``: the git commit of the working
tree, every need of a built ``needs.json`` with its content fields (the fields sphinx-needs derives, such
as back links, line numbers and layout, are left out) and a digest of every element of the contracts
(OpenAPI operations and schemas, AsyncAPI channels, operations and messages, entity schema properties).
:func:`diff` compares two snapshots field by field; the site page of changes since the latest baseline
and ``futurebank diff A B`` both print it with :func:`render_changes`.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from futurebank.spec.needs_json import load_needs

BASELINES_DIR = Path("workshop/baselines")  # under docs/
# Fields sphinx-needs computes or uses for layout: not part of what an item says.
_DERIVED_FIELDS = {
    "lineno",
    "lineno_content",
    "docname",
    "doctype",
    "sections",
    "section_name",
    "signature",
    "parent_need",
    "parent_needs",
    "id_complete",
    "id_parent",
    "content_id",
    "target_id",
    "collapse",
    "hide",
    "layout",
    "style",
    "template",
    "pre_template",
    "post_template",
    "constraints",
    "constraints_error",
    "constraints_passed",
    "constraints_results",
    "arch",
    "type_color",
    "type_style",
    "type_prefix",
    "type_name",
    "jinja_content",
    "parts",
    "modifications",
    "has_dead_links",
    "has_forbidden_dead_links",
    "full_title",
    "external_css",
    "external_url",
    "is_external",
    "is_modified",
    "is_need",
    "is_part",
    "is_import",
    "delete",
    "sphinx_needs_version",
    # the workshop's view of an item, not what it says: the agenda's sort key, the suspect marker
    "agenda_order",
    "suspect",
}


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def need_fields(need: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a need that say something: not derived by sphinx-needs, not empty."""
    kept: dict[str, Any] = {}
    for key, value in sorted(need.items()):
        if key in _DERIVED_FIELDS or key.endswith("_back") or key.startswith("is_"):
            continue
        if value in ("", None, [], {}):
            continue
        kept[key] = value
    return kept


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def contract_elements(docs: Path) -> dict[str, str]:
    """A digest of every contract element, by a readable key (``openapi GET /accounts``, …)."""
    elements: dict[str, str] = {}
    openapi = docs / "api" / "openapi.yaml"
    if openapi.is_file():
        data = _yaml(openapi) or {}
        for path, item in sorted((data.get("paths") or {}).items()):
            for method, operation in sorted(item.items()):
                if isinstance(operation, dict):
                    elements[f"openapi {method.upper()} {path}"] = _digest(operation)
        for name, schema in sorted(((data.get("components") or {}).get("schemas") or {}).items()):
            elements[f"openapi schema {name}"] = _digest(schema)
    asyncapi = docs / "api" / "asyncapi.yaml"
    if asyncapi.is_file():
        data = _yaml(asyncapi) or {}
        for section in ("channels", "operations"):
            for name, value in sorted((data.get(section) or {}).items()):
                elements[f"asyncapi {section[:-1]} {name}"] = _digest(value)
        for name, value in sorted(((data.get("components") or {}).get("messages") or {}).items()):
            elements[f"asyncapi message {name}"] = _digest(value)
    for schema_file in sorted((docs / "entities").glob("*.schema.yaml")):
        data = _yaml(schema_file) or {}
        entity = schema_file.name.removesuffix(".schema.yaml")
        rest = {k: v for k, v in data.items() if k != "properties"}
        elements[f"entity {entity}"] = _digest(rest)
        for prop, value in sorted((data.get("properties") or {}).items()):
            elements[f"entity {entity}.{prop}"] = _digest(value)
    return elements


def git_commit(root: Path) -> str:
    """The commit of the working tree at ``root``, ``+dirty`` when ``root`` has uncommitted changes."""

    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
        return result.stdout.strip() if result.returncode == 0 else ""

    commit = git("rev-parse", "HEAD") or "unknown"
    return commit + ("+dirty" if git("status", "--porcelain", "--", ".") else "")


def snapshot(needs_json: Path, docs: Path) -> dict[str, Any]:
    """The needs and contract elements of a build, without name, date or commit."""
    needs = load_needs(needs_json)
    return {
        "needs": {need_id: need_fields(need) for need_id, need in sorted(needs.items())},
        "contracts": contract_elements(docs),
    }


def make_baseline(name: str, needs_json: Path, docs: Path, *, commit: str | None = None) -> Path:
    """Write ``docs/workshop/baselines/NAME.json`` from a built needs.json and the contracts."""
    if not name or not all(c.isalnum() or c in "-_." for c in name) or name.startswith("."):
        raise ValueError(f"baseline name {name!r}: use letters, digits, '-', '_' and '.'")
    data = {
        "name": name,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": commit or git_commit(docs),
        **snapshot(needs_json, docs),
    }
    out = docs / BASELINES_DIR / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


def load_baseline(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data.get("needs"), dict) or not isinstance(data.get("contracts"), dict):
        raise ValueError(f"{path}: not a baseline (needs and contracts missing)")
    return data


def latest_baseline(docs: Path) -> Path | None:
    """The baseline created last (by its ``created`` time), or None."""
    found = sorted((load_baseline(p)["created"], p) for p in (docs / BASELINES_DIR).glob("*.json"))
    return found[-1][1] if found else None


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Changes:
    added: list[str]
    removed: list[str]
    changed: dict[str, list[FieldChange]]
    contracts_added: list[str]
    contracts_removed: list[str]
    contracts_changed: list[str]

    @property
    def status_changes(self) -> list[tuple[str, FieldChange]]:
        """(item, change) for every change of a status field (the workshop status, the MADR status)."""
        return [
            (need_id, change)
            for need_id, changes in self.changed.items()
            for change in changes
            if change.field in ("status", "adr_status")
        ]

    def empty(self) -> bool:
        return not (
            self.added
            or self.removed
            or self.changed
            or self.contracts_added
            or self.contracts_removed
            or self.contracts_changed
        )


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> Changes:
    """What changed from snapshot ``old`` to ``new``: needs field by field, contract elements by digest."""
    old_needs, new_needs = old["needs"], new["needs"]
    changed: dict[str, list[FieldChange]] = {}
    for need_id in sorted(set(old_needs) & set(new_needs)):
        a, b = old_needs[need_id], new_needs[need_id]
        fields = [FieldChange(f, a.get(f), b.get(f)) for f in sorted(set(a) | set(b)) if a.get(f) != b.get(f)]
        if fields:
            changed[need_id] = fields
    old_c, new_c = old["contracts"], new["contracts"]
    return Changes(
        added=sorted(set(new_needs) - set(old_needs)),
        removed=sorted(set(old_needs) - set(new_needs)),
        changed=changed,
        contracts_added=sorted(set(new_c) - set(old_c)),
        contracts_removed=sorted(set(old_c) - set(new_c)),
        contracts_changed=sorted(k for k in set(old_c) & set(new_c) if old_c[k] != new_c[k]),
    )


def short(value: Any, limit: int = 120) -> str:
    if value is None:
        return "(none)"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_changes(changes: Changes) -> str:
    """The changes as plain text lines (``futurebank diff``)."""
    if changes.empty():
        return "no changes\n"
    lines: list[str] = []
    for need_id in changes.added:
        lines.append(f"added   {need_id}")
    for need_id in changes.removed:
        lines.append(f"removed {need_id}")
    for need_id, fields in changes.changed.items():
        for change in fields:
            lines.append(f"changed {need_id} {change.field}: {short(change.old)} -> {short(change.new)}")
    for key in changes.contracts_added:
        lines.append(f"added   contract {key}")
    for key in changes.contracts_removed:
        lines.append(f"removed contract {key}")
    for key in changes.contracts_changed:
        lines.append(f"changed contract {key}")
    return "\n".join(lines) + "\n"
