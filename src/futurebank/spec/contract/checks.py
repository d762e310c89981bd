"""Every Python-side contract check in one call (all rules but R-43, which needs Node)."""

from __future__ import annotations

from pathlib import Path

from futurebank.spec.contract.asyncapi import check_asyncapi
from futurebank.spec.contract.codes import check_problem_codes
from futurebank.spec.contract.conventions import check_conventions
from futurebank.spec.contract.entities import check_entities, check_schemas_match_entities
from futurebank.spec.contract.examples import check_examples
from futurebank.spec.contract.model import Story, load_contract
from futurebank.spec.contract.traceability import check_operations_serve_stories
from futurebank.spec.contract.validity import check_openapi_valid
from futurebank.spec.rules import Finding, SpecFileError


def check_contract(docs: Path, stories: dict[str, Story] | None = None) -> list[Finding]:
    """Every Python-side contract check (all rules but R-43, which needs Node)."""
    try:
        contract = load_contract(docs)
    except SpecFileError as exc:
        path = Path(exc.path)
        return [
            Finding(
                "R-31-openapi-valid", path.name, f"cannot read the contract: {exc.detail}", path, exc.line
            )
        ]
    except OSError as exc:
        path = Path(exc.filename or docs / "api" / "openapi.yaml")
        return [Finding("R-31-openapi-valid", path.name, f"cannot read the contract: {exc}", path, 1)]
    findings = (
        check_openapi_valid(contract)
        + check_examples(contract)
        + check_operations_serve_stories(contract, stories)
        + check_schemas_match_entities(contract)
        + check_entities(contract)
        + check_problem_codes(contract)
        + check_conventions(contract)
        + check_asyncapi(contract)
    )
    return sorted(findings, key=lambda f: (str(f.path), f.line, f.rule, f.detail))
