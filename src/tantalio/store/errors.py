"""Storage failures a run can end with cleanly: the disk (or the database server's disk) is
full, or the database connection was lost (the server restarted). Recognised here, where the
database drivers are known, so ingest and the CLI can say one clear line instead of a driver
traceback (issue 14). Either way every committed batch is kept and a rerun resumes."""

from __future__ import annotations

import errno

from sqlalchemy.exc import DBAPIError

_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
_PG_DISK_FULL = "53100"  # SQLSTATE disk_full


class DiskFullError(Exception):
    """The run stopped because a disk filled up; committed batches are kept and a rerun
    resumes where it stopped."""

    def __init__(self, where: str) -> None:
        super().__init__(f"disk full at {where}; nothing lost; rerun to resume")
        self.where = where


def disk_full_at(exc: BaseException, database: str | None = None) -> str | None:
    """Where the disk filled up, when `exc` (or what caused it) says it did; else None.
    `database` names the store for a database error (a file path or the server)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DiskFullError):
            return current.where
        if isinstance(current, OSError) and current.errno in _NO_SPACE:
            return str(current.filename or database or "the temp area")
        if isinstance(current, DBAPIError):
            orig = current.orig
            code = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
            text = str(orig).lower()
            if code == _PG_DISK_FULL or "database or disk is full" in text:
                return database or "the database"
            if "no space left on device" in text:
                return database or "the database server"
        current = current.__cause__ or current.__context__
    return None


class ConnectionLostError(Exception):
    """The run stopped because the database went away mid-run."""

    def __init__(self, where: str, detail: str) -> None:
        super().__init__(
            f"lost the connection to {where} ({detail}); nothing lost; rerun to resume"
        )
        self.where = where


_GONE = (
    "terminating connection",
    "server closed the connection",
    "connection is closed",
    "consuming input failed",
    "the database system is shutting down",
    "the database system is starting up",
    "connection refused",
    "connection failed",
)


def connection_lost(exc: BaseException) -> str | None:
    """A short reason when `exc` (or what caused it) is the database going away."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionLostError):
            return str(current)
        if isinstance(current, DBAPIError):
            text = str(current.orig).strip().splitlines()[0] if current.orig else ""
            if current.connection_invalidated or any(g in text.lower() for g in _GONE):
                return text or "connection invalidated"
        current = current.__cause__ or current.__context__
    return None


def stopped_run(exc: BaseException, url: str) -> Exception | None:
    """The clean error to end a run with instead of `exc`, or None for any other failure."""
    database = database_location(url)
    where = disk_full_at(exc, database)
    if where is not None:
        return DiskFullError(where)
    reason = connection_lost(exc)
    if reason is not None:
        return ConnectionLostError(database, reason)
    return None


def database_location(url: str) -> str:
    """A database URL as a place a person can free space on (no password)."""
    if url.startswith("sqlite:///"):
        return url.removeprefix("sqlite:///")
    host = url.split("@", 1)[-1].split("/", 1)[0]
    return f"the database server {host}"
