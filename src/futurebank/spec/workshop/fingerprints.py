"""Suspect links: every link records a fingerprint of the item it points to (Doorstop's approach).

An item depends on the items it links to upstream (:data:`UPSTREAM_LINKS`: the chat messages it traces
to, the scope decision it is scoped by, the epic it refines, the entity an operation exposes …) and on
every question that blocks it. The fingerprint of an item is a digest of what it says: its fields as
the build resolves them, without what sphinx-needs derives, and for an entity its schema file.

``docs/workshop/fingerprints.yaml`` keeps, for each item, the fingerprint of each upstream item when the
item was last reviewed. When an upstream item changes (a chat annotation, a scope decision, an answer,
an entity schema), its fingerprint no longer matches and the downstream item is *suspect* until
``futurebank review ID`` records the new fingerprints. The build computes the current fingerprints and
the suspects (:func:`compute_state`) and writes them to ``<site>/_workshop/state.json`` with a digest of
the sources it read; the CLI reads that file and refuses it when docs/ changed since (so review after
``make site``). A review counts at once: ``futurebank suspects`` compares the build's fingerprints with the
reviews recorded now.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from futurebank.spec.rules import Finding
from futurebank.spec.workshop.baseline import BASELINES_DIR, need_fields
from futurebank.spec.yaml_lines import load_located

FINGERPRINTS_FILE = Path("workshop/fingerprints.yaml")  # under docs/
STATE_FILE = Path("_workshop/state.json")  # under the site's output directory
# link types that point from an item to what it depends on
UPSTREAM_LINKS = (
    "traces",
    "scoped_by",
    "refines",
    "actor",
    "serves",
    "exposes",
    "measures",
    "mitigates",
    "cites",
)
# fields that say where an item stands, not what it says; never part of a fingerprint
_NOT_FINGERPRINTED = {"suspect", "agenda_order"}
_FINGERPRINT = re.compile(r"^[0-9a-f]{16}$")


def fingerprint(fields: Mapping[str, Any], extra: str = "") -> str:
    kept = {k: v for k, v in need_fields(fields).items() if k not in _NOT_FINGERPRINTED}
    text = json.dumps(kept, sort_keys=True, ensure_ascii=False, default=str) + extra
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _links(value: Any) -> list[str]:
    if not value:
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def upstream_of(needs: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    """Item id -> the ids it depends on: its upstream links and the questions that block it."""
    upstream: dict[str, set[str]] = {}
    for need_id, need in needs.items():
        for link in UPSTREAM_LINKS:
            for target in _links(need.get(link)):
                if target in needs and target != need_id:
                    upstream.setdefault(need_id, set()).add(target)
        for blocked in _links(need.get("blocks")):
            if blocked in needs:
                upstream.setdefault(blocked, set()).add(need_id)
    return {need_id: sorted(ids) for need_id, ids in sorted(upstream.items())}


def entity_schema_digest(docs: Path, need_id: str) -> str:
    """For ENT-Name, the digest of docs/entities/Name.schema.yaml (an entity is its schema)."""
    if not need_id.startswith("ENT-"):
        return ""
    schema = docs / "entities" / f"{need_id.removeprefix('ENT-')}.schema.yaml"
    return hashlib.sha256(schema.read_bytes()).hexdigest() if schema.is_file() else ""


class StaleState(ValueError):
    """The site build's state does not describe the docs tree as it is now."""


