"""Checks of the API contract: OpenAPI, AsyncAPI and the entity schemas, against each other and the stories.

Every check returns :class:`Finding` objects that name the file, the line (or JSON pointer), the item
(``OP-createPayment``, ``ENT-Account``, ``EVT-paymentCompleted``, a schema or example) and a stable rule id.
The Sphinx build reports them as warnings (``-W`` fails it, see ``futurebank.spec.pages.contract``), and the
tests call the same functions on broken fixtures. Spectral is a separate check (:func:`run_spectral`)
because it needs Node; the tests require it, the Sphinx build does not.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

# --- rules ------------------------------------------------------------------------------------------------

RULES: dict[str, str] = {
    "R-30-example-valid": "every example validates against the schema it illustrates (JSON Schema 2020-12)",
    "R-31-openapi-valid": "docs/api/openapi.yaml is a valid OpenAPI 3.1 document (openapi-spec-validator)",
    "R-32-operation-serves-story": "every operation has an operationId and x-stories with at least one "
    "story id",
    "R-33-story-exists": "every story id named by an operation or event exists in the spec",
    "R-34-must-story-has-api": "every must story that needs the API is served by an operation or an event",
    "R-35-schema-matches-entity": "a component schema that exposes an entity agrees with the entity schema",
    "R-36-entity-annotated": "every entity property has a type, description, examples, personal-data class "
    "and retention",
    "R-37-entity-reference-exists": "x-references and $ref name existing entities",
    "R-38-money-moving-idempotent": "a money-moving POST requires Idempotency-Key and documents its "
    "400/409/422",
    "R-39-operation-conventions": "scopes, X-Correlation-ID, 400/401/429/500, Retry-After, problem+json and "
    "an example on every response",
    "R-40-problem-code-status": "a problem example's code, status and type match the stable error-code table",
    "R-41-asyncapi-valid": "docs/api/asyncapi.yaml is AsyncAPI 3.0 with story-linked operations and entity "
    "payloads",
    "R-42-versioned-server": "the server URL carries the major version (/api/v1)",
    "R-43-spectral-clean": "Spectral lints openapi.yaml and asyncapi.yaml with 0 errors",
}

# The stable error codes and their HTTP status (the brief's table).
ERROR_CODES: dict[str, int] = {
    "MALFORMED_JSON": 400,
    "VALIDATION_FAILED": 400,
    "INVALID_CURSOR": 400,
    "IDEMPOTENCY_KEY_MISSING": 400,
    "UNAUTHENTICATED": 401,
    "INSUFFICIENT_SCOPE": 403,
    "CONSENT_REQUIRED": 403,
    "RESOURCE_NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "IDEMPOTENCY_KEY_IN_FLIGHT": 409,
    "CONSENT_NOT_ACTIVE": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "UNSUPPORTED_MEDIA_TYPE": 415,
    "IDEMPOTENCY_KEY_REUSED": 422,
    "INSUFFICIENT_FUNDS": 422,
    "CURRENCY_MISMATCH": 422,
    "SAME_ACCOUNT": 422,
    "CARD_CLOSED": 422,
    "RATE_LIMITED": 429,
    "INTERNAL_ERROR": 500,
    "NOT_IMPLEMENTED": 501,
    "DATABASE_BUSY": 503,
}
PROBLEM_TYPE_BASE = "https://futurebank.example/problems/"
SCOPES = [
    "consents",
    "profile:read",
    "accounts:read",
    "transactions:read",
    "payments:read",
    "payments:write",
    "cards:read",
    "cards:write",
    "assistant",
    "sustainability:read",
]
PERSONAL_DATA_CLASSES = ["none", "personal", "special", "biometric", "bank-secrecy"]

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
STORY_ID = re.compile(r"^US-[0-9]{4}$")
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


# --- located YAML -----------------------------------------------------------------------------------------


def escape_pointer(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointer_join(pointer: str, *tokens: str | int) -> str:
    return pointer + "".join("/" + escape_pointer(str(t)) for t in tokens)


def resolve_pointer(document: Any, pointer: str) -> Any:
    node = document
    for raw in pointer.split("/")[1:] if pointer else []:
        token = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


@dataclass
class Located:
    """A YAML document, where it came from, and the 1-based line of every JSON pointer in it."""

    path: Path
    data: Any
    lines: dict[str, int]

    def line(self, pointer: str) -> int:
        # the nearest enclosing node that has a line
        while pointer and pointer not in self.lines:
            pointer = pointer.rsplit("/", 1)[0]
        return self.lines.get(pointer, 1)


def load_located(path: Path) -> Located:
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    lines: dict[str, int] = {}

    def walk(node: yaml.Node, pointer: str) -> None:
        lines[pointer] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = pointer_join(pointer, str(key.value))
                walk(value, child)
                lines[child] = key.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, pointer_join(pointer, index))

    root = yaml.compose(text)
    if root is not None:
        walk(root, "")
    return Located(path, data, lines)


# --- findings ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    rule: str
    path: Path
    line: int
    pointer: str
    item: str
    message: str

    def location(self, root: Path | None = None) -> str:
        path = self.path
        if root is not None:
            with contextlib.suppress(ValueError):
                path = self.path.resolve().relative_to(root.resolve())
        return f"{path}:{self.line}"

    def text(self) -> str:
        """The warning text without location: item, rule, message and JSON pointer."""
        where = f" [{self.pointer}]" if self.pointer else ""
        return f"{self.item} breaks {self.rule}: {self.message}{where}"

    def __str__(self) -> str:
        return f"{self.location()}: {self.text()}"


def _finding(rule: str, doc: Located, pointer: str, item: str, message: str) -> Finding:
    return Finding(rule, doc.path, doc.line(pointer), pointer, item, message)


# --- the contract -----------------------------------------------------------------------------------------


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


@dataclass
class Contract:
    """The contract files of one spec tree (``docs/``)."""

    docs: Path
    openapi: Located
    asyncapi: Located | None
    entities: dict[str, Located] = field(default_factory=dict)

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
    entities = {
        path.name.removesuffix(ENTITY_SUFFIX): load_located(path)
        for path in sorted((docs / "entities").glob("*" + ENTITY_SUFFIX))
    }
    return Contract(
        docs=docs,
        openapi=load_located(api / "openapi.yaml"),
        asyncapi=load_located(asyncapi_path) if asyncapi_path.exists() else None,
        entities=entities,
    )


# --- helpers ----------------------------------------------------------------------------------------------


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


def _validator(registry: Registry[Any], uri: str, pointer: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        {"$ref": f"{uri}#{pointer}"},
        registry=registry,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def _errors(validator: jsonschema.Draft202012Validator, instance: Any) -> list[str]:
    try:
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
    except Exception as exc:  # an unresolvable $ref is itself the finding
        return [f"cannot validate: {exc}"]
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors]


# --- R-30 examples ----------------------------------------------------------------------------------------


def _schema_examples(node: Any, pointer: str) -> Iterator[tuple[str, int, Any]]:
    """(schema pointer, index, example) for every ``examples`` array inside a schema tree."""
    if isinstance(node, dict):
        examples = node.get("examples")
        if isinstance(examples, list) and ("type" in node or "$ref" in node or "properties" in node):
            for index, example in enumerate(examples):
                yield pointer, index, example
        for key, value in node.items():
            if key in ("examples", "example", "enum", "const", "default"):
                continue
            yield from _schema_examples(value, pointer_join(pointer, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _schema_examples(value, pointer_join(pointer, index))


def check_examples(contract: Contract) -> list[Finding]:
    rule = "R-30-example-valid"
    registry = contract.registry()
    findings: list[Finding] = []
    oas = contract.openapi

    def media_examples(content: Any, pointer: str, item: str) -> None:
        for media_type, media in (content or {}).items():
            media_pointer = pointer_join(pointer, "content", media_type)
            schema = media.get("schema")
            if schema is None:
                continue
            validator = _validator(registry, OPENAPI_URI, pointer_join(media_pointer, "schema"))
            examples = dict(media.get("examples") or {})
            if "example" in media:
                examples["example"] = {"value": media["example"]}
            for name, example in examples.items():
                example_pointer = pointer_join(media_pointer, "examples", name)
                ref = example.get("$ref") if isinstance(example, dict) else None
                resolved = deref(oas.data, example)
                if "value" not in resolved:
                    continue
                for error in _errors(validator, resolved["value"]):
                    where = f" (from {ref})" if ref else ""
                    findings.append(
                        _finding(
                            rule, oas, example_pointer, item, f"example {name!r}{where} is invalid: {error}"
                        )
                    )

    for operation in contract.operations():
        item = operation.need_id
        spec = operation.spec
        body = spec.get("requestBody")
        if isinstance(body, dict):
            body_pointer = pointer_join(operation.pointer, "requestBody")
            if "$ref" in body:
                body_pointer = body["$ref"][1:]
            media_examples(deref(oas.data, body).get("content"), body_pointer, item)
        for status, response in (spec.get("responses") or {}).items():
            response_pointer = pointer_join(operation.pointer, "responses", status)
            if isinstance(response, dict) and "$ref" in response:
                response_pointer = response["$ref"][1:]
            media_examples(deref(oas.data, response).get("content"), response_pointer, f"{item} {status}")
    # parameters and headers with an example
    components = oas.data.get("components", {})
    for group in ("parameters", "headers"):
        for name, spec in (components.get(group) or {}).items():
            pointer = pointer_join("/components", group, name)
            if "example" in spec and "schema" in spec:
                validator = _validator(registry, OPENAPI_URI, pointer_join(pointer, "schema"))
                for error in _errors(validator, spec["example"]):
                    findings.append(
                        _finding(rule, oas, pointer, f"{group[:-1]} {name}", f"example invalid: {error}")
                    )
    for path, item_spec in (oas.data.get("paths") or {}).items():
        for method in HTTP_METHODS:
            for index, parameter in enumerate((item_spec.get(method) or {}).get("parameters") or []):
                if "example" in parameter and "schema" in parameter:
                    pointer = pointer_join("/paths", path, method, "parameters", index)
                    validator = _validator(registry, OPENAPI_URI, pointer_join(pointer, "schema"))
                    for error in _errors(validator, parameter["example"]):
                        findings.append(
                            _finding(
                                rule,
                                oas,
                                pointer,
                                f"parameter {parameter.get('name')}",
                                f"example invalid: {error}",
                            )
                        )
    # schema-level examples in the component schemas
    for schema_pointer, index, example in _schema_examples(
        components.get("schemas") or {}, "/components/schemas"
    ):
        validator = _validator(registry, OPENAPI_URI, schema_pointer)
        for error in _errors(validator, example):
            name = schema_pointer.split("/")[3]
            findings.append(
                _finding(
                    rule,
                    oas,
                    pointer_join(schema_pointer, "examples", index),
                    f"schema {name}",
                    f"schema example #{index} is invalid: {error}",
                )
            )
    # entity schemas
    for name, entity in contract.entities.items():
        uri = ENTITY_URI + name + ENTITY_SUFFIX
        for schema_pointer, index, example in _schema_examples(entity.data, ""):
            validator = _validator(registry, uri, schema_pointer)
            for error in _errors(validator, example):
                findings.append(
                    _finding(
                        rule,
                        entity,
                        pointer_join(schema_pointer, "examples", index),
                        f"ENT-{name}",
                        f"example #{index} is invalid: {error}",
                    )
                )
    # AsyncAPI message examples
    if contract.asyncapi is not None:
        doc = contract.asyncapi
        for name, message in ((doc.data.get("components") or {}).get("messages") or {}).items():
            pointer = pointer_join("/components/messages", name)
            if "payload" not in message:
                continue
            validator = _validator(registry, ASYNCAPI_URI, pointer_join(pointer, "payload"))
            for index, example in enumerate(message.get("examples") or []):
                for error in _errors(validator, example.get("payload")):
                    findings.append(
                        _finding(
                            rule,
                            doc,
                            pointer_join(pointer, "examples", index),
                            f"EVT-{name}",
                            f"example {example.get('name', index)!r} is invalid: {error}",
                        )
                    )
    return findings


# --- R-31 OpenAPI validity --------------------------------------------------------------------------------


def check_openapi_valid(contract: Contract) -> list[Finding]:
    from openapi_spec_validator import OpenAPIV31SpecValidator

    findings: list[Finding] = []
    oas = contract.openapi
    if oas.data.get("openapi", "").split(".")[:2] != ["3", "1"]:
        findings.append(
            _finding(
                "R-31-openapi-valid", oas, "/openapi", "openapi.yaml", "the document must be OpenAPI 3.1"
            )
        )
    errors: list[Exception]
    try:
        errors = list(OpenAPIV31SpecValidator(oas.data, base_uri=oas.path.resolve().as_uri()).iter_errors())
    except Exception as exc:  # the validator raises on unresolvable references
        errors = [exc]
    for error in errors:
        path = getattr(error, "path", None) or []
        pointer = pointer_join("", *path) if path else ""
        message = str(getattr(error, "message", error)).splitlines()[0]
        findings.append(_finding("R-31-openapi-valid", oas, pointer, "openapi.yaml", message))
    return findings


# --- R-32/33/34 stories -----------------------------------------------------------------------------------


def check_operations_serve_stories(contract: Contract, stories: dict[str, Story] | None) -> list[Finding]:
    """R-32 always; R-33 and R-34 when the spec's stories are known."""
    findings: list[Finding] = []
    oas = contract.openapi
    served: set[str] = set()
    for operation in contract.operations():
        item = operation.need_id if operation.operation_id else f"{operation.method.upper()} {operation.path}"
        if not operation.operation_id:
            findings.append(
                _finding("R-32-operation-serves-story", oas, operation.pointer, item, "no operationId")
            )
        story_ids = operation.spec.get("x-stories")
        if not isinstance(story_ids, list) or not story_ids:
            findings.append(
                _finding(
                    "R-32-operation-serves-story",
                    oas,
                    operation.pointer,
                    item,
                    "operation serves no story (x-stories)",
                )
            )
            continue
        for index, story_id in enumerate(story_ids):
            pointer = pointer_join(operation.pointer, "x-stories", index)
            if not isinstance(story_id, str) or not STORY_ID.match(story_id):
                findings.append(
                    _finding(
                        "R-32-operation-serves-story", oas, pointer, item, f"{story_id!r} is not a story id"
                    )
                )
            elif stories is not None and story_id not in stories:
                findings.append(
                    _finding("R-33-story-exists", oas, pointer, item, f"unknown story {story_id}")
                )
            else:
                served.add(str(story_id))
    if contract.asyncapi is not None:
        doc = contract.asyncapi
        for name, spec in contract.event_operations().items():
            for index, story_id in enumerate(spec.get("x-stories") or []):
                if stories is not None and story_id not in stories:
                    findings.append(
                        _finding(
                            "R-33-story-exists",
                            doc,
                            pointer_join("/operations", name, "x-stories", index),
                            f"EVT-{name}",
                            f"unknown story {story_id}",
                        )
                    )
                else:
                    served.add(str(story_id))
    if contract.operations():
        for story_id in STORIES_SERVED_BY_EVERY_OPERATION:
            if stories is not None and story_id not in stories:
                findings.append(
                    _finding(
                        "R-33-story-exists",
                        oas,
                        "/paths",
                        story_id,
                        f"unknown story {story_id} in STORIES_SERVED_BY_EVERY_OPERATION",
                    )
                )
            else:
                served.add(story_id)
    if stories is not None:
        for story in sorted(stories.values(), key=lambda s: s.id):
            if story.priority != "must" or story.release == "later" or story.id in STORIES_WITHOUT_API:
                continue
            if story.id not in served:
                findings.append(
                    _finding(
                        "R-34-must-story-has-api",
                        oas,
                        "/paths",
                        story.id,
                        f"must story {story.id} ({story.title}) has no operation or event; serve it or "
                        "add it to STORIES_WITHOUT_API with the reason",
                    )
                )
    return findings


