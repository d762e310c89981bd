"""The append-only, keyed audit log: state changes and personal-data reads are recorded, and
``python -m futurebank.sandbox audit verify`` detects a changed or deleted entry (even after the
attacker switched the append-only triggers off)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sandbox_helpers import ANNA, ANNA_CURRENT, ANNA_SAVINGS, bearer, lift_append_only, token_for
from sqlalchemy import delete, select, update
from starlette.testclient import TestClient

from futurebank.sandbox import bootstrap
from futurebank.sandbox.adapters import orm
from futurebank.sandbox.entrypoints.deps import Container

API = "/api/v1"


def audit_rows(container: Container) -> list[dict[str, object]]:
    with container.db.engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(orm.audit_log).order_by(orm.audit_log.c.seq)).mappings()]


def cli_verify(container: Container, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DATABASE_URL": container.settings.database_url,
        "SANDBOX_DATA_DIR": str(tmp_path / "cli"),
        "SANDBOX_AUDIT_KEY_FILE": str(container.settings.audit_key_file),
        "SANDBOX_AUDIT_SEAL_FILE": str(container.settings.audit_seal_file),
    }
    return subprocess.run(
        [sys.executable, "-m", "futurebank.sandbox", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_changes_and_personal_data_reads_are_audited(client: TestClient, container: Container) -> None:
    before = len(audit_rows(container))
    token = token_for(client)
    h = bearer(token)
    cid = "3f1c1f0e-7a55-4d5b-9a53-0c8a7c1e2b10"
    client.get(f"{API}/customers/me", headers=h)
    client.get(f"{API}/accounts/{ANNA_CURRENT}/transactions", headers=h)
    body = {
        "debtor_account_id": ANNA_CURRENT,
        "creditor_account_id": ANNA_SAVINGS,
        "amount": {"amount": "1.00", "currency": "RUB"},
    }
    paid = client.post(
        f"{API}/payments", json=body, headers={**h, "Idempotency-Key": "audited", "X-Correlation-ID": cid}
    )
    client.patch(
        f"{API}/cards/40000000-0000-4000-8000-000000000001/controls", json={"locked": True}, headers=h
    )
    client.get(
        f"{API}/accounts/{ANNA_CURRENT}/balances", headers=bearer(token_for(client, "boris"))
    )  # refused
    rows = audit_rows(container)[before:]
    assert [r["action"] for r in rows] == [
        "getMyProfile",
        "listTransactions",
        "createPayment",
        "updateCardControls",
    ]
    payment = rows[2]
    assert (payment["customer_id"], payment["client_id"], payment["correlation_id"]) == (
        ANNA,
        "demo-app",
        cid,
    )
    assert payment["resource_id"] == paid.json()["payment_id"]
    assert all(token not in str(r) for r in rows), "the access token must never reach the audit log"


def test_verify_detects_a_changed_entry(client: TestClient, container: Container, tmp_path: Path) -> None:
    client.get(f"{API}/customers/me", headers=bearer(token_for(client)))
    ok = cli_verify(container, tmp_path)
    assert ok.returncode == 0 and ok.stdout.startswith("intact"), ok.stdout + ok.stderr
    last = audit_rows(container)[-1]["seq"]
    with container.db.engine.begin() as conn:
        lift_append_only(conn, "audit_log")
        conn.execute(
            update(orm.audit_log).where(orm.audit_log.c.seq == last).values(customer_id="someone-else")
        )
    broken = cli_verify(container, tmp_path)
    assert broken.returncode == 1 and broken.stdout.startswith("broken"), broken.stdout
    assert f"entry {last} (chain 0 " in broken.stdout and "does not match its MAC" in broken.stdout


def test_verify_detects_deleted_entries(client: TestClient, container: Container, tmp_path: Path) -> None:
    h = bearer(token_for(client))
    for _ in range(3):
        client.get(f"{API}/customers/me", headers=h)
    seqs = [r["seq"] for r in audit_rows(container)]
    with container.db.engine.begin() as conn:
        lift_append_only(conn, "audit_log")
        conn.execute(delete(orm.audit_log).where(orm.audit_log.c.seq == seqs[-2]))
    middle = cli_verify(container, tmp_path)
    assert middle.returncode == 1 and "missing" in middle.stdout, middle.stdout
    with container.db.engine.begin() as conn:  # now cut the tail instead (and repair nothing)
        lift_append_only(conn, "audit_log")
        conn.execute(delete(orm.audit_log).where(orm.audit_log.c.seq == seqs[-1]))
    _, problems = bootstrap.verify_audit(container.db)
    assert any("entries deleted" in p for p in problems), problems


def test_seed_is_the_first_audited_event(container: Container) -> None:
    first = audit_rows(container)[0]
    assert (first["seq"], first["chain"], first["chain_seq"]) == (1, 0, 1)
    assert (first["action"], first["prev_mac"]) == ("seedDemoData", "0" * 64)
