"""The C4 model: a broken model names file, line and element; views are drawn from the model only."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from futurebank.spec.c4 import container_dot, context_dot, load_model
from futurebank.spec.rules import SpecFileError

REPO = Path(__file__).resolve().parents[3]
COMMITTED = REPO / "docs" / "architecture" / "c4.yaml"

GOOD = """\
zones:
  - id: edge
    name: Edge
    description: Reachable from the internet.
  - id: data
    name: Data
    description: Personal data.
people:
  - id: customer
    name: Customer
    description: Uses the app.
systems:
  - id: platform
    name: Platform
    scope: ours
    description: What we build.
    containers:
      - id: gateway
        name: Gateway
        zone: edge
        technology: HTTP
        description: Front door.
      - id: db
        name: Database
        zone: data
        shape: database
        technology: PostgreSQL
        description: State.
  - id: core_banking
    name: Core banking
    scope: bank
    description: System of record.
relationships:
  - source: customer
    destination: gateway
    description: Calls
    technology: HTTPS
  - source: gateway
    destination: db
    description: Reads and writes
  - source: gateway
    destination: core_banking
    description: Books transfers
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c4.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_good_model_loads_people_systems_containers_and_relationships(tmp_path: Path) -> None:
    model = load_model(write(tmp_path, GOOD))
    assert [p.id for p in model.people()] == ["customer"]
    assert [s.id for s in model.systems()] == ["platform", "core_banking"]
    assert [c.id for c in model.containers_of("platform")] == ["gateway", "db"]
    assert model.system_of("db") == "platform"
    assert len(model.relationships) == 3


def test_unknown_element_in_relationship_names_file_line_and_element(tmp_path: Path) -> None:
    bad = GOOD.replace("destination: core_banking", "destination: core_bankin")
    path = write(tmp_path, bad)
    with pytest.raises(SpecFileError) as caught:
        load_model(path)
    error = caught.value
    assert error.rule == "R-49-c4-element-known"
    assert error.path == str(path)
    assert "'core_bankin'" in error.detail
    # the line is the relationship's own entry, not the top of the file
    line_of_entry = bad.splitlines().index("    destination: core_bankin")  # 1-based line of "- source:"
    assert error.line == line_of_entry
    assert str(path) in str(error) and "core_bankin" in str(error)


def test_unknown_source_is_reported_too(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("  - source: customer", "  - source: nobody"))
    with pytest.raises(SpecFileError, match="source 'nobody'"):
        load_model(path)


def test_duplicate_id_across_kinds_fails(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("      - id: db\n", "      - id: customer\n"))
    with pytest.raises(SpecFileError) as caught:
        load_model(path)
    assert caught.value.rule == "R-48-c4-id-unique"
    assert "'customer'" in caught.value.detail


def test_container_in_undeclared_zone_fails(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("zone: data", "zone: vault"))
    with pytest.raises(SpecFileError) as caught:
        load_model(path)
    assert caught.value.rule == "R-50-c4-zone-known"
    assert "'db'" in caught.value.detail and "'vault'" in caught.value.detail


def test_missing_name_and_bad_scope_fail(tmp_path: Path) -> None:
    with pytest.raises(SpecFileError, match="has no 'name'") as missing:
        load_model(write(tmp_path, GOOD.replace("    name: Customer\n", "")))
    assert missing.value.rule == "R-46-c4-field-present"
    with pytest.raises(SpecFileError) as caught:
        load_model(write(tmp_path, GOOD.replace("scope: bank", "scope: partner")))
    assert caught.value.rule == "R-51-c4-scope-known"


def test_unknown_top_level_key_and_self_relationship_fail(tmp_path: Path) -> None:
    with pytest.raises(SpecFileError, match="unknown top-level keys: views") as unknown:
        load_model(write(tmp_path, GOOD + "views: []\n"))
    assert unknown.value.rule == "R-45-c4-shape"
    with pytest.raises(SpecFileError) as caught:
        load_model(write(tmp_path, GOOD.replace("destination: db", "destination: gateway")))
    assert caught.value.rule == "R-53-c4-no-self-relationship"


def test_context_view_lifts_container_links_to_systems(tmp_path: Path) -> None:
    dot = context_dot(load_model(write(tmp_path, GOOD)))
    assert dot.startswith("digraph c4_context {")
    assert '"customer" -> "platform"' in dot
    assert '"platform" -> "core_banking"' in dot
    # containers and links inside one system belong to the container view only
    assert '"gateway"' not in dot and '"db"' not in dot


def test_container_view_clusters_by_zone_and_keeps_outside_neighbours(tmp_path: Path) -> None:
    dot = container_dot(load_model(write(tmp_path, GOOD)), "platform")
    assert '"cluster_platform"' in dot
    assert '"cluster_zone_edge"' in dot and '"cluster_zone_data"' in dot
    assert '"gateway" -> "db"' in dot
    assert '"gateway" -> "core_banking"' in dot and '"customer" -> "gateway"' in dot
    assert "shape=cylinder" in dot
    assert "[HTTPS]" in dot  # the technology rides on the edge label


def test_labels_are_escaped_for_dot(tmp_path: Path) -> None:
    text = GOOD.replace("description: Uses the app.", 'description: Says "hi" \\ waves.')
    dot = context_dot(load_model(write(tmp_path, text)))
    assert '\\"hi\\" \\\\ waves' in dot


def test_container_view_of_an_unknown_system_fails(tmp_path: Path) -> None:
    with pytest.raises(SpecFileError, match="no software system 'nowhere'"):
        container_dot(load_model(write(tmp_path, GOOD)), "nowhere")


def test_committed_model_is_valid_and_draws_both_views() -> None:
    model = load_model(COMMITTED)
    assert "futurebank" in {s.id for s in model.systems()}
    assert context_dot(model).count("->") >= 10
    # every container of the platform appears in its container view
    dot = container_dot(model, "futurebank")
    for container in model.containers_of("futurebank"):
        assert f'"{container.id}"' in dot


def test_non_text_field_and_unknown_shape_fail(tmp_path: Path) -> None:
    with pytest.raises(SpecFileError) as caught:
        load_model(write(tmp_path, GOOD.replace("technology: PostgreSQL", "technology: [PostgreSQL]")))
    assert caught.value.rule == "R-47-c4-field-text"
    with pytest.raises(SpecFileError) as caught:
        load_model(write(tmp_path, GOOD.replace("shape: database", "shape: cloud")))
    assert caught.value.rule == "R-52-c4-shape-known"
    assert "'cloud'" in caught.value.detail


def test_a_model_that_is_not_yaml_names_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "relationships: [unclosed\n")
    with pytest.raises(SpecFileError) as caught:
        load_model(path)
    assert caught.value.rule == "R-44-yaml-syntax"
    assert caught.value.line > GOOD.count("\n")
