"""A throwaway PostgreSQL server from Debian's binaries, for the benchmark and the tests.

It lives in a directory of its own, listens on loopback only, and trades durability for speed
(``fsync=off``): nothing it holds has to survive a crash. ``make bench`` and the PostgreSQL tests
start one when no server is given to them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PostgresUnavailable(RuntimeError):
    """The server binaries are not installed: the message says what to install."""


@dataclass
class PgServer:
    admin_url: str  # connects to the "postgres" maintenance database
    stop: Callable[[], None]

    def url(self, database: str) -> str:
        return self.admin_url.rsplit("/", 1)[0] + "/" + database


def available() -> bool:
    return (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(base: Path) -> PgServer:
    if not available():
        raise PostgresUnavailable(
            f"PostgreSQL server binaries not found in {PG_BIN}: install them with "
            "`apt-get install postgresql` (or `scripts/bootstrap.sh postgres`)"
        )
    data = base / "pgdata"
    base.mkdir(parents=True, exist_ok=True)
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as the "postgres" system user
        if subprocess.run(["id", "-u", "postgres"], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True)
        shutil.chown(base, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    initdb = [str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]
    subprocess.run([*prefix, *initdb], check=True, capture_output=True)
    options = " ".join(
        (
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1",
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
        )
    )
    pg_ctl = str(PG_BIN / "pg_ctl")
    start_cmd = [pg_ctl, "-D", str(data), "-o", options, "-l", str(base / "pg.log"), "-w", "start"]
    subprocess.run([*prefix, *start_cmd], check=True, capture_output=True)

    def stop() -> None:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)

    return PgServer(f"postgresql://postgres@127.0.0.1:{port}/postgres", stop)
