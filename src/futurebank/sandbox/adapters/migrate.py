"""Run the Alembic migrations programmatically (the service does this on every start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Upgrade to head on an existing engine; safe to repeat (Alembic records the version)."""
    cfg = alembic_config()
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        conn.commit()


def recreate(connection: Connection) -> None:
    """Drop every table and build the schema again, inside the caller's transaction.

    The maintenance path of ``reset``: postings, journal entries and audit entries are append-only
    (the database refuses UPDATE and DELETE, migration 0002), so a wipe goes through the migrations'
    own downgrade to an empty database and back up to head."""
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.downgrade(cfg, "base")
    command.upgrade(cfg, "head")