# --- R-35 schema agrees with entity -----------------------------------------------------------------------


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
                    _finding(
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
                _finding(rule, oas, pointer, f"schema {name}", f"names unknown entity {entity_name!r}")
            )
            continue
        try:
            entity_schema = resolve_pointer(contract.entities[entity_name].data, entity_pointer)
        except (KeyError, IndexError, ValueError):
            findings.append(_finding(rule, oas, pointer, f"schema {name}", f"no {target!r} in the entity"))
            continue
        api = _normalize_oas(contract, component, (name,))
        ent = _normalize_entity(contract, entity_name, entity_schema)
        users = operations_using(contract, name)
        used_by = f" (used by {', '.join(users)})" if users else ""
        for diff in compare_schemas(api, ent, subset=(kind == "input")):
            findings.append(
                _finding(
                    rule, oas, pointer, f"schema {name}{used_by}", f"disagrees with ENT-{entity_name}: {diff}"
                )
            )
    return findings


# --- R-36/37 entities -------------------------------------------------------------------------------------


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
            if pd is not None and pd not in PERSONAL_DATA_CLASSES:
                problems.append(
                    (
                        pointer,
                        f"field {field_name}: x-personal-data {pd!r} is not one of {PERSONAL_DATA_CLASSES}",
                    )
                )
            target = prop.get("x-references")
            if target is not None and target not in contract.entities:
                findings.append(
                    _finding(
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
                        _finding(
                            "R-37-entity-reference-exists",
                            entity,
                            pointer_ref,
                            item,
                            f"$ref to unknown entity file {ref!r}",
                        )
                    )
        findings.extend(_finding("R-36-entity-annotated", entity, p, item, m) for p, m in problems)
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


# --- R-38/39/40/42 operation conventions -----------------------------------------------------------------


def _parameters(contract: Contract, operation: Operation) -> list[dict[str, Any]]:
    path_item = contract.openapi.data["paths"][operation.path]
    params = [deref(contract.openapi.data, p) for p in path_item.get("parameters") or []]
    params += [deref(contract.openapi.data, p) for p in operation.spec.get("parameters") or []]
    return [p for p in params if isinstance(p, dict)]


def _example_codes(contract: Contract, response: Any) -> set[str]:
    codes: set[str] = set()
    resolved = deref(contract.openapi.data, response)
    for media in (resolved.get("content") or {}).values():
        for example in (media.get("examples") or {}).values():
            value = deref(contract.openapi.data, example).get("value")
            if isinstance(value, dict) and "code" in value:
                codes.add(str(value["code"]))
    return codes


def is_money_moving(contract: Contract, operation: Operation) -> bool:
    if operation.spec.get("x-money-moving") is True:
        return True
    if operation.method != "post":
        return False
    body = deref(contract.openapi.data, operation.spec.get("requestBody"))
    for name in reachable_components(contract, body):
        link = entity_of(contract.components[name])
        if link is not None and link[1].split("#", 1)[0] == "Payment":
            return True
    return False


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
            findings.append(_finding(rule, doc, prop_pointer, item, f"property {name!r} is not snake_case"))
        kinds = prop.get("type") if isinstance(prop, dict) else None
        if kinds == "number" or (isinstance(kinds, list) and "number" in kinds):
            findings.append(
                _finding(
                    rule,
                    doc,
                    prop_pointer,
                    item,
                    f"property {name!r} is a JSON number; use a decimal string (Money)",
                )
            )
    return findings


def check_conventions(contract: Contract) -> list[Finding]:
    oas = contract.openapi
    findings: list[Finding] = []
    for name, component in contract.components.items():
        findings += check_schema_style(
            oas,
            component,
            pointer_join("/components/schemas", name),
            f"schema {name}",
            "R-39-operation-conventions",
        )
    servers = oas.data.get("servers") or []
    if not servers or not all(re.search(r"/api/v[0-9]+$", str(s.get("url", ""))) for s in servers):
        findings.append(
            _finding(
                "R-42-versioned-server",
                oas,
                "/servers",
                "openapi.yaml",
                "every server URL ends with /api/v<major>",
            )
        )
    schemes = (oas.data.get("components") or {}).get("securitySchemes") or {}
    declared: set[str] = set()
    for scheme in schemes.values():
        for flow in (scheme.get("flows") or {}).values():
            declared.update((flow.get("scopes") or {}).keys())
    for operation in contract.operations():
        item = operation.need_id
        spec = operation.spec
        rule = "R-39-operation-conventions"

        def add(pointer: str, message: str, rule: str = rule, item: str = item) -> None:
            findings.append(_finding(rule, oas, pointer, item, message))

        for key in ("summary", "description", "tags"):
            if not spec.get(key):
                add(operation.pointer, f"operation has no {key}")
        security = spec.get("security")
        if not isinstance(security, list) or len(security) != 1 or not security[0].get("oauth2"):
            add(
                pointer_join(operation.pointer, "security"),
                "operation must name exactly one oauth2 requirement with its scopes",
            )
        else:
            for scope in security[0]["oauth2"]:
                if scope not in SCOPES:
                    add(
                        pointer_join(operation.pointer, "security"),
                        f"scope {scope!r} is not one of the agreed scopes",
                    )
                elif scope not in declared:
                    add(
                        pointer_join(operation.pointer, "security"),
                        f"scope {scope!r} is not declared in the oauth2 flows",
                    )
        responses: dict[str, Any] = spec.get("responses") or {}
        statuses = set(responses)
        # 400 everywhere: every operation refuses a query parameter it does not define (API-016).
        required = {"400", "401", "429", "500"}
        if "{" in operation.path:
            required.add("404")
        if "requestBody" in spec:
            required.update({"400", "413", "415"})
        for status in sorted(required - statuses):
            add(pointer_join(operation.pointer, "responses"), f"operation does not declare {status}")
        if not any(s.startswith("2") for s in statuses):
            add(pointer_join(operation.pointer, "responses"), "operation declares no success response")
        for status, response in responses.items():
            pointer = pointer_join(operation.pointer, "responses", status)
            resolved = deref(oas.data, response)
            headers = resolved.get("headers") or {}
            if "X-Correlation-ID" not in headers:
                add(pointer, f"response {status} does not declare X-Correlation-ID")
            if status == "429" and "Retry-After" not in headers:
                add(pointer, "response 429 does not declare Retry-After")
            content = resolved.get("content") or {}
            if status.startswith(("4", "5")):
                media = content.get("application/problem+json")
                if media is None or set(content) != {"application/problem+json"}:
                    add(pointer, f"error response {status} must be application/problem+json only")
                elif (media.get("schema") or {}).get("$ref") != "#/components/schemas/Problem":
                    add(pointer, f"error response {status} must use the Problem schema")
            for media_type, media in content.items():
                if not media.get("examples") and "example" not in media:
                    add(pointer_join(pointer, "content", media_type), f"response {status} has no example")
            if status.startswith(("4", "5")):
                findings.extend(_check_problem_examples(contract, operation, status, response, pointer))
        scopes_used = {
            sc for req in security or [] if isinstance(req, dict) for sc in req.get("oauth2") or []
        }
        if scopes_used & CONSENT_SCOPES and "CONSENT_REQUIRED" not in _example_codes(
            contract, responses.get("403")
        ):
            add(
                pointer_join(operation.pointer, "responses"),
                "a read under accounts:read or transactions:read documents 403 CONSENT_REQUIRED",
            )
        params = _parameters(contract, operation)
        names = {p.get("name") for p in params}
        if "cursor" in names and "limit" not in names:
            add(operation.pointer, "a paged operation takes both limit and cursor")
        if "cursor" in names and "INVALID_CURSOR" not in _example_codes(contract, responses.get("400")):
            add(
                pointer_join(operation.pointer, "responses"), "a paged operation documents 400 INVALID_CURSOR"
            )
        if "requestBody" in spec:
            body = deref(oas.data, spec["requestBody"])
            for media_type, media in (body.get("content") or {}).items():
                schema = deref(oas.data, media.get("schema"))
                if isinstance(schema, dict) and schema.get("additionalProperties") is not False:
                    add(
                        pointer_join(operation.pointer, "requestBody"),
                        f"request body {media_type} must set additionalProperties: false",
                    )
        if is_money_moving(contract, operation):
            mm = "R-38-money-moving-idempotent"
            idem = next((p for p in params if p.get("name") == "Idempotency-Key"), None)
            if idem is None or idem.get("in") != "header" or idem.get("required") is not True:
                add(operation.pointer, "money-moving POST must require the Idempotency-Key header", mm)
            if operation.spec.get("x-money-moving") is not True:
                add(
                    operation.pointer,
                    "money-moving POST must be marked x-money-moving: true (Spectral API-021)",
                    mm,
                )
            for status, code in (
                ("400", "IDEMPOTENCY_KEY_MISSING"),
                ("409", "IDEMPOTENCY_KEY_IN_FLIGHT"),
                ("422", "IDEMPOTENCY_KEY_REUSED"),
            ):
                if code not in _example_codes(contract, responses.get(status)):
                    add(
                        pointer_join(operation.pointer, "responses"),
                        f"money-moving POST must document {status} {code}",
                        mm,
                    )
    return findings


def _check_problem_examples(
    contract: Contract, operation: Operation, status: str, response: Any, pointer: str
) -> list[Finding]:
    findings: list[Finding] = []
    oas = contract.openapi
    resolved = deref(oas.data, response)
    for media_type, media in (resolved.get("content") or {}).items():
        for name, example in (media.get("examples") or {}).items():
            value = deref(oas.data, example).get("value")
            example_pointer = pointer_join(pointer, "content", media_type, "examples", name)
            if isinstance(example, dict) and "$ref" in example:
                example_pointer = example["$ref"][1:]
            item = f"{operation.need_id} {status}"
            if not isinstance(value, dict):
                continue
            code = value.get("code")
            rule = "R-40-problem-code-status"
            if code not in ERROR_CODES:
                findings.append(
                    _finding(rule, oas, example_pointer, item, f"example {name!r} has unknown code {code!r}")
                )
                continue
            if str(ERROR_CODES[code]) != status:
                findings.append(
                    _finding(
                        rule,
                        oas,
                        example_pointer,
                        item,
                        f"example {name!r}: {code} belongs to {ERROR_CODES[code]}, not {status}",
                    )
                )
            if value.get("status") != ERROR_CODES[code]:
                findings.append(
                    _finding(
                        rule,
                        oas,
                        example_pointer,
                        item,
                        f"example {name!r}: status field {value.get('status')} != {ERROR_CODES[code]}",
                    )
                )
            expected_type = PROBLEM_TYPE_BASE + code.lower().replace("_", "-")
            if value.get("type") != expected_type:
                findings.append(
                    _finding(
                        rule, oas, example_pointer, item, f"example {name!r}: type must be {expected_type}"
                    )
                )
    return findings


# --- R-41 AsyncAPI ----------------------------------------------------------------------------------------


def check_asyncapi(contract: Contract) -> list[Finding]:
    rule = "R-41-asyncapi-valid"
    doc = contract.asyncapi
    if doc is None:
        return [_finding(rule, contract.openapi, "", "asyncapi.yaml", "docs/api/asyncapi.yaml is missing")]
    findings: list[Finding] = []
    data = doc.data
    if data.get("asyncapi") != "3.0.0":
        findings.append(
            _finding(rule, doc, "/asyncapi", "asyncapi.yaml", "the document must be AsyncAPI 3.0.0")
        )
    for name, spec in contract.event_operations().items():
        item = f"EVT-{name}"
        pointer = pointer_join("/operations", name)
        if not re.match(r"^[a-z][A-Za-z0-9]+$", name):
            findings.append(_finding(rule, doc, pointer, item, "event operation names are lowerCamelCase"))
        if spec.get("action") not in ("send", "receive"):
            findings.append(_finding(rule, doc, pointer, item, "action must be send or receive"))
        stories = spec.get("x-stories")
        if not isinstance(stories, list) or not stories or not all(STORY_ID.match(str(s)) for s in stories):
            findings.append(
                _finding(rule, doc, pointer, item, "event serves no story (x-stories with story ids)")
            )
        refs = [spec.get("channel", {}).get("$ref")] + [m.get("$ref") for m in spec.get("messages") or []]
        for ref in refs:
            if not isinstance(ref, str) or not ref.startswith("#"):
                findings.append(_finding(rule, doc, pointer, item, f"reference {ref!r} is not a local $ref"))
                continue
            try:
                resolve_pointer(data, ref[1:])
            except (KeyError, IndexError, ValueError):
                findings.append(_finding(rule, doc, pointer, item, f"reference {ref} does not resolve"))
        if not event_entities(contract, name):
            findings.append(_finding(rule, doc, pointer, item, "message payload references no entity schema"))
        for entity in event_entities(contract, name):
            if entity not in contract.entities:
                findings.append(
                    _finding(rule, doc, pointer, item, f"payload references unknown entity {entity!r}")
                )
    for name, message in ((data.get("components") or {}).get("messages") or {}).items():
        if not message.get("examples"):
            findings.append(
                _finding(
                    rule,
                    doc,
                    pointer_join("/components/messages", name),
                    f"EVT-{name}",
                    "message has no example",
                )
            )
    return findings


# --- all checks -------------------------------------------------------------------------------------------


def check_contract(docs: Path, stories: dict[str, Story] | None = None) -> list[Finding]:
    """Every Python-side contract check (all rules but R-43, which needs Node)."""
    try:
        contract = load_contract(docs)
    except (OSError, yaml.YAMLError) as exc:
        mark = getattr(exc, "problem_mark", None)
        path = Path(getattr(exc, "filename", None) or docs / "api" / "openapi.yaml")
        line = mark.line + 1 if mark is not None else 1
        return [Finding("R-31-openapi-valid", path, line, "", path.name, f"cannot read the contract: {exc}")]
    findings = (
        check_openapi_valid(contract)
        + check_examples(contract)
        + check_operations_serve_stories(contract, stories)
        + check_schemas_match_entities(contract)
        + check_entities(contract)
        + check_conventions(contract)
        + check_asyncapi(contract)
    )
    return sorted(findings, key=lambda f: (str(f.path), f.line, f.rule, f.message))


# --- stories from the spec --------------------------------------------------------------------------------

_STORY_BLOCK = re.compile(
    r"^(?P<fence>`{3,}|:{3,})\{story\}(?P<title>[^\n]*)\n(?P<options>(?::[a-z_]+:[^\n]*\n)+)", re.M
)


def stories_from_markdown(docs: Path) -> dict[str, Story]:
    """Stories as written in MyST pages (```{story} blocks with :id:, :priority:, :release:)."""
    stories: dict[str, Story] = {}
    for page in sorted(docs.rglob("*.md")):
        for match in _STORY_BLOCK.finditer(page.read_text(encoding="utf-8")):
            options = dict(re.findall(r"^:([a-z_]+):[ \t]*(.*)$", match["options"], re.M))
            if "id" in options:
                story_id = options["id"].strip()
                stories[story_id] = Story(
                    story_id,
                    match["title"].strip(),
                    options.get("priority", "").strip(),
                    options.get("release", "").strip(),
                )
    return stories


def stories_from_needs_json(path: Path) -> dict[str, Story]:
    """Stories from a built needs.json (sphinx-needs export)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    version = data["versions"][data.get("current_version", "")] if "versions" in data else data
    needs = version.get("needs", {})
    return {
        need_id: Story(
            need_id,
            str(need.get("title", "")),
            str(need.get("priority") or ""),
            str(need.get("release") or ""),
        )
        for need_id, need in needs.items()
        if need.get("type") == "story"
    }


# --- R-43 Spectral ----------------------------------------------------------------------------------------

SPECTRAL_INSTALL_HINT = (
    "Spectral is not installed: run `scripts/bootstrap.sh spectral` (needs Node.js and npm; it runs "
    "`cd tools && npm ci` from tools/package-lock.json)"
)


def spectral_binary(repo: Path) -> Path | None:
    local = repo / "tools" / "node_modules" / ".bin" / "spectral"
    if local.exists():
        return local
    found = shutil.which("spectral")
    return Path(found) if found else None


def run_spectral(
    repo: Path, documents: list[Path] | None = None, ruleset: Path | None = None
) -> list[Finding]:
    """Lint the contracts with Spectral; every result of severity error becomes an R-43 finding.

    Raises FileNotFoundError naming what to install when Spectral is missing.
    """
    binary = spectral_binary(repo)
    if binary is None:
        raise FileNotFoundError(SPECTRAL_INSTALL_HINT)
    ruleset = ruleset or repo / "docs" / "api" / ".spectral.yaml"
    documents = documents or [repo / "docs" / "api" / "openapi.yaml", repo / "docs" / "api" / "asyncapi.yaml"]
    result = subprocess.run(
        [
            str(binary),
            "lint",
            "--format",
            "json",
            "--quiet",
            "--fail-severity",
            "error",
            "--ruleset",
            str(ruleset),
            *map(str, documents),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    try:
        results = json.loads(result.stdout or "[]")
    except json.JSONDecodeError:
        return [
            Finding(
                "R-43-spectral-clean", ruleset, 1, "", "spectral", f"spectral failed: {result.stderr.strip()}"
            )
        ]
    findings = []
    for entry in results:
        if entry.get("severity") != 0:  # 0 = error
            continue
        path = Path(entry.get("source") or documents[0])
        line = int(entry.get("range", {}).get("start", {}).get("line", 0)) + 1
        pointer = pointer_join("", *entry.get("path", []))
        findings.append(
            Finding(
                "R-43-spectral-clean", path, line, pointer, str(entry.get("code")), str(entry.get("message"))
            )
        )
    return findings
