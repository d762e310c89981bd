"""The contract feeds code generators: ``scripts/clients.sh`` (``make clients``) generates a Python client
(openapi-python-client) and TypeScript types (openapi-typescript, type-checked by tsc) from
docs/api/openapi.yaml; every request and response body comes out typed; and the README's walkthrough
through the generated Python client works as written against the served sandbox.

The generators are pinned (pyproject.toml, tools/package-lock.json) and installed by
``scripts/bootstrap.sh``; when one is missing the test fails and says so (it is never skipped).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
OPENAPI = REPO / "docs" / "api" / "openapi.yaml"
PACKAGE = "futurebank_client"
BLOCK = re.compile(
    r"<!-- client-walkthrough:start -->\n```python\n(?P<script>.*?)```\n<!-- client-walkthrough:end -->",
    re.DOTALL,
)
HTTP_METHODS = ("get", "put", "post", "delete", "patch")
# the generated _parse_response branch for one status code: its indented body up to the next branch
STATUS_BLOCK = (
    r"if response\.status_code == {status}:\n(?P<body>(?:        .*\n|\n)+?)\n    (?:if|return|raise)"
)


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clients")
    result = subprocess.run(
        ["scripts/clients.sh", str(out)], cwd=REPO, capture_output=True, text=True, timeout=600, check=False
    )
    output = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert result.returncode == 0, f"scripts/clients.sh failed:\n{output}"
    return out


def operations() -> list[tuple[str, dict[str, Any]]]:
    spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    return [
        (op["operationId"], op)
        for item in spec["paths"].values()
        for method, op in item.items()
        if method in HTTP_METHODS
    ]


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def module_source(clients: Path, operation_id: str) -> str:
    found = list((clients / "python" / PACKAGE / "api").glob(f"*/{snake(operation_id)}.py"))
    assert len(found) == 1, f"{operation_id}: no generated module (found {found})"
    return found[0].read_text(encoding="utf-8")


def test_every_operation_is_generated_with_typed_bodies(clients: Path) -> None:
    problems: list[str] = []
    ops = operations()
    assert len(ops) >= 20
    for operation_id, op in ops:
        source = module_source(clients, operation_id)
        if "requestBody" in op:
            match = re.search(r"def _get_kwargs\(.*?\bbody: (?P<type>[^,\n]+)", source, re.DOTALL)
            if not match or "Any" in match["type"]:
                problems.append(f"{operation_id}: request body is {match['type'] if match else 'missing'}")
        for status, response in op["responses"].items():
            block = re.search(STATUS_BLOCK.format(status=status), source)
            if block is None:
                problems.append(f"{operation_id} {status}: the client does not parse this response")
                continue
            untyped = "cast(Any" in block["body"]
            has_body = bool(response.get("content")) or "$ref" in response
            if has_body and untyped:
                problems.append(f"{operation_id} {status}: response body parsed as Any")
    assert not problems, "\n".join(problems)


def test_createpayment_takes_the_two_named_bodies(clients: Path) -> None:
    source = module_source(clients, "createPayment")
    assert "body: PaymentToCustomerAccount | PaymentToOwnAccount" in source  # C-24: no longer Any


def test_typescript_types_have_no_untyped_bodies(clients: Path) -> None:
    types = (clients / "typescript" / "openapi.d.ts").read_text(encoding="utf-8")
    for operation_id, _ in operations():
        assert re.search(rf"\b{operation_id}: \{{", types), f"{operation_id} missing from openapi.d.ts"
    untyped = re.findall(r'"application/[\w.+-]*json": (?:unknown|any);', types)
    assert not untyped, f"{len(untyped)} JSON bodies typed unknown/any"
    assert 'PaymentInitiation: components["schemas"]["PaymentToOwnAccount"] | ' in types


def test_readme_walkthrough_through_the_generated_client(clients: Path, served: int) -> None:
    match = BLOCK.search((REPO / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md has no client walkthrough block"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(clients / "python"),
        "BASE": f"http://127.0.0.1:{served}/api/v1",
    }
    result = subprocess.run(
        [sys.executable, "-c", match["script"]],
        env=env,
        cwd=clients,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "40817810000000000001"
    assert "ITBD=25000.00" in lines[1].split()
    assert lines[2] == "ACSC 500.00"
    assert lines[3] == "ACSC"
    assert lines[4] == "422 IDEMPOTENCY_KEY_REUSED"
