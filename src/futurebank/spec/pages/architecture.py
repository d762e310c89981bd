"""Architecture pages: C4 diagrams and element tables generated from ``docs/architecture/c4.yaml``.

Each generator renders Graphviz DOT through Sphinx's own ``graphviz`` directive, so the site
builds offline (the local ``dot`` binary draws the SVG) and the diagrams cannot drift from the
model: there is no hand-drawn picture to forget to update.
"""

from __future__ import annotations

from pathlib import Path

from sphinx.application import Sphinx

from futurebank.spec.c4 import Model, container_dot, context_dot, load_model
from futurebank.spec.pages import Generator, md_escape, md_table, repo_root
from futurebank.spec.report import report
from futurebank.spec.rules import SpecFileError

MODEL_FILE = Path("architecture") / "c4.yaml"
FOCUS_SYSTEM = "futurebank"  # the system whose containers the container view shows


def _model(app: Sphinx) -> Model | None:
    path = Path(app.srcdir) / MODEL_FILE
    app.env.note_dependency(str(path))
    try:
        return load_model(path)
    except SpecFileError as exc:
        # report where the model is wrong; the page renders without the diagram
        report([exc.finding], repo_root(app))
        return None


def _graphviz(dot: str, caption: str, alt: str) -> str:
    return f"```{{graphviz}}\n:caption: {caption}\n:alt: {alt}\n:align: center\n\n{dot.rstrip()}\n```\n"


def _cell(text: str) -> str:
    return md_escape(" ".join(text.split()))


def c4_context(app: Sphinx) -> str:
    model = _model(app)
    if model is None:
        return ""
    return _graphviz(
        context_dot(model),
        "System context (C4 level 1), generated from docs/architecture/c4.yaml",
        "People and software systems around the futurebank platform and how they interact",
    )


def c4_containers(app: Sphinx) -> str:
    model = _model(app)
    if model is None:
        return ""
    return _graphviz(
        container_dot(model, FOCUS_SYSTEM),
        "Containers of the platform grouped by trust zone (C4 level 2), generated from c4.yaml",
        "Containers of the futurebank platform inside their trust zones, with the systems they call",
    )


def c4_elements(app: Sphinx) -> str:
    """Every element of the model as a table: the text behind the boxes."""
    model = _model(app)
    if model is None:
        return ""
    rows = []
    for element in model.elements.values():
        kind = element.kind if element.kind != "system" else f"system ({element.scope})"
        zone = model.zones[element.zone].name if element.zone else ""
        rows.append(
            [
                f"`{element.id}`",
                _cell(element.name),
                kind,
                _cell(element.technology),
                _cell(zone),
                _cell(element.description),
            ]
        )
    return md_table(["Id", "Name", "Kind", "Technology", "Trust zone", "Description"], rows)


def c4_relationships(app: Sphinx) -> str:
    """Every relationship of the model: the integration inventory."""
    model = _model(app)
    if model is None:
        return ""
    rows = [
        [
            _cell(model.elements[rel.source].name),
            _cell(model.elements[rel.destination].name),
            _cell(rel.description),
            _cell(rel.technology),
        ]
        for rel in model.relationships
    ]
    return md_table(["From", "To", "What", "Technology"], rows)


def c4_zones(app: Sphinx) -> str:
    """Trust zones and the containers each holds."""
    model = _model(app)
    if model is None:
        return ""
    rows = []
    for zone in model.zones.values():
        members = ", ".join(e.name for e in model.elements.values() if e.zone == zone.id)
        rows.append([_cell(zone.name), _cell(zone.description), _cell(members)])
    return md_table(["Trust zone", "What it protects", "Containers"], rows)


GENERATORS: dict[str, Generator] = {
    "c4-context": c4_context,
    "c4-containers": c4_containers,
    "c4-elements": c4_elements,
    "c4-relationships": c4_relationships,
    "c4-zones": c4_zones,
}
