"""Engine set-up for SQLite (default) and PostgreSQL (psycopg 3).

SQLite: WAL journal, ``synchronous=NORMAL`` (durable at checkpoints, safe against corruption),
a busy timeout, foreign keys on, and every transaction opened with ``BEGIN IMMEDIATE`` so a
writer takes the write lock before it reads the balance it is about to change. Inside one process
writers also queue on a lock, because SQLite's own busy handler waits by sleeping and would wreck
tail latency.

PostgreSQL: READ COMMITTED plus ``SELECT … FOR UPDATE`` on the rows a transaction will change.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from futurebank.sandbox.adapters.audit_seal import AuditSealer, install


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and pick the psycopg 3 driver for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


class Checkpointer:
    """Runs SQLite WAL checkpoints on a background thread.

    In WAL mode with ``synchronous=NORMAL`` a commit does not wait for the disk; only a checkpoint
    (copying the WAL back into the database file) calls fsync. SQLite's automatic checkpoint runs
    inside whichever commit crosses the threshold, which would stall a request (and, with inline
    execution, the whole event loop) for the length of an fsync. Here the connections turn the
    automatic checkpoint off and this thread checkpoints every ``interval`` seconds instead; a
    PASSIVE checkpoint never blocks writers, and the thread waits on I/O without holding the GIL.
    """

    def __init__(self, path: str, interval: float = 0.25) -> None:
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpointer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, timeout=5, check_same_thread=False, isolation_level=None)
        try:
            while not self._stop.wait(self.interval):
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error:  # busy or locked: try again next round
                    continue
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            conn.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def is_lock_timeout(exc: BaseException) -> bool:
    """SQLite's busy timeout ran out because another connection (often another process) holds the
    write lock."""
    if not isinstance(exc, OperationalError):
        return False
    orig = exc.orig
    return isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig)


@dataclass
class Database:
    engine: Engine
    sessions: sessionmaker[Session]
    # Serialises writers inside this process on SQLite; a no-op context on PostgreSQL.
    write_lock: Any = field(default_factory=threading.Lock)
    checkpointer: Checkpointer | None = None
    # The audit log's key and seal journal (``adapters.audit_seal``); set by ``use_audit``.
    audit: AuditSealer | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def use_audit(self, sealer: AuditSealer) -> None:
        self.audit = sealer
        install(self.sessions, sealer)

    def dispose(self) -> None:
        if self.audit is not None:
            self.audit.seal()  # the last heads, so a clean shutdown leaves nothing unsealed
        if self.checkpointer is not None:
            self.checkpointer.stop()
            self.checkpointer = None
        self.engine.dispose()


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None

    def acquire(self, timeout: float = -1) -> bool:
        return True

    def release(self) -> None:
        return None


def make_database(
    url: str, busy_timeout_ms: int = 5000, pool_size: int = 8, background_checkpoints: bool = True
) -> Database:
    url = normalise_url(url)
    parsed = make_url(url)
    checkpointer = None
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            pool_size=pool_size,
            max_overflow=pool_size,
        )
        on_file = bool(parsed.database) and parsed.database != ":memory:"
        background = background_checkpoints and on_file
        _configure_sqlite(engine, busy_timeout_ms, autocheckpoint=not background)
        if background:
            with engine.connect():  # the first connection switches the file to WAL
                pass
            checkpointer = Checkpointer(str(parsed.database))
        lock: Any = threading.Lock()
    else:
        engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        lock = _NoLock()
    sessions = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
    return Database(engine=engine, sessions=sessions, write_lock=lock, checkpointer=checkpointer)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int, autocheckpoint: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself (pysqlite would otherwise
        # open deferred transactions behind our back).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        if not autocheckpoint:
            cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
