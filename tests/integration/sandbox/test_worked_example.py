"""ARCHITECTURE.md's worked example, done: a new field on ``Payment`` in the files it names and no
others. The test copies ``src/`` and ``docs/`` aside, makes the change there (the contract, the
command, the domain class, the table, a new migration), and drives the copy's sandbox: the field is
accepted, checked as the contract declares it, stored, and read back. If a sixth file were needed
(a field list typed again in a route, a representation or the request model), the copy would refuse
or drop the field and this test fails."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
ARCHITECTURE = REPO / "ARCHITECTURE.md"

PURPOSE_CODE = {
    "type": "string",
    "description": "Must be an ISO 20022 external purpose code of four capital letters, e.g. SALA.",
    "minLength": 4,
    "maxLength": 4,
    "pattern": "^[A-Z]{4}$",
    "examples": ["SALA"],
}

MIGRATION = '''"""payments.purpose_code (the worked example of ARCHITECTURE.md)

Revision ID: 9001
Revises: {head}
"""

import sqlalchemy as sa
from alembic import op

revision = "9001"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("payments", sa.Column("purpose_code", sa.String(length=4), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch:
        batch.drop_column("purpose_code")
'''

DRIVE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from starlette.testclient import TestClient
    from futurebank.sandbox import bootstrap
    from futurebank.sandbox.config import Settings
    from futurebank.sandbox.entrypoints.app import create_app

    data = Path(sys.argv[1])
    settings = Settings(data_dir=data, seed=False, access_log=False)
    db = bootstrap.open_database(settings)
    bootstrap.reset(db, history=False)
    db.dispose()
    container = bootstrap.bootstrap(Settings(data_dir=data, seed=False, access_log=False))
    out = {}
    with TestClient(create_app(container), raise_server_exceptions=False) as tc:
        form = {"grant_type": "urn:futurebank:params:oauth:grant-type:demo-customer", "customer": "anna"}
        token = tc.post("/api/v1/oauth/token", data=form, auth=("demo-app", "demo-app-secret")).json()
        headers = {"Authorization": "Bearer " + token["access_token"]}
        body = {
            "debtor_account_id": "20000000-0000-4000-8000-000000000001",
            "creditor_account_id": "20000000-0000-4000-8000-000000000002",
            "amount": {"amount": "10.00", "currency": "RUB"},
        }
        for name, code in (("good", "SALA"), ("lower", "sala"), ("long", "SALARY")):
            r = tc.post("/api/v1/payments", json={**body, "purpose_code": code},
                        headers={**headers, "Idempotency-Key": "worked-example-" + name})
            out[name] = {"status": r.status_code, "body": r.json()}
        created = out["good"]["body"]
        r = tc.get("/api/v1/payments/" + created["payment_id"], headers=headers)
        out["read_back"] = {"status": r.status_code, "body": r.json()}
    container.close()
    print(json.dumps(out))
    """
)


