"""The contract files of one spec tree, loaded with lines, and the navigation every check shares."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from futurebank.spec.rules import Finding, rule_texts
from futurebank.spec.stories.loading import load_stories
from futurebank.spec.yaml_lines import Located, load_located, pointer_join, resolve_pointer

RULES = rule_texts("contract")

PROBLEM_CODES_FILE = "problem-codes.yaml"  # under docs/api: the stable error codes (API-012)
PERSONAL_DATA_FILE = "personal-data-classes.yaml"  # under docs/entities: the classes of x-personal-data

# Stories that need no API operation, agreed with the spec-body helper, with the reason. A must story not
# listed here and not marked `release: later` fails R-34 unless an operation or event serves it.
STORIES_WITHOUT_API: dict[str, str] = {
    "US-0019": "compliance officers review transcripts in the bank's back-office tool, not through the "
    "retail API",
    "US-0023": "operations engineers use the platform's health, metrics and alerting endpoints (NFRs), "
    "not the retail API",
    "US-0024": "product analysts receive KPI events from the event stream (docs/api/asyncapi.yaml) and the "
    "analytics store, not the retail API",
    "US-0025": "compliance officers verify the audit log in a back-office tool (AuditLogEntry), not through "
    "the retail API",
}

# Cross-cutting stories that every operation serves through the conventions enforce on each
# one; the generated op needs link them, so x-stories in openapi.yaml stays the operation's own stories.
STORIES_SERVED_BY_EVERY_OPERATION: dict[str, str] = {
    "US-0026": "every operation answers errors as RFC 9457 problem+json with a stable code and echoes "
    "X-Correlation-ID (rules R-39, R-40; guideline API-010 to API-013)",
}

HTTP_METHODS = ("get", "put", "post", "delete", "patch")
OPENAPI_URI = "https://futurebank.example/spec/api/openapi.yaml"
ASYNCAPI_URI = "https://futurebank.example/spec/api/asyncapi.yaml"
ENTITY_URI = "https://futurebank.example/spec/entities/"
ENTITY_SUFFIX = ".schema.yaml"
# Keywords that define what a value may be; descriptions, examples and x- annotations may differ.
STRUCTURAL_KEYWORDS = (
    "type",
    "format",
    "enum",
    "const",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
)


@dataclass
class Story:
    id: str
    title: str = ""
    priority: str = ""
    release: str = ""


@dataclass
class Operation:
    operation_id: str
    method: str
    path: str
    pointer: str
    spec: dict[str, Any]

    @property
    def need_id(self) -> str:
        return f"OP-{self.operation_id}"


def _list_of(located: Located | None, key: str) -> list[Any]:
    """``located``'s list under ``key``; empty when the file is absent or not so shaped (a rule says so)."""
    data = located.data if located is not None else None
    entries = data.get(key) if isinstance(data, dict) else None
    return entries if isinstance(entries, list) else []


