"""Alembic environment. The service passes its own connection in ``config.attributes``; the
``alembic`` command line builds one from ``sqlalchemy.url`` or ``DATABASE_URL``."""

from __future__ import annotations

import os
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import Connection, create_engine

from futurebank.sandbox.adapters.db import normalise_url
from futurebank.sandbox.adapters.orm import UtcDateTime, metadata

config = context.config
target_metadata = metadata


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write the UTC wrapper type as the plain column type it stores, so migrations stay frozen
    history instead of importing today's application code."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set DATABASE_URL or sqlalchemy.url in alembic.ini")
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        _run(conn)


if context.is_offline_mode():
    context.configure(
        url=normalise_url(os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url") or ""),
        target_metadata=target_metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
