"""An attacker with full write access to the database (who switches the append-only triggers off)
but without the audit key and the seal journal cannot make ``audit verify`` say intact: not by
re-chaining with the public hash function, not by cutting off the newest entries and moving the
heads back, not by editing a seal. And concurrent transactions append without one hot row."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from sandbox_helpers import bearer, lift_append_only, token_for
from sqlalchemy import select, text, update
from starlette.testclient import TestClient

from futurebank.sandbox import bootstrap
from futurebank.sandbox.adapters import orm
from futurebank.sandbox.domain.audit import AuditRecord, StoredEntry, chain_hash
from futurebank.sandbox.entrypoints.app import create_app
from futurebank.sandbox.entrypoints.deps import Container
from futurebank.sandbox.service_layer.unit_of_work import UnitOfWork

API = "/api/v1"


def cli_verify(container: Container, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    settings = container.settings
    return subprocess.run(
        [sys.executable, "-m", "futurebank.sandbox", "audit", "verify"],
        env={
            **os.environ,
            "DATABASE_URL": settings.database_url,
            "SANDBOX_DATA_DIR": str(tmp_path / "cli"),
            "SANDBOX_AUDIT_KEY_FILE": str(settings.audit_key_file),
            "SANDBOX_AUDIT_SEAL_FILE": str(settings.audit_seal_file),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def some_activity(client: TestClient, n: int = 3) -> None:
    h = bearer(token_for(client))
    for _ in range(n):
        assert client.get(f"{API}/customers/me", headers=h).status_code == 200


def chain_entries(container: Container, chain: int) -> list[StoredEntry]:
    with UnitOfWork(container.db) as uow:
        return [e for e in uow.audit.entries() if e.chain == chain]


def test_rechaining_a_copy_with_the_public_function_fails_verify(
    client: TestClient, container: Container, tmp_path: Path
) -> None:
    some_activity(client)
    assert cli_verify(container, tmp_path).returncode == 0
    entries = chain_entries(container, 0)
    target = entries[1]
    prev = target.prev_mac
    with container.db.engine.begin() as conn:
        lift_append_only(conn, "audit_log")
        for e in entries[1:]:  # rewrite one entry, then relink everything after it and the head
            body = dict(e.body, customer_id="someone-else") if e.seq == target.seq else e.body
            digest = chain_hash(prev, body)
            conn.execute(
                update(orm.audit_log)
                .where(orm.audit_log.c.seq == e.seq)
                .values(customer_id=body["customer_id"], prev_mac=prev, mac=digest)
            )
            prev = digest
        conn.execute(
            update(orm.audit_chains)
            .where(orm.audit_chains.c.id == 0)
            .values(seq=entries[-1].chain_seq, mac=prev)
        )
    broken = cli_verify(container, tmp_path)
    assert broken.returncode == 1 and broken.stdout.startswith("broken"), broken.stdout + broken.stderr
    assert (
        f"entry {target.seq} (chain 0 #{target.chain_seq}): content does not match its MAC" in broken.stdout
    )


def test_cutting_off_the_newest_entries_is_caught_by_the_seals(
    client: TestClient, container: Container, tmp_path: Path
) -> None:
    some_activity(client)
    entries = chain_entries(container, 0)
    keep = entries[-3]
    with container.db.engine.begin() as conn:  # delete the last two and move the head back: consistent
        lift_append_only(conn, "audit_log")
        conn.execute(orm.audit_log.delete().where(orm.audit_log.c.seq > keep.seq))
        conn.execute(
            update(orm.audit_chains)
            .where(orm.audit_chains.c.id == 0)
            .values(seq=keep.chain_seq, mac=keep.mac)
        )
    broken = cli_verify(container, tmp_path)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"chain 0 ends at #{keep.chain_seq} but seal" in broken.stdout and "truncated" in broken.stdout


def test_an_edited_seal_is_detected(client: TestClient, container: Container, tmp_path: Path) -> None:
    some_activity(client, 1)
    seal_file = container.settings.audit_seal_file
    assert seal_file is not None
    lines = seal_file.read_text().splitlines()
    last = json.loads(lines[-1])
    last["at"] = "2020-01-01T00:00:00+00:00"  # any change to a seal breaks its MAC
    seal_file.write_text("\n".join([*lines[:-1], json.dumps(last)]) + "\n")
    broken = cli_verify(container, tmp_path)
    assert broken.returncode == 1 and "forged or edited" in broken.stdout, broken.stdout


def test_verify_without_the_key_refuses_to_say_intact(container: Container, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-key"
    done = cli_verify(container, tmp_path, SANDBOX_AUDIT_KEY_FILE=str(missing))
    assert done.returncode == 1 and "no audit key" in done.stdout, done.stdout
    assert not missing.exists(), "verify must never make a new key"


def test_the_key_and_the_seals_live_outside_the_database(container: Container) -> None:
    key_file, seal_file = container.settings.audit_key_file, container.settings.audit_seal_file
    assert key_file is not None and seal_file is not None
    assert key_file.stat().st_mode & 0o077 == 0, "the key is readable by its owner only"
    key = key_file.read_bytes()
    with container.db.engine.connect() as conn:
        for table in ("audit_log", "audit_chains"):
            dump = " ".join(str(row) for row in conn.execute(text(f"SELECT * FROM {table}")))
            assert key.hex() not in dump


def record(n: int) -> AuditRecord:
    return AuditRecord("2026-12-01T00:00:00+00:00", "test", "demo-app", "", "test", str(n), "c", "ok", {})


def test_concurrent_transactions_append_on_separate_chains(container: Container) -> None:
    """PostgreSQL: a second transaction appends while the first still holds its chain (no wait on a
    head row). SQLite has one writer, so there everything goes to chain 0 in turn."""
    if container.db.is_sqlite:
        for n in range(3):
            with UnitOfWork(container.db) as uow:
                uow.audit.append(record(n))
                uow.commit()
        assert {e.chain for e in chain_entries(container, 0)[-3:]} == {0}
    else:
        first_holds = threading.Event()
        release = threading.Event()

        def first() -> None:
            with UnitOfWork(container.db) as uow:
                uow.audit.append(record(1))
                uow.audit.append(record(2))  # the same transaction stays on its chain
                first_holds.set()
                release.wait(30)
                uow.commit()

        worker = threading.Thread(target=first)
        worker.start()
        assert first_holds.wait(30)
        try:
            with UnitOfWork(container.db) as uow:
                uow.session.execute(text("SET LOCAL lock_timeout = '2s'"))  # a wait would fail here
                uow.audit.append(record(3))
                uow.commit()
        finally:
            release.set()
            worker.join(30)
        with container.db.engine.connect() as conn:
            rows = conn.execute(
                select(orm.audit_log.c.resource_id, orm.audit_log.c.chain).where(
                    orm.audit_log.c.action == "test"
                )
            ).all()
        chains = {r[0]: r[1] for r in rows}
        assert chains["1"] == chains["2"] != chains["3"], chains
    count, problems = bootstrap.verify_audit(container.db)
    assert problems == [] and count > 0


def test_a_reset_by_another_process_leaves_no_stale_seal(tmp_path: Path) -> None:
    """The server's sealer still holds heads it committed when a second process (``make reset``, the
    acceptance suite) resets the database; its next seal must not name those vanished entries, or
    ``audit verify`` reports the fresh log as rewritten (seen in CI: 'broken' right after a reset)."""
    from futurebank.sandbox.config import Settings

    settings = Settings(data_dir=tmp_path, seed=False, audit_seal_interval_s=3600.0)
    server = bootstrap.open_database(settings)
    resetter = bootstrap.open_database(settings)
    try:
        bootstrap.reset(server)
        with UnitOfWork(server) as uow:
            uow.audit.append(record(1))
            uow.commit()
        assert server.audit is not None and server.audit._heads, "the server holds unsealed heads"

        bootstrap.reset(resetter)  # another process: it sets the journal aside, not the server's heads
        with UnitOfWork(server) as uow:
            uow.audit.append(record(2))
            uow.commit()
        server.audit.seal()

        entries, problems = bootstrap.verify_audit(resetter)
        assert entries > 0
        assert problems == []
    finally:
        server.dispose()
        resetter.dispose()


def test_cutting_off_entries_before_their_seal_is_written_is_still_caught(
    make_container: Callable[..., Container], tmp_path: Path
) -> None:
    """Heads committed but not yet sealed stay in the sealer's memory, not in the database: deleting
    their entries before the next seal (here the shutdown seal) must not drop them from it."""
    container = make_container(audit_seal_interval_s=3600.0)
    with TestClient(create_app(container)) as client:
        some_activity(client)
        entries = chain_entries(container, 0)
        keep = entries[-2]
        with container.db.engine.begin() as conn:
            lift_append_only(conn, "audit_log")
            conn.execute(orm.audit_log.delete().where(orm.audit_log.c.seq > keep.seq))
            conn.execute(
                update(orm.audit_chains)
                .where(orm.audit_chains.c.id == 0)
                .values(seq=keep.chain_seq, mac=keep.mac)
            )
    container.db.dispose()  # shutdown: the last heads are sealed
    broken = cli_verify(container, tmp_path)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "truncated" in broken.stdout, broken.stdout
