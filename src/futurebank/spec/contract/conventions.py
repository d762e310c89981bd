"""R-38, R-39, R-40, R-42: idempotent money movement and the operation conventions of the guidelines."""

from __future__ import annotations

import re
from typing import Any

from futurebank.spec.contract.model import (
    CONSENT_SCOPES,
    Contract,
    Operation,
    check_schema_style,
    deref,
    entity_of,
    finding_at,
    reachable_components,
)
from futurebank.spec.rules import Finding
from futurebank.spec.yaml_lines import pointer_join


def _parameters(contract: Contract, operation: Operation) -> list[dict[str, Any]]:
    path_item = contract.openapi.data["paths"][operation.path]
    params = [deref(contract.openapi.data, p) for p in path_item.get("parameters") or []]
    params += [deref(contract.openapi.data, p) for p in operation.spec.get("parameters") or []]
    return [p for p in params if isinstance(p, dict)]


def _closed(document: Any, schema: dict[str, Any]) -> bool:
    """A request body schema refuses unknown fields: ``additionalProperties: false``, or a ``oneOf`` /
    ``anyOf`` of named branches that each do (C-24: one schema per kind of payment, so generators type it)."""
    if schema.get("additionalProperties") is False:
        return True
    branches = schema.get("oneOf") or schema.get("anyOf")
    if not branches or "properties" in schema:
        return False
    resolved = [deref(document, branch) for branch in branches]
    return all(isinstance(b, dict) and b.get("additionalProperties") is False for b in resolved)


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
            finding_at(
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
            findings.append(finding_at(rule, oas, pointer, item, message))

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
                if scope not in declared:
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
                if isinstance(schema, dict) and not _closed(oas.data, schema):
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
            error_codes = contract.error_codes
            if code not in error_codes:
                findings.append(
                    finding_at(
                        rule, oas, example_pointer, item, f"example {name!r} has unknown code {code!r}"
                    )
                )
                continue
            if str(error_codes[code]) != status:
                findings.append(
                    finding_at(
                        rule,
                        oas,
                        example_pointer,
                        item,
                        f"example {name!r}: {code} belongs to {error_codes[code]}, not {status}",
                    )
                )
            if value.get("status") != error_codes[code]:
                findings.append(
                    finding_at(
                        rule,
                        oas,
                        example_pointer,
                        item,
                        f"example {name!r}: status field {value.get('status')} != {error_codes[code]}",
                    )
                )
            expected_type = contract.problem_type_base + code.lower().replace("_", "-")
            if value.get("type") != expected_type:
                findings.append(
                    finding_at(
                        rule, oas, example_pointer, item, f"example {name!r}: type must be {expected_type}"
                    )
                )
    return findings