def files_the_example_names() -> list[str]:
    """The numbered list under ARCHITECTURE.md's worked example: every back-quoted repository path."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text.split("### Worked example: a new field on `Payment`", 1)[1].split("\n#", 1)[0]
    items = [line for line in section.splitlines() if re.match(r"^\d+\. ", line)]
    return [p for line in items for p in re.findall(r"`((?:docs|src)/[^`]+)`", line)]


def _replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{path}: the example's anchor {old!r} is not there exactly once"
    path.write_text(text.replace(old, new), encoding="utf-8")


def make_the_change(root: Path) -> list[str]:
    """Add ``purpose_code`` as ARCHITECTURE.md says; return the files touched, repository-relative."""
    contract = root / "docs/api/openapi.yaml"
    doc = yaml.safe_load(contract.read_text(encoding="utf-8"))
    for schema in ("PaymentToOwnAccount", "PaymentToCustomerAccount", "Payment"):
        doc["components"]["schemas"][schema]["properties"]["purpose_code"] = PURPOSE_CODE
    contract.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")

    sandbox = root / "src/futurebank/sandbox"
    _replace_once(
        sandbox / "domain/commands.py",
        "    remittance_information: str | None = field(default=None, metadata=ECHOED)\n",
        "    remittance_information: str | None = field(default=None, metadata=ECHOED)\n"
        "    purpose_code: str | None = field(default=None, metadata=ECHOED)\n",
    )
    _replace_once(
        sandbox / "domain/payments.py",
        "    status_reason: str | None = None\n",
        "    status_reason: str | None = None\n    purpose_code: str | None = None\n",
    )
    _replace_once(
        sandbox / "adapters/orm.py",
        '    Column("status_reason", String(4), nullable=True),\n',
        '    Column("status_reason", String(4), nullable=True),\n'
        '    Column("purpose_code", String(4), nullable=True),\n',
    )
    versions = sandbox / "migrations/versions"
    head = max(p.name.split("_", 1)[0] for p in versions.glob("[0-9][0-9][0-9][0-9]_*.py"))
    migration = versions / "9001_payment_purpose_code.py"
    migration.write_text(MIGRATION.format(head=head), encoding="utf-8")
    return [
        "docs/api/openapi.yaml",
        "src/futurebank/sandbox/domain/commands.py",
        "src/futurebank/sandbox/domain/payments.py",
        "src/futurebank/sandbox/adapters/orm.py",
        str(migration.relative_to(root).parent) + "/",
    ]


def _run_copy(root: Path, cwd: Path, args: list[str]) -> subprocess.CompletedProcess[str]:
    """Python on the copy's ``src/``, with none of this machine's sandbox configuration."""
    env = {**os.environ, "PYTHONPATH": str(root / "src"), "PYTHONDONTWRITEBYTECODE": "1"}
    for name in [k for k in env if k.startswith("SANDBOX_") or k == "DATABASE_URL"]:
        del env[name]
    env["SANDBOX_DATA_DIR"] = str(cwd / "data")
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )


def test_the_worked_example_names_at_most_five_files() -> None:
    named = files_the_example_names()
    assert 0 < len(named) <= 5, named
    for path in named:
        assert (REPO / path).exists(), f"ARCHITECTURE.md's worked example names {path}, which is not there"


def test_the_worked_example_works_in_the_files_it_names(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "docs", root / "docs")
    touched = make_the_change(root)
    assert touched == files_the_example_names()

    run = _run_copy(root, tmp_path, ["-c", DRIVE, str(tmp_path / "data")])
    assert run.returncode == 0, run.stderr[-3000:]
    import json

    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert out["good"]["status"] == 201, out["good"]
    assert out["good"]["body"]["purpose_code"] == "SALA"
    assert out["read_back"]["status"] == 200
    assert out["read_back"]["body"]["purpose_code"] == "SALA"
    lower = out["lower"]["body"]
    assert (out["lower"]["status"], lower["errors"][0]["code"]) == (400, "PATTERN"), lower
    assert lower["errors"][0]["pointer"] == "/purpose_code"
    assert "ISO 20022 external purpose code" in lower["errors"][0]["detail"]  # words, not the regex
    assert "[A-Z]" not in lower["errors"][0]["detail"]
    assert (out["long"]["status"], out["long"]["body"]["errors"][0]["code"]) == (400, "MAX_LENGTH")


@pytest.mark.parametrize(
    "command",
    [["futurebank.sandbox", "serve", "--port", "0"], ["futurebank.serve", "--site", "site", "--port", "0"]],
    ids=["sandbox-serve", "make-run"],
)
def test_a_field_the_contract_does_not_declare_stops_the_start_with_one_clear_line(
    tmp_path: Path, command: list[str]
) -> None:
    """Half the example (the command gets the field, the contract does not): the sandbox, alone or
    behind ``make run``, refuses to start, exits 2 and says which field and which file, without a
    traceback."""
    (tmp_path / "site").mkdir()
    (tmp_path / "site/index.html").write_text("<!doctype html><title>site</title>", encoding="utf-8")
    root = tmp_path / "repo"
    shutil.copytree(REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "docs", root / "docs")
    _replace_once(
        root / "src/futurebank/sandbox/domain/commands.py",
        "    remittance_information: str | None = field(default=None, metadata=ECHOED)\n",
        "    remittance_information: str | None = field(default=None, metadata=ECHOED)\n"
        "    purpose_code: str | None = field(default=None, metadata=ECHOED)\n",
    )
    run = _run_copy(root, tmp_path, ["-m", *command])
    assert run.returncode == 2, run.stderr[-3000:]
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    last = run.stderr.strip().splitlines()[-1]
    assert "purpose_code" in last and "openapi.yaml" in last, last
