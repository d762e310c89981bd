"""Engine set-up for SQLite (default) and PostgreSQL (psycopg 3).

SQLite: WAL journal, ``synchronous=NORMAL`` (durable at checkpoints, safe against corruption),
a busy timeout, foreign keys on, and every transaction opened with ``BEGIN IMMEDIATE`` so a
writer takes the write lock before it reads the balance it is about to change. Inside one process
writers also queue on a lock, because SQLite's own busy handler waits by sleeping and would wreck
tail latency.

PostgreSQL: READ COMMITTED plus ``SELECT … FOR UPDATE`` on the rows a transaction will change.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and pick the psycopg 3 driver for them."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


@dataclass
class Database:
    engine: Engine
    sessions: sessionmaker[Session]
    # Serialises writers inside this process on SQLite; a no-op context on PostgreSQL.
    write_lock: Any = field(default_factory=threading.Lock)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def dispose(self) -> None:
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


def make_database(url: str, busy_timeout_ms: int = 5000, pool_size: int = 8) -> Database:
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            pool_size=pool_size,
            max_overflow=pool_size,
        )
        _configure_sqlite(engine, busy_timeout_ms)
        lock: Any = threading.Lock()
    else:
        engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
        lock = _NoLock()
    sessions = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
    return Database(engine=engine, sessions=sessions, write_lock=lock)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
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
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