@dataclass(frozen=True)
class State:
    fingerprints: dict[str, str]
    upstream: dict[str, list[str]]
    suspects: dict[str, list[str]]  # item -> the upstream items that changed or were never reviewed
    sources: str = ""  # sources_digest of the docs the build read (no path: the site is published)

    def to_json(self) -> str:
        data = {
            "fingerprints": self.fingerprints,
            "upstream": self.upstream,
            "suspects": self.suspects,
            "sources": self.sources,
        }
        return json.dumps(data, indent=1, sort_keys=True) + "\n"

    @classmethod
    def read(cls, path: Path, docs: Path) -> State:
        """The state of the last site build of ``docs``; refused when docs/ changed since (its
        fingerprints would be stale, and a review would record them)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            state = cls(
                dict(data["fingerprints"]),
                dict(data["upstream"]),
                dict(data["suspects"]),
                str(data.get("sources", "")),  # absent: a build of older tooling, so stale
            )
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(
                f"{path}: no fingerprint state of a site build; run `make site` first ({exc})"
            ) from exc
        if not docs.is_dir() or sources_digest(docs) != state.sources:
            raise StaleState(
                f"{path}: {docs} is not what the site was built from, or changed after the build, so the "
                "fingerprints are stale; run `make site` first (or pass the --docs the site was built from)"
            )
        return state

    def current_suspects(self, docs: Path) -> dict[str, list[str]]:
        """The suspects against the reviews recorded now: a review after the build counts at once."""
        stored, _ = load_stored(docs)
        suspects: dict[str, list[str]] = {}
        for item, ups in self.upstream.items():
            changed = [up for up in ups if stored.get(item, {}).get(up) != self.fingerprints[up]]
            if changed:
                suspects[item] = changed
        return suspects


def sources_digest(docs: Path) -> str:
    """A digest of the files under ``docs`` a build reads for the items: not hidden files (an editor's
    swap file, .DS_Store), not the reviews (fingerprints.yaml, which ``review`` writes without a
    rebuild), not the baselines (``baseline`` writes them; no item's fingerprint depends on them)."""
    digest = hashlib.sha256()
    skipped = {docs / FINGERPRINTS_FILE}
    baselines = docs / BASELINES_DIR
    for path in sorted(docs.rglob("*")):
        relative = path.relative_to(docs)
        if (
            not path.is_file()
            or path in skipped
            or path.is_relative_to(baselines)
            or any(part.startswith(".") for part in relative.parts)
        ):
            continue
        digest.update(relative.as_posix().encode("utf-8") + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def load_stored(docs: Path) -> tuple[dict[str, dict[str, str]], list[Finding]]:
    """The reviewed fingerprints of docs/workshop/fingerprints.yaml, and R-68 findings on its shape."""
    path = docs / FINGERPRINTS_FILE
    if not path.is_file():
        return {}, []
    located = load_located(path)
    data = located.data or {}
    stored: dict[str, dict[str, str]] = {}
    findings: list[Finding] = []
    items = data.get("items") if isinstance(data, Mapping) else None
    if not isinstance(items, Mapping):
        return {}, [
            Finding("R-68-fingerprints-readable", path.name, "no items mapping", path, located.line(""))
        ]
    for item, links in items.items():
        ok = isinstance(links, Mapping) and all(
            isinstance(v, str) and _FINGERPRINT.match(v) for v in links.values()
        )
        if not ok:
            detail = "expected upstream id -> 16 hex digits"
            findings.append(
                Finding("R-68-fingerprints-readable", str(item), detail, path, located.line(f"/items/{item}"))
            )
            continue
        stored[str(item)] = {str(k): str(v) for k, v in links.items()}
    return stored, findings


def compute_state(
    needs: Mapping[str, Mapping[str, Any]], stored: Mapping[str, Mapping[str, str]], docs: Path
) -> State:
    fingerprints = {
        need_id: fingerprint(need, entity_schema_digest(docs, need_id))
        for need_id, need in sorted(needs.items())
    }
    upstream = upstream_of(needs)
    suspects: dict[str, list[str]] = {}
    for item, ups in upstream.items():
        reviewed = stored.get(item, {})
        changed = [up for up in ups if reviewed.get(up) != fingerprints[up]]
        if changed:
            suspects[item] = changed
    return State(fingerprints, upstream, suspects, sources_digest(docs))


def dump_stored(stored: Mapping[str, Mapping[str, str]]) -> str:
    lines = [
        "# Generated by `futurebank fingerprint` and `futurebank review ID`; do not edit by hand.",
        "# For each item, the fingerprint of every item it depends on when it was last reviewed; an item",
        "# whose upstream fingerprint no longer matches is suspect (futurebank.spec.workshop.fingerprints).",
        "items:",
    ]
    for item in sorted(stored):
        if stored[item]:
            lines.append(f"  {item}:")
            lines += [f"    {up}: '{fp}'" for up, fp in sorted(stored[item].items())]
    return "\n".join(lines) + "\n"


def review(docs: Path, state: State, items: Iterable[str] | None) -> list[str]:
    """Record the current upstream fingerprints of ``items`` (all items when None); returns those done."""
    stored, _ = load_stored(docs)
    chosen = sorted(state.upstream) if items is None else list(items)
    unknown = [item for item in chosen if item not in state.fingerprints]
    if unknown:
        raise ValueError(f"no such item in the last build: {', '.join(unknown)}")
    for item in chosen:
        stored[item] = {up: state.fingerprints[up] for up in state.upstream.get(item, [])}
    stored = {item: links for item, links in stored.items() if item in state.fingerprints}
    path = docs / FINGERPRINTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_stored(stored), encoding="utf-8")
    return chosen
