"""R-31: openapi.yaml is a valid OpenAPI 3.1 document."""

from __future__ import annotations

from futurebank.spec.contract.model import Contract, finding_at
from futurebank.spec.rules import Finding
from futurebank.spec.yaml_lines import pointer_join


def check_openapi_valid(contract: Contract) -> list[Finding]:
    from openapi_spec_validator import OpenAPIV31SpecValidator

    findings: list[Finding] = []
    oas = contract.openapi
    if oas.data.get("openapi", "").split(".")[:2] != ["3", "1"]:
        findings.append(
            finding_at(
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
        findings.append(finding_at("R-31-openapi-valid", oas, pointer, "openapi.yaml", message))
    return findings