@dataclass
class Contract:
    """The contract files of one spec tree (``docs/``)."""

    docs: Path
    openapi: Located
    asyncapi: Located | None
    entities: dict[str, Located] = field(default_factory=dict)
    problem_codes: Located | None = None
    personal_data: Located | None = None

    @property
    def problem_type_base(self) -> str:
        """The URI a problem's ``type`` starts with (docs/api/problem-codes.yaml ``type_base``)."""
        data = self.problem_codes.data if self.problem_codes is not None else None
        base = data.get("type_base") if isinstance(data, dict) else None
        return base if isinstance(base, str) else ""

    @property
    def personal_data_classes(self) -> list[str]:
        """The classes an entity field's x-personal-data may name (personal-data-classes.yaml)."""
        return list(self.personal_data_labels)

    @property
    def personal_data_labels(self) -> dict[str, str]:
        """Each personal-data class with the short label the data dictionary shows (its name when none)."""
        return {
            str(entry["class"]): str(entry.get("label") or entry["class"])
            for entry in _list_of(self.personal_data, "classes")
            if isinstance(entry, dict) and isinstance(entry.get("class"), str) and entry["class"].strip()
        }

    @property
    def error_codes(self) -> dict[str, int]:
        """Each stable error code with its HTTP status, from docs/api/problem-codes.yaml. Entries that
        are not well formed are left out here; R-84 reports them."""
        table: dict[str, int] = {}
        for entry in _list_of(self.problem_codes, "codes"):
            if isinstance(entry, dict):
                code, status = entry.get("code"), entry.get("status")
                if isinstance(code, str) and isinstance(status, int) and code not in table:
                    table[code] = status
        return table

    @property
    def components(self) -> dict[str, Any]:
        schemas: dict[str, Any] = self.openapi.data.get("components", {}).get("schemas", {})
        return schemas

    def operations(self) -> list[Operation]:
        found: list[Operation] = []
        for path, item in (self.openapi.data.get("paths") or {}).items():
            for method in HTTP_METHODS:
                if method in item:
                    spec = item[method]
                    pointer = pointer_join("/paths", path, method)
                    found.append(Operation(str(spec.get("operationId", "")), method, path, pointer, spec))
        return found

    def event_operations(self) -> dict[str, dict[str, Any]]:
        if self.asyncapi is None:
            return {}
        operations: dict[str, dict[str, Any]] = self.asyncapi.data.get("operations") or {}
        return operations

    def registry(self) -> Registry[Any]:
        resources: list[tuple[str, Resource[Any]]] = [
            (OPENAPI_URI, Resource.from_contents(self.openapi.data, default_specification=DRAFT202012))
        ]
        if self.asyncapi is not None:
            resources.append(
                (ASYNCAPI_URI, Resource.from_contents(self.asyncapi.data, default_specification=DRAFT202012))
            )
        for name, entity in self.entities.items():
            uri = ENTITY_URI + name + ENTITY_SUFFIX
            resources.append((uri, Resource.from_contents(entity.data, default_specification=DRAFT202012)))
        return Registry().with_resources(resources)


def load_contract(docs: Path) -> Contract:
    api = docs / "api"
    asyncapi_path = api / "asyncapi.yaml"
    codes_path = api / PROBLEM_CODES_FILE
    classes_path = docs / "entities" / PERSONAL_DATA_FILE
    entities = {
        path.name.removesuffix(ENTITY_SUFFIX): load_located(path)
        for path in sorted((docs / "entities").glob("*" + ENTITY_SUFFIX))
    }
    return Contract(
        docs=docs,
        openapi=load_located(api / "openapi.yaml"),
        asyncapi=load_located(asyncapi_path) if asyncapi_path.exists() else None,
        entities=entities,
        problem_codes=load_located(codes_path) if codes_path.exists() else None,
        personal_data=load_located(classes_path) if classes_path.exists() else None,
    )


def deref(document: Any, node: Any) -> Any:
    """Follow local ``$ref`` chains (``#/...``) inside one document."""
    seen: set[str] = set()
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#"):
        ref = node["$ref"]
        if ref in seen:
            break
        seen.add(ref)
        node = resolve_pointer(document, ref[1:])
    return node


def component_name(ref: str) -> str | None:
    prefix = "#/components/schemas/"
    return ref[len(prefix) :] if ref.startswith(prefix) else None


def entity_of(component: dict[str, Any]) -> tuple[str, str] | None:
    """(kind, target) of a component: ("full", "Account") or ("input", "Card#/properties/controls")."""
    if "x-entity" in component:
        return "full", str(component["x-entity"])
    if "x-entity-input" in component:
        return "input", str(component["x-entity-input"])
    return None


def schema_refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from schema_refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from schema_refs(value)


def reachable_components(contract: Contract, node: Any) -> list[str]:
    """Component schema names reachable from ``node`` through $refs, in first-seen order."""
    seen: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        for ref in schema_refs(current):
            name = component_name(ref)
            if name and name not in seen and name in contract.components:
                seen.append(name)
                stack.append(contract.components[name])
    return seen


