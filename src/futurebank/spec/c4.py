"""A small C4 model as data: people, software systems, containers, trust zones, relationships.

``docs/architecture/c4.yaml`` is the single source of the architecture diagrams. This module
loads it, checks it (every relationship names elements that exist, ids are unique, every
container sits in a declared trust zone) and renders two views as Graphviz DOT text:

* the system context view: people and software systems; relationships between containers are
  lifted to the systems that hold them, so the context view never disagrees with the containers;
* the container view of one system: its containers grouped by trust zone, plus the people and
  systems they talk to.

A broken model raises :class:`~futurebank.spec.rules.SpecFileError` naming the file, the
line and the offending element, so the Sphinx build can report it where it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from futurebank.spec.rules import SpecFileError
from futurebank.spec.yaml_lines import LineMap, load_with_lines

SCOPES = ("ours", "bank", "external")
CONTAINER_SHAPES = {"app": "box", "database": "cylinder", "queue": "cds", "store": "folder"}
# Fill colours per element role: ours stands out, the bank's existing systems are grey-blue,
# systems outside the bank are grey, people are dark blue (the usual C4 palette, toned down).
FILL = {
    "person": "#08427B",
    "ours": "#1168BD",
    "container": "#438DD5",
    "bank": "#5A7A99",
    "external": "#8C8C8C",
}


@dataclass(frozen=True)
class Zone:
    id: str
    name: str
    description: str
    line: int


@dataclass(frozen=True)
class Element:
    id: str
    name: str
    kind: str  # person | system | container
    description: str
    line: int
    scope: str = "external"  # for systems: ours | bank | external
    technology: str = ""
    shape: str = "app"  # for containers: app | database | queue | store
    parent: str | None = None  # for containers: the system that holds it
    zone: str | None = None  # for containers: the trust zone it runs in


@dataclass(frozen=True)
class Relationship:
    source: str
    destination: str
    description: str
    technology: str
    line: int


@dataclass
class Model:
    path: str
    zones: dict[str, Zone] = field(default_factory=dict)
    elements: dict[str, Element] = field(default_factory=dict)
    relationships: list[Relationship] = field(default_factory=list)

    def system_of(self, element_id: str) -> str:
        """The software system an element belongs to (a person or system is its own)."""
        element = self.elements[element_id]
        return element.parent if element.parent is not None else element.id

    def people(self) -> list[Element]:
        return [e for e in self.elements.values() if e.kind == "person"]

    def systems(self) -> list[Element]:
        return [e for e in self.elements.values() if e.kind == "system"]

    def containers_of(self, system_id: str) -> list[Element]:
        return [e for e in self.elements.values() if e.parent == system_id]


def _text(node: LineMap, key: str, path: str, what: str, required: bool = True) -> str:
    value = node.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise SpecFileError(path, node.line, "R-46-c4-field-present", f"{what} has no {key!r}")
        return ""
    if not isinstance(value, str):
        raise SpecFileError(path, node.line, "R-47-c4-field-text", f"{what}: {key!r} must be text")
    return value.strip()


def _list(doc: LineMap, key: str, path: str) -> list[Any]:
    value = doc.get(key) or []
    if not isinstance(value, list):
        raise SpecFileError(path, doc.line, "R-45-c4-shape", f"{key!r} must be a list")
    return value


def _mapping(node: Any, path: str, fallback_line: int, what: str) -> LineMap:
    if not isinstance(node, LineMap):
        raise SpecFileError(path, fallback_line, "R-45-c4-shape", f"each entry of {what} must be a mapping")
    return node


def parse_model(doc: Any, path: str) -> Model:
    """Build and check a model from loaded YAML (a LineMap); raise SpecFileError on any gap."""
    if not isinstance(doc, LineMap):
        raise SpecFileError(path, 1, "R-45-c4-shape", "the file must be a mapping with people, systems, ...")
    unknown_keys = set(doc) - {"zones", "people", "systems", "relationships"}
    if unknown_keys:
        raise SpecFileError(
            path, doc.line, "R-45-c4-shape", f"unknown top-level keys: {', '.join(sorted(unknown_keys))}"
        )
    model = Model(path=path)

    def add(element: Element) -> None:
        # one namespace for people, systems and containers: relationships name any of them
        if element.id in model.elements:
            first = model.elements[element.id].line
            raise SpecFileError(
                path,
                element.line,
                "R-48-c4-id-unique",
                f"element {element.id!r} is defined twice (first on line {first})",
            )
        model.elements[element.id] = element

    for raw in _list(doc, "zones", path):
        node = _mapping(raw, path, doc.line, "zones")
        zone_id = _text(node, "id", path, "a zone")
        zone = Zone(
            zone_id,
            _text(node, "name", path, f"zone {zone_id!r}"),
            _text(node, "description", path, f"zone {zone_id!r}"),
            node.line,
        )
        if zone.id in model.zones:
            raise SpecFileError(path, node.line, "R-48-c4-id-unique", f"zone {zone.id!r} is defined twice")
        model.zones[zone.id] = zone

    for raw in _list(doc, "people", path):
        node = _mapping(raw, path, doc.line, "people")
        ident = _text(node, "id", path, "a person")
        what = f"person {ident!r}"
        add(
            Element(
                ident,
                _text(node, "name", path, what),
                "person",
                _text(node, "description", path, what),
                node.line,
            )
        )

    for raw in _list(doc, "systems", path):
        node = _mapping(raw, path, doc.line, "systems")
        ident = _text(node, "id", path, "a system")
        what = f"system {ident!r}"
        scope = _text(node, "scope", path, what)
        if scope not in SCOPES:
            raise SpecFileError(
                path,
                node.line,
                "R-51-c4-scope-known",
                f"{what} has scope {scope!r}; allowed: {', '.join(SCOPES)}",
            )
        add(
            Element(
                ident,
                _text(node, "name", path, what),
                "system",
                _text(node, "description", path, what),
                node.line,
                scope=scope,
                technology=_text(node, "technology", path, what, required=False),
            )
        )
        containers = node.get("containers") or []
        if not isinstance(containers, list):
            raise SpecFileError(path, node.line, "R-45-c4-shape", f"{what}: 'containers' must be a list")
        for raw_container in containers:
            cnode = _mapping(raw_container, path, node.line, f"{what} containers")
            cid = _text(cnode, "id", path, f"a container of {what}")
            cwhat = f"container {cid!r}"
            shape = _text(cnode, "shape", path, cwhat, required=False) or "app"
            if shape not in CONTAINER_SHAPES:
                raise SpecFileError(
                    path,
                    cnode.line,
                    "R-52-c4-shape-known",
                    f"{cwhat} has shape {shape!r}; allowed: {', '.join(CONTAINER_SHAPES)}",
                )
            zone_id = _text(cnode, "zone", path, cwhat)
            if zone_id not in model.zones:
                raise SpecFileError(
                    path,
                    cnode.line,
                    "R-50-c4-zone-known",
                    f"{cwhat} is in zone {zone_id!r}, which is not declared under 'zones'",
                )
            add(
                Element(
                    cid,
                    _text(cnode, "name", path, cwhat),
                    "container",
                    _text(cnode, "description", path, cwhat),
                    cnode.line,
                    scope=scope,
                    technology=_text(cnode, "technology", path, cwhat),
                    shape=shape,
                    parent=ident,
                    zone=zone_id,
                )
            )

    for raw in _list(doc, "relationships", path):
        node = _mapping(raw, path, doc.line, "relationships")
        source = _text(node, "source", path, "a relationship")
        destination = _text(node, "destination", path, "a relationship")
        for end, ident in (("source", source), ("destination", destination)):
            if ident not in model.elements:
                raise SpecFileError(
                    path,
                    node.line,
                    "R-49-c4-element-known",
                    f"relationship {end} {ident!r} is not a person, system or container of the model",
                )
        if source == destination:
            raise SpecFileError(
                path, node.line, "R-53-c4-no-self-relationship", f"relationship from {source!r} to itself"
            )
        model.relationships.append(
            Relationship(
                source,
                destination,
                _text(node, "description", path, f"relationship {source} -> {destination}"),
                _text(node, "technology", path, "a relationship", required=False),
                node.line,
            )
        )
    return model


def load_model(path: Path) -> Model:
    """Load and check ``c4.yaml``; the error names the file, line and element."""
    return parse_model(load_with_lines(path), str(path))


# --- rendering -----------------------------------------------------------------------------


def _quote(text: str) -> str:
    """A DOT double-quoted string; line breaks become centred DOT breaks."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\n", "\\n") + '"'


