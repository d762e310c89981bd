"""R-35, R-36, R-37: component schemas agree with the entity schemas; entities are annotated."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema

from futurebank.spec.contract.model import (
    ENTITY_SUFFIX,
    ENTITY_URI,
    PERSONAL_DATA_FILE,
    STRUCTURAL_KEYWORDS,
    Contract,
    check_schema_style,
    component_name,
    entity_of,
    finding_at,
    operations_using,
)
from futurebank.spec.rules import Finding
from futurebank.spec.yaml_lines import pointer_join, resolve_pointer


def _normal_ref_oas(contract: Contract, ref: str, stack: tuple[str, ...]) -> Any:
    name = component_name(ref)
    if name is None or name not in contract.components:
        return {"$unresolved": ref}
    link = entity_of(contract.components[name])
    if link is not None and link[0] == "full":
        return {"$entity": link[1]}
    if name in stack:
        return {"$cycle": name}
    return _normalize_oas(contract, contract.components[name], (*stack, name))


def _normalize_oas(contract: Contract, schema: Any, stack: tuple[str, ...] = ()) -> Any:
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        return _normal_ref_oas(contract, schema["$ref"], stack)
    out: dict[str, Any] = {k: schema[k] for k in STRUCTURAL_KEYWORDS if k in schema}
    if "properties" in schema:
        out["properties"] = {k: _normalize_oas(contract, v, stack) for k, v in schema["properties"].items()}
        out["required"] = sorted(schema.get("required", []))
    if "items" in schema:
        out["items"] = _normalize_oas(contract, schema["items"], stack)
    return out


def _normalize_entity(contract: Contract, entity: str, schema: Any, stack: tuple[str, ...] = ()) -> Any:
    if not isinstance(schema, dict):
        return schema
    if "$ref" in schema:
        ref = str(schema["$ref"])
        if ref.endswith(ENTITY_SUFFIX):
            return {"$entity": ref.rsplit("/", 1)[-1].removesuffix(ENTITY_SUFFIX)}
        if ref.startswith("#") and entity in contract.entities and ref not in stack:
            try:
                target = resolve_pointer(contract.entities[entity].data, ref[1:])
            except (KeyError, IndexError, ValueError):
                return {"$unresolved": ref}
            return _normalize_entity(contract, entity, target, (*stack, ref))
        return {"$unresolved": ref}
    out: dict[str, Any] = {k: schema[k] for k in STRUCTURAL_KEYWORDS if k in schema}
    if "properties" in schema:
        exposed = {
            k: v for k, v in schema["properties"].items() if not (isinstance(v, dict) and v.get("x-internal"))
        }
        out["properties"] = {k: _normalize_entity(contract, entity, v, stack) for k, v in exposed.items()}
        out["required"] = sorted(r for r in schema.get("required", []) if r in exposed)
    if "items" in schema:
        out["items"] = _normalize_entity(contract, entity, schema["items"], stack)
    return out


def _describe(value: Any) -> str:
    if isinstance(value, dict) and "$entity" in value:
        return f"ENT-{value['$entity']}"
    return json.dumps(value, ensure_ascii=False, sort_keys=True)[:120]


def compare_schemas(api: Any, entity: Any, path: str = "", subset: bool = False) -> list[str]:
    """Differences between a normalised component schema and a normalised entity schema.

    ``subset`` (request bodies): the component may omit entity fields and may require differently.
    """
    if not isinstance(api, dict) or not isinstance(entity, dict):
        return [] if api == entity else [f"{path or '(root)'}: {_describe(api)} != {_describe(entity)}"]
    if "$entity" in api or "$entity" in entity:
        if api.get("$entity") != entity.get("$entity"):
            return [f"{path or '(root)'}: API has {_describe(api)}, entity has {_describe(entity)}"]
        return []
    diffs: list[str] = []
    for keyword in STRUCTURAL_KEYWORDS:
        if api.get(keyword) != entity.get(keyword):
            diffs.append(
                f"{path or '(root)'}: {keyword} is {api.get(keyword)!r} in the API but "
                f"{entity.get(keyword)!r} in the entity"
            )
    api_props: dict[str, Any] = api.get("properties", {})
    entity_props: dict[str, Any] = entity.get("properties", {})
    for name in api_props:
        if name not in entity_props:
            diffs.append(f"{path}/{name}: field is in the API but not in the entity")
    if not subset:
        for name in entity_props:
            if name not in api_props:
                diffs.append(
                    f"{path}/{name}: entity field is missing from the API schema (mark it x-internal if it "
                    "is not exposed)"
                )
        has_properties = "properties" in api or "properties" in entity
        if has_properties and api.get("required", []) != entity.get("required", []):
            diffs.append(
                f"{path or '(root)'}: required is {api.get('required', [])} in the API but "
                f"{entity.get('required', [])} in the entity"
            )
    for name in api_props:
        if name in entity_props:
            diffs.extend(compare_schemas(api_props[name], entity_props[name], f"{path}/{name}", subset=False))
    if "items" in api or "items" in entity:
        diffs.extend(compare_schemas(api.get("items"), entity.get("items"), f"{path}/items", subset=False))
    return diffs


def check_schemas_match_entities(contract: Contract) -> list[Finding]:
    rule = "R-35-schema-matches-entity"
    findings: list[Finding] = []
    oas = contract.openapi
    for name, component in contract.components.items():
        pointer = pointer_join("/components/schemas", name)
        link = entity_of(component)
        if link is None:
            if name in contract.entities:
                findings.append(
                    finding_at(
                        rule,
                        oas,
                        pointer,
                        f"schema {name}",
                        f"schema has the name of ENT-{name} but no x-entity: {name}",
                    )
                )
            continue
        kind, target = link
        entity_name, _, entity_pointer = target.partition("#")
        if entity_name not in contract.entities:
            findings.append(
                finding_at(rule, oas, pointer, f"schema {name}", f"names unknown entity {entity_name!r}")
            )
            continue
        try:
            entity_schema = resolve_pointer(contract.entities[entity_name].data, entity_pointer)
        except (KeyError, IndexError, ValueError):
            findings.append(finding_at(rule, oas, pointer, f"schema {name}", f"no {target!r} in the entity"))
            continue
        api = _normalize_oas(contract, component, (name,))
        ent = _normalize_entity(contract, entity_name, entity_schema)
        users = operations_using(contract, name)
        used_by = f" (used by {', '.join(users)})" if users else ""
        for diff in compare_schemas(api, ent, subset=(kind == "input")):
            findings.append(
                finding_at(
                    rule, oas, pointer, f"schema {name}{used_by}", f"disagrees with ENT-{entity_name}: {diff}"
                )
            )
    return findings


def _entity_properties(node: Any, pointer: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(pointer, dotted field name, property schema) of every property, nested ones included."""

    def walk(schema: Any, pointer: str, prefix: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
        if not isinstance(schema, dict):
            return
        for name, prop in (schema.get("properties") or {}).items():
            prop_pointer = pointer_join(pointer, "properties", name)
            if isinstance(prop, dict):
                yield prop_pointer, prefix + name, prop
                yield from walk(prop, prop_pointer, f"{prefix}{name}.")
                if isinstance(prop.get("items"), dict):
                    yield from walk(prop["items"], pointer_join(prop_pointer, "items"), f"{prefix}{name}[].")

    yield from walk(node, pointer, "")
    for name, definition in (node.get("$defs") or {}).items() if isinstance(node, dict) else []:
        yield from walk(definition, pointer_join(pointer, "$defs", name), f"{name}.")


def check_entities(contract: Contract) -> list[Finding]:
    findings: list[Finding] = []
    classes = contract.personal_data_classes
    if not classes and contract.entities:
        path = contract.docs / "entities" / PERSONAL_DATA_FILE
        located = contract.personal_data
        line = located.line("/classes") if located is not None else 1
        findings.append(
            Finding(
                "R-36-entity-annotated",
                PERSONAL_DATA_FILE,
                "needs a list `classes`, each entry with a `class` name",
                path,
                line,
            )
        )
    for name, entity in contract.entities.items():
        item = f"ENT-{name}"
        data = entity.data
        problems: list[tuple[str, str]] = []
        if data.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
            problems.append(("/$schema", "$schema must be JSON Schema 2020-12"))
        if data.get("$id") != ENTITY_URI + name + ENTITY_SUFFIX:
            problems.append(("/$id", f"$id must be {ENTITY_URI + name + ENTITY_SUFFIX}"))
        if data.get("title") != name:
            problems.append(("/title", f"title must be {name!r} (the file name)"))
        if not data.get("description"):
            problems.append(("", "entity has no description"))
        if not data.get("examples"):
            problems.append(("", "entity has no examples"))
        try:
            jsonschema.Draft202012Validator.check_schema(data)
        except jsonschema.SchemaError as exc:
            problems.append(("", f"not a valid JSON Schema 2020-12: {exc.message}"))
        for pointer, field_name, prop in _entity_properties(data, ""):
            missing = [
                k for k in ("description", "examples", "x-personal-data", "x-retention") if not prop.get(k)
            ]
            if "type" not in prop and "$ref" not in prop:
                missing.insert(0, "type")
            if missing:
                problems.append((pointer, f"field {field_name} lacks {', '.join(missing)}"))
            pd = prop.get("x-personal-data")
            if pd is not None and pd not in classes:
                problems.append(
                    (
                        pointer,
                        f"field {field_name}: x-personal-data {pd!r} is not one of {classes} "
                        f"({PERSONAL_DATA_FILE})",
                    )
                )
            target = prop.get("x-references")
            if target is not None and target not in contract.entities:
                findings.append(
                    finding_at(
                        "R-37-entity-reference-exists",
                        entity,
                        pointer,
                        item,
                        f"field {field_name} references unknown entity {target!r}",
                    )
                )
        for pointer_ref in _ref_pointers(data, ""):
            ref = resolve_pointer(data, pointer_ref)
            if isinstance(ref, str) and ref.endswith(ENTITY_SUFFIX):
                target = ref.rsplit("/", 1)[-1].removesuffix(ENTITY_SUFFIX)
                if target not in contract.entities:
                    findings.append(
                        finding_at(
                            "R-37-entity-reference-exists",
                            entity,
                            pointer_ref,
                            item,
                            f"$ref to unknown entity file {ref!r}",
                        )
                    )
        findings.extend(finding_at("R-36-entity-annotated", entity, p, item, m) for p, m in problems)
        findings += check_schema_style(entity, data, "", item, "R-36-entity-annotated")
    return findings


def _ref_pointers(node: Any, pointer: str) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            child = pointer_join(pointer, key)
            if key == "$ref" and isinstance(value, str):
                yield child
            else:
                yield from _ref_pointers(value, child)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _ref_pointers(value, pointer_join(pointer, index))
