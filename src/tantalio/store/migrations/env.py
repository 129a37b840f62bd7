"""Alembic environment of the workspace database.

Run by `tantalio.store.migrate.upgrade` (connection passed in `config.attributes`) or by the
`alembic` command through `python -m tantalio.store.migrate` (URL from TANTALIO_DB or
`sqlalchemy.url`). Batch mode lets SQLite alter tables by copy-and-move.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from tantalio.store.models_all import metadata

config = context.config


# `migrate revision MSG --only MODULE` limits autogenerate to that module's tables, so one
# team's revision never picks up another team's tables that are still in progress.
_only: set[str] | None = config.attributes.get("only_tables")


def _include(obj, name, type_, reflected, compare_to) -> bool:  # type: ignore[no-untyped-def]
    if _only is None:
        return True
    table = obj if type_ == "table" else getattr(obj, "table", None)
    table_name = name if type_ == "table" else getattr(table, "name", None)
    return table_name in _only


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=True,
        compare_type=True,
        include_object=_include,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("TANTALIO_DB")
    if not url:
        raise SystemExit("set TANTALIO_DB (or sqlalchemy.url) to the database to migrate")
    engine = create_engine(url)
    with engine.begin() as conn:
        _run(conn)