def exposed_entities(contract: Contract, operation: Operation) -> list[str]:
    """ENT names an operation reads or writes: entities behind its request body and success responses."""
    spec = operation.spec
    roots: list[Any] = []
    body = deref(contract.openapi.data, spec.get("requestBody"))
    if isinstance(body, dict):
        roots.append(body.get("content"))
    for status, response in (spec.get("responses") or {}).items():
        if str(status).startswith("2"):
            roots.append(deref(contract.openapi.data, response).get("content"))
    names: list[str] = []
    for name in reachable_components(contract, roots):
        link = entity_of(contract.components[name])
        if link is None:
            continue
        entity = link[1].split("#", 1)[0]
        entity_doc = contract.entities.get(entity)
        if entity_doc is not None and entity_doc.data.get("x-value-object"):
            continue
        if entity not in names:
            names.append(entity)
    return names


def operations_using(contract: Contract, component: str) -> list[str]:
    users = []
    for operation in contract.operations():
        if component in reachable_components(contract, operation.spec):
            users.append(operation.need_id)
    return users


def event_entities(contract: Contract, name: str) -> list[str]:
    """ENT names an AsyncAPI operation's messages carry (through payload $refs to entity files)."""
    if contract.asyncapi is None:
        return []
    doc = contract.asyncapi.data
    found: list[str] = []
    stack: list[Any] = [doc["operations"][name]]
    seen: set[str] = set()
    while stack:
        for ref in schema_refs(stack.pop()):
            if ref.endswith(ENTITY_SUFFIX):
                entity = ref.rsplit("/", 1)[-1].removesuffix(ENTITY_SUFFIX)
                if entity not in found:
                    found.append(entity)
            elif ref.startswith("#") and ref not in seen:
                seen.add(ref)
                try:
                    stack.append(resolve_pointer(doc, ref[1:]))
                except (KeyError, IndexError, ValueError):
                    continue
    return found


def validator_for(registry: Registry[Any], uri: str, pointer: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        {"$ref": f"{uri}#{pointer}"},
        registry=registry,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def validation_errors(validator: jsonschema.Draft202012Validator, instance: Any) -> list[str]:
    try:
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    except Exception as exc:  # an unresolvable $ref is itself the finding
        return [f"cannot validate: {exc}"]
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors]


SNAKE_CASE = re.compile(r"^[a-z_][a-z_0-9]*$")
CONSENT_SCOPES = {"accounts:read", "transactions:read"}


def _property_names(node: Any, pointer: str) -> Iterator[tuple[str, str, Any]]:
    """(pointer, property name, property schema) for every property in a schema tree."""
    if isinstance(node, dict):
        for name, prop in (
            (node.get("properties") or {}).items() if isinstance(node.get("properties"), dict) else []
        ):
            yield pointer_join(pointer, "properties", name), str(name), prop
        for key, value in node.items():
            if key not in ("examples", "example", "enum", "const", "default"):
                yield from _property_names(value, pointer_join(pointer, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _property_names(value, pointer_join(pointer, index))


def check_schema_style(doc: Located, root: Any, pointer: str, item: str, rule: str) -> list[Finding]:
    """snake_case property names (API-006) and no JSON numbers (API-007: amounts are decimal strings)."""
    findings: list[Finding] = []
    seen: set[str] = set()
    for prop_pointer, name, prop in _property_names(root, pointer):
        if prop_pointer in seen:
            continue
        seen.add(prop_pointer)
        if not SNAKE_CASE.match(name):
            findings.append(finding_at(rule, doc, prop_pointer, item, f"property {name!r} is not snake_case"))
        kinds = prop.get("type") if isinstance(prop, dict) else None
        if kinds == "number" or (isinstance(kinds, list) and "number" in kinds):
            findings.append(
                finding_at(
                    rule,
                    doc,
                    prop_pointer,
                    item,
                    f"property {name!r} is a JSON number; use a decimal string (Money)",
                )
            )
    return findings


def finding_at(rule: str, doc: Located, pointer: str, item: str, message: str) -> Finding:
    return Finding(rule, item, message, doc.path, doc.line(pointer), pointer)


def stories_from_markdown(docs: Path) -> dict[str, Story]:
    """Stories as written in the MyST pages under ``docs`` (read by the one story-directive reader)."""
    return {
        record.id: Story(record.id, record.title, record.priority, record.release)
        for record in load_stories(docs)
        if record.kind == "story" and record.id
    }