def _wrap(text: str, width: int = 34) -> str:
    """Break a description into short lines so boxes stay narrow."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}".strip()
    if current:
        lines.append(current)
    return "\n".join(lines)


def _label(element: Element) -> str:
    kind = {"person": "Person", "system": "Software system", "container": "Container"}[element.kind]
    if element.kind == "system" and element.scope != "ours":
        kind = "Existing bank system" if element.scope == "bank" else "External system"
    if element.technology:
        kind = f"{kind}: {element.technology}"
    return f"{element.name}\n[{kind}]\n\n{_wrap(element.description)}"


def _fill(element: Element) -> str:
    if element.kind == "person":
        return FILL["person"]
    if element.kind == "container":
        return FILL["container"]
    return FILL[element.scope]


def _node(element: Element, indent: str = "  ") -> str:
    shape = "box"
    style = "rounded,filled"
    if element.kind == "container":
        shape = CONTAINER_SHAPES[element.shape]
        style = "filled" if shape != "box" else "rounded,filled"
    elif element.kind == "person":
        style = "rounded,filled,bold"
    return (
        f"{indent}{_quote(element.id)} [label={_quote(_label(element))}, shape={shape}, "
        f'style="{style}", fillcolor="{_fill(element)}", fontcolor="white"];'
    )


def _edge(source: str, destination: str, labels: Iterable[str], indent: str = "  ") -> str:
    text = "\n".join(_wrap(label, 28) for label in labels)
    return f"{indent}{_quote(source)} -> {_quote(destination)} [label={_quote(text)}];"


_HEADER = [
    "  rankdir=TB;",
    '  graph [fontname="Helvetica", fontsize=11, nodesep=0.6, ranksep=0.8];',
    '  node [fontname="Helvetica", fontsize=10, margin="0.15,0.08"];',
    '  edge [fontname="Helvetica", fontsize=9, color="#707070", fontcolor="#404040"];',
]


def _edge_text(relationship: Relationship) -> str:
    if relationship.technology:
        return f"{relationship.description} [{relationship.technology}]"
    return relationship.description


def context_dot(model: Model) -> str:
    """System context view: people and systems; container relationships lifted to systems."""
    lifted: dict[tuple[str, str], list[str]] = {}
    for rel in model.relationships:
        source, destination = model.system_of(rel.source), model.system_of(rel.destination)
        if source == destination:
            continue  # inside one system: a container-view detail
        descriptions = lifted.setdefault((source, destination), [])
        if rel.description not in descriptions:
            descriptions.append(rel.description)
    lines = ["digraph c4_context {", *_HEADER]
    for element in [*model.people(), *model.systems()]:
        lines.append(_node(element))
    for (source, destination), descriptions in lifted.items():
        # several container links between two systems: show at most three, then count the rest
        shown = descriptions[:3] + ([f"(+{len(descriptions) - 3} more)"] if len(descriptions) > 3 else [])
        lines.append(_edge(source, destination, shown))
    lines.append("}")
    return "\n".join(lines) + "\n"


def container_dot(model: Model, system_id: str) -> str:
    """Container view of one system: containers clustered by trust zone inside the system boundary."""
    if system_id not in model.elements or model.elements[system_id].kind != "system":
        raise SpecFileError(
            model.path, 1, "R-49-c4-element-known", f"no software system {system_id!r} to draw"
        )
    system = model.elements[system_id]
    inside = {c.id for c in model.containers_of(system_id)}
    neighbours: list[str] = []
    edges: dict[tuple[str, str], list[str]] = {}
    for rel in model.relationships:
        if rel.source not in inside and rel.destination not in inside:
            continue
        ends = []
        for ident in (rel.source, rel.destination):
            if ident in inside:
                ends.append(ident)
            else:
                outer = model.system_of(ident) if model.elements[ident].kind == "container" else ident
                if outer not in neighbours:
                    neighbours.append(outer)
                ends.append(outer)
        edges.setdefault((ends[0], ends[1]), []).append(_edge_text(rel))
    lines = ["digraph c4_containers {", *_HEADER, "  compound=true;"]
    for ident in neighbours:
        lines.append(_node(model.elements[ident]))
    lines.append(f"  subgraph {_quote('cluster_' + system.id)} {{")
    lines.append(f"    label={_quote(system.name + ' [Software system]')};")
    lines.append('    style="dashed"; color="#444444"; fontcolor="#222222";')
    for zone in model.zones.values():
        members = [c for c in model.containers_of(system_id) if c.zone == zone.id]
        if not members:
            continue
        lines.append(f"    subgraph {_quote('cluster_zone_' + zone.id)} {{")
        lines.append(f"      label={_quote('Trust zone: ' + zone.name)};")
        lines.append('      style="rounded,dotted"; color="#B03A2E"; fontcolor="#B03A2E";')
        lines.extend(_node(member, indent="      ") for member in members)
        lines.append("    }")
    lines.append("  }")
    for (source, destination), labels in edges.items():
        lines.append(_edge(source, destination, labels))
    lines.append("}")
    return "\n".join(lines) + "\n"
