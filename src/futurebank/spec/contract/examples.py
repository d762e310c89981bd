"""R-30: every example validates against the schema it illustrates."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from futurebank.spec.contract.model import (
    ASYNCAPI_URI,
    ENTITY_SUFFIX,
    ENTITY_URI,
    HTTP_METHODS,
    OPENAPI_URI,
    Contract,
    deref,
    finding_at,
    validation_errors,
    validator_for,
)
from futurebank.spec.rules import Finding
from futurebank.spec.yaml_lines import pointer_join


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
            validator = validator_for(registry, OPENAPI_URI, pointer_join(media_pointer, "schema"))
            examples = dict(media.get("examples") or {})
            if "example" in media:
                examples["example"] = {"value": media["example"]}
            for name, example in examples.items():
                example_pointer = pointer_join(media_pointer, "examples", name)
                ref = example.get("$ref") if isinstance(example, dict) else None
                resolved = deref(oas.data, example)
                if "value" not in resolved:
                    continue
                for error in validation_errors(validator, resolved["value"]):
                    where = f" (from {ref})" if ref else ""
                    findings.append(
                        finding_at(
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
                validator = validator_for(registry, OPENAPI_URI, pointer_join(pointer, "schema"))
                for error in validation_errors(validator, spec["example"]):
                    findings.append(
                        finding_at(rule, oas, pointer, f"{group[:-1]} {name}", f"example invalid: {error}")
                    )
    for path, item_spec in (oas.data.get("paths") or {}).items():
        for method in HTTP_METHODS:
            for index, parameter in enumerate((item_spec.get(method) or {}).get("parameters") or []):
                if "example" in parameter and "schema" in parameter:
                    pointer = pointer_join("/paths", path, method, "parameters", index)
                    validator = validator_for(registry, OPENAPI_URI, pointer_join(pointer, "schema"))
                    for error in validation_errors(validator, parameter["example"]):
                        findings.append(
                            finding_at(
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
        validator = validator_for(registry, OPENAPI_URI, schema_pointer)
        for error in validation_errors(validator, example):
            name = schema_pointer.split("/")[3]
            findings.append(
                finding_at(
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
            validator = validator_for(registry, uri, schema_pointer)
            for error in validation_errors(validator, example):
                findings.append(
                    finding_at(
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
            validator = validator_for(registry, ASYNCAPI_URI, pointer_join(pointer, "payload"))
            for index, example in enumerate(message.get("examples") or []):
                for error in validation_errors(validator, example.get("payload")):
                    findings.append(
                        finding_at(
                            rule,
                            doc,
                            pointer_join(pointer, "examples", index),
                            f"EVT-{name}",
                            f"example {example.get('name', index)!r} is invalid: {error}",
                        )
                    )
    return findings
