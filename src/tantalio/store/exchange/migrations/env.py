"""Alembic environment for the exchange database (version table `exchange_alembic_version`).

Run programmatically by `tantalio.store.exchange.db.upgrade`, which passes an open
connection in `config.attributes["connection"]`; the same history serves SQLite and PostgreSQL.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from tantalio.store.exchange import models  # noqa: F401  (registers the tables)
from tantalio.store.exchange.base import ExchangeBase

VERSION_TABLE = "exchange_alembic_version"
config = context.config
target_metadata = ExchangeBase.metadata


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        version_table=VERSION_TABLE,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url or a connection is required"
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)
