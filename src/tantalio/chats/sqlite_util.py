"""Open chat databases without touching the evidence, and probe their schema first.

SQLite writes to a database it opens (a `-wal` is checkpointed, a `-shm` created) even for
reads, and recent messages often sit only in the `-wal`. So the database and its `-wal` are
copied to a private temporary directory and that copy is opened read-only: the evidence is
never modified and the `-wal` content is still read.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"


class SchemaError(Exception):
    """The database lacks what a parser needs; the message names the table or column."""


def is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            return fh.read(16) == SQLITE_MAGIC
    except OSError:
        return False


@contextmanager
def open_copy(path: Path) -> Iterator[sqlite3.Connection]:
    """A read-only connection to a private copy of `path` (and its `-wal`, when present)."""
    with tempfile.TemporaryDirectory(prefix="tantalio-chatdb-") as tmp:
        copy = Path(tmp) / path.name
        shutil.copyfile(path, copy)
        wal = path.with_name(path.name + "-wal")
        if wal.is_file():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        # immutable=1 would skip the wal; mode=ro on a private copy lets SQLite replay it.
        conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            yield conn
        finally:
            conn.close()


def schema(conn: sqlite3.Connection) -> dict[str, set[str]]:
    """Tables and their columns (lower-case names)."""
    tables = [
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
    ]
    out: dict[str, set[str]] = {}
    for table in tables:
        cols = conn.execute(f'PRAGMA table_info("{table}")').fetchall()
        out[table.lower()] = {c[1].lower() for c in cols}
    return out


def missing(structure: Mapping[str, tuple[str, ...]], have: dict[str, set[str]]) -> list[str]:
    """What of `structure` (table → required columns) is absent, as `table` or `table.column`."""
    gaps: list[str] = []
    for table, columns in structure.items():
        cols = have.get(table.lower())
        if cols is None:
            gaps.append(f"table {table}")
            continue
        gaps.extend(f"column {table}.{c}" for c in columns if c.lower() not in cols)
    return gaps


def matches(structure: Mapping[str, tuple[str, ...]], have: dict[str, set[str]]) -> bool:
    return not missing(structure, have)


def has(have: dict[str, set[str]], table: str, *columns: str) -> bool:
    cols = have.get(table.lower())
    return cols is not None and all(c.lower() in cols for c in columns)
