"""A light "is this content already stored?" check for fingerprint worker processes.

Workers start often and must start fast, so this avoids SQLAlchemy, Alembic and the model
modules: the standard `sqlite3` module for a SQLite workspace, psycopg for PostgreSQL.
One read-only query per file, on the `media.sha256` unique index.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

_SQL = "SELECT 1 FROM media WHERE sha256 = {} LIMIT 1"


class MediaProbe:
    def __init__(self, url: str) -> None:
        self.url = url
        self._conn: Any = None
        self._param = "?"

    def _connect(self) -> Any:
        if self.url.startswith("sqlite"):
            import sqlite3

            path = self.url.split(":///", 1)[1] if ":///" in self.url else ""
            lite = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=60)
            lite.execute("PRAGMA query_only = ON")
            self._param = "?"
            return lite
        import psycopg

        parts = urlsplit(self.url)
        dsn = parts._replace(scheme="postgresql").geturl()
        conn = psycopg.connect(unquote(dsn), autocommit=True)
        self._param = "%s"
        return conn

    def stored(self, sha256: str) -> bool:
        if self._conn is None:
            self._conn = self._connect()
        cur = self._conn.execute(_SQL.format(self._param), (sha256,))
        return cur.fetchone() is not None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
