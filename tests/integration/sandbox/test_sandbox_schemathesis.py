"""Schemathesis (4.x) against the live sandbox, driven by the CONTRACT FILE docs/api/openapi.yaml
(not the app's own schema): all phases (examples, coverage, fuzzing, stateful along the contract's
OpenAPI links, e.g. createPayment -> getPayment, createConsent -> getConsent/revokeConsent,
listAccounts -> getAccount), all checks, a fixed seed and a bounded budget.
The run must report zero failures.

What is changed from the defaults, and why (nothing else is excluded):
* One built-in check is replaced by a narrowed copy (sandbox_st_hooks.py explains each exception):
  ``positive_data_acceptance``.
* ``not_a_server_error`` accepts 501 for exactly the five operations the sandbox does not
  implement (the contract documents that 501 for them).
* ``use_after_free`` is off: the contract's only DELETE, revokeConsent, keeps the consent readable
  with status "revoked" (its description and getConsent's; the US-0002 scenario reads it back;
  docs/api/changes.md C-07). A per-operation switch is not enough: the stateful phase follows the
  link createConsent -> revokeConsent -> getConsent and ignores per-operation check settings.
* Known ids (Anna's accounts, cards, payments, transactions, consents) are offered as dictionary
  values half of the time, so generated requests also reach the code behind the 404s.
The token is Anna's (demo-app, every scope); she holds an authorised consent for demo-app. The support
agents' operations get the support desk's token (scope agent) instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from sandbox_contract import CONTRACT
from sandbox_helpers import ANNA_CURRENT, ANNA_SAVINGS, LiveServer, token_for

from futurebank.sandbox.entrypoints.routers.not_implemented import NOT_IMPLEMENTED_OPERATIONS

SEED = 20261124
MAX_EXAMPLES = 25
HERE = Path(__file__).resolve().parent


# The support agents' operations take a staff client's token (scope agent), not Anna's.
STAFF_OPERATIONS = ("listHandoffs", "getHandoff", "acceptHandoff", "closeHandoff")


def _config(path: Path, agent_token: str) -> Path:
    ids = {
        "accounts": [ANNA_CURRENT, ANNA_SAVINGS],
        "numbers": ["40817810000000000001", "42301810000000000002", "40817810000000000003"],
        "cards": ["40000000-0000-4000-8000-000000000001", "40000000-0000-4000-8000-000000000002"],
        "payments": ["60000000-0000-4000-8000-000000000001"],
        "transactions": ["30000000-0000-4000-8000-000000000003", "30000000-0000-4000-8000-000000000001"],
        # budget-app's consent and a revoked one: revoking them never takes demo-app's access away.
        "consents": ["50000000-0000-4000-8000-000000000002", "50000000-0000-4000-8000-000000000003"],
    }
    lines = []
    for name, values in ids.items():
        quoted = ", ".join(f'"{v}"' for v in values)
        lines += [f"[dictionaries.{name}]", f"values = [{quoted}]", ""]
    bindings = {
        "path.account_id": "accounts",
        "path.card_id": "cards",
        "path.payment_id": "payments",
        "path.transaction_id": "transactions",
        "path.consent_id": "consents",
        "body.debtor_account_id": "accounts",
        "body.creditor_account_id": "accounts",
        "body.creditor_account_number": "numbers",
    }
    lines.append("[parameters]")
    lines += [f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}' for key, name in bindings.items()]
    for operation_id, *_ in NOT_IMPLEMENTED_OPERATIONS:
        lines += [
            "",
            "[[operations]]",
            f'include-operation-id = "{operation_id}"',
            'checks.not_a_server_error.expected-statuses = ["2xx", "3xx", "4xx", "501"]',
        ]
    for operation_id in STAFF_OPERATIONS:
        lines += [
            "",
            "[[operations]]",
            f'include-operation-id = "{operation_id}"',
            f'headers = {{ Authorization = "Bearer {agent_token}" }}',
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_contract_conformance(live: LiveServer, tmp_path: Path) -> None:
    token = token_for(httpx, "anna", base=live.base_url)
    agent = token_for(httpx, None, client_id="support-desk", base=live.base_url)
    config = _config(tmp_path / "schemathesis.toml", agent)
    command = [
        sys.executable, "-m", "schemathesis.cli",
        "--config-file", str(config),
        "run", str(CONTRACT),
        "--url", f"{live.base_url}/api/v1",
        "--header", f"Authorization: Bearer {token}",
        "--checks", "all",
        "--exclude-checks", "positive_data_acceptance,use_after_free",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(MAX_EXAMPLES),
        "--seed", str(SEED),
        "--generation-deterministic",
        "--workers", "1",
        "--request-timeout", "30",
        "--output-truncate", "false",
        "--report", "junit",
        "--report-dir", str(tmp_path / "report"),
    ]  # fmt: skip
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "sandbox_st_hooks",
        "PYTHONPATH": f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    report = done.stdout[-20000:] + done.stderr[-5000:]
    assert done.returncode == 0, report
