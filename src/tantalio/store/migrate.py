"""Alembic migrations, applied automatically when a workspace is opened.

`upgrade(engine)` brings a database to head under a lock (a PostgreSQL advisory lock, or a
file lock beside a SQLite database) so several processes opening one workspace at once do
not race. Developers add revisions with

    flock /tmp/tantalio-migrations.lock \
        .venv/bin/python -m tantalio.store.migrate revision "msg" --only tantalio.store.chats

which autogenerates against a scratch SQLite database at head (docs/decisions/store.md).
"""

from __future__ import annotations

import fcntl
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"
_PG_LOCK_KEY = 0x7A47A110  # any constant; identifies tantalio's migration lock


def alembic_config(url: str | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


_REVISION = re.compile(r"^revision\b[^=]*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision\b[^=]*=\s*(.+)$", re.M)


@lru_cache(maxsize=1)
def head_revisions() -> frozenset[str]:
    """The head revision(s) of the history. Read from the version files' own
    `revision`/`down_revision` lines, so opening a workspace that is at head never pays
    for importing Alembic; any file that does not parse falls back to Alembic itself."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (SCRIPT_LOCATION / "versions").glob("*.py"):
        text_ = path.read_text(encoding="utf-8")
        rev, down = _REVISION.search(text_), _DOWN.search(text_)
        if rev is None or down is None:
            return _alembic_heads()
        revisions.add(rev.group(1))
        parents.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    return frozenset(revisions - parents)


def _alembic_heads() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


def current_revisions(engine: Engine) -> set[str]:
    """Revisions the database is at (empty for a new database)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return set()
        return {row[0] for row in conn.execute(text("SELECT version_num FROM alembic_version"))}


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _PG_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _PG_LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    with open(f"{database}.migrate.lock", "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def upgrade(engine: Engine) -> bool:
    """Apply pending migrations; True when any ran. Cheap when the database is at head."""
    heads = head_revisions()
    if current_revisions(engine) == set(heads):
        return False
    with _migration_lock(engine):
        if current_revisions(engine) == set(heads):  # another process did it meanwhile
            return False
        _run(engine, "upgrade", "heads")
    return True


def downgrade(engine: Engine, target: str) -> None:
    """Take the database back to revision `target` (a release's rollback, and the tests
    that rebuild an older release's workspace to check an upgrade keeps its data)."""
    with _migration_lock(engine):
        _run(engine, "downgrade", target)


def _run(engine: Engine, direction: str, target: str) -> None:
    """One Alembic command over one connection, SQLite's foreign keys deferred."""
    from alembic import command

    cfg = alembic_config()
    with engine.connect() as conn, _foreign_keys_deferred(conn), conn.begin():
        cfg.attributes["connection"] = conn
        getattr(command, direction)(cfg, target)


@contextmanager
def _foreign_keys_deferred(conn: Connection) -> Iterator[None]:
    """On SQLite, switch foreign-key enforcement off while migrations run, then check.

    Batch mode alters a SQLite table by copying it and dropping the original; with
    `foreign_keys=ON` (set on every workspace connection) dropping a referenced table such as
    `media` fails on a populated workspace. SQLite ignores the pragma inside a transaction, so
    it is set before the migration transaction begins, and `foreign_key_check` afterwards
    refuses to leave a workspace whose references the migration broke.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
    conn.commit()
    try:
        yield
        broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        conn.commit()
        if broken:
            raise RuntimeError(
                f"migration left {len(broken)} broken references, first: {broken[0]}"
            )
    finally:
        conn.exec_driver_sql("PRAGMA foreign_keys=ON")
        conn.commit()


def tables_of_module(module: str) -> set[str]:
    """Names of the tables mapped by classes defined in `module`."""
    import importlib

    from tantalio.store.base import Base

    importlib.import_module(module)
    return {
        m.local_table.name  # type: ignore[attr-defined]
        for m in Base.registry.mappers
        if m.class_.__module__ == module
    }


def _revision(message: str, only: str | None = None) -> None:
    from alembic import command

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'scratch.db'}"
        engine = create_engine(url)
        upgrade(engine)
        cfg = alembic_config(url)
        if only:
            cfg.attributes["only_tables"] = tables_of_module(only)
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.revision(cfg, message=message, autogenerate=True)
        engine.dispose()


def main(argv: list[str]) -> int:
    if len(argv) in (2, 4) and argv[0] == "revision":
        only = argv[3] if len(argv) == 4 and argv[2] == "--only" else None
        if len(argv) == 4 and only is None:
            return main([])
        _revision(argv[1], only)
        return 0
    if argv == ["heads"]:
        print(" ".join(sorted(head_revisions())))
        return 0
    if argv and argv[0] == "upgrade" and len(argv) <= 2:
        import os

        from tantalio.store.models_all import load_models

        url = argv[1] if len(argv) == 2 else os.environ.get("TANTALIO_DB")
        if not url:
            print("upgrade needs a database URL (or TANTALIO_DB)", file=sys.stderr)
            return 2
        load_models()
        engine = create_engine(url)
        ran = upgrade(engine)
        engine.dispose()
        print(f"{'migrated to' if ran else 'already at'} {' '.join(sorted(head_revisions()))}")
        return 0
    print(
        "usage: python -m tantalio.store.migrate revision MESSAGE [--only MODULE] | heads"
        " | upgrade [URL]",
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
