"""A case workspace: a directory holding the database (SQLite by default) and index files.

    DIR/workspace.json   marker (format version; optional database URL; optional
                         `match_rules`, the workspace's `tantalio.signals.MatchRules`)
    DIR/tantalio.db      SQLite database, unless TANTALIO_DB or the marker names another
    DIR/index/           persisted PDQ indexes (rebuilt or extended from the database)
    DIR/thumbs/          small thumbnails made at ingest (served blurred by web/ and reports/)

`open_workspace` applies pending Alembic migrations before returning, so every command works
on a current schema. `TANTALIO_DB` (for example `postgresql+psycopg://user@host/db`) overrides
the database of any workspace directory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from tantalio.store import migrate
from tantalio.store.anchor import Anchor
from tantalio.store.models_all import load_models

MARKER = "workspace.json"
DB_FILE = "tantalio.db"
FORMAT = 1
ENV_WORKSPACE = "TANTALIO_WORKSPACE"
ENV_DB = "TANTALIO_DB"


class WorkspaceError(Exception):
    """The workspace cannot be opened or created; the message says what to do."""


@dataclass
class Workspace:
    """An open workspace. `dir` is None when opened from a bare database URL (no index files
    are then persisted; indexes are built in memory)."""

    url: str
    engine: Engine
    dir: Path | None = None
    # workspace.json as read at open (`match_rules`: the workspace's MatchRules settings)
    marker: dict[str, Any] = field(default_factory=dict)
    anchor: Anchor | None = field(init=False, default=None, repr=False)
    _sessions: sessionmaker[Session] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # every session carries the audit anchor: a commit that appended audit events
        # writes a signed checkpoint of the new head outside the database (store/anchor.py)
        self.anchor = Anchor.for_workspace(self.dir)
        self._sessions = sessionmaker(
            self.engine, expire_on_commit=False, info={"audit_anchor": self.anchor}
        )

    def session(self) -> Session:
        return self._sessions()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session committed on success, rolled back on error."""
        with self._sessions.begin() as session:
            yield session

    @property
    def index_dir(self) -> Path | None:
        return None if self.dir is None else self.dir / "index"

    @property
    def thumbs_dir(self) -> Path | None:
        return None if self.dir is None else self.dir / "thumbs"

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def is_url(target: str | os.PathLike[str]) -> bool:
    return "://" in str(target)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with tantalio's connection settings (SQLite: WAL, foreign keys, waits on
    locks instead of failing, since ingest and the web app share one file)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60}, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _read_marker(directory: Path) -> dict[str, Any]:
    marker = directory / MARKER
    if not marker.is_file():
        raise WorkspaceError(
            f"{directory}: not a tantalio workspace (no {MARKER}); create it with "
            f"`tantalio init {directory}`"
        )
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WorkspaceError(f"{marker}: unreadable workspace marker: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise WorkspaceError(f"{marker}: unsupported workspace format {data!r}")
    return data


def database_url(directory: Path, marker: dict[str, Any] | None = None) -> str:
    """TANTALIO_DB, else the URL recorded at init, else the SQLite file in the directory."""
    env = os.environ.get(ENV_DB)
    if env:
        return env
    if marker and marker.get("database"):
        return str(marker["database"])
    return f"sqlite:///{directory.resolve() / DB_FILE}"


def open_workspace(target: str | os.PathLike[str], *, upgrade: bool = True) -> Workspace:
    """Open a workspace directory (or a bare database URL) and migrate it to head."""
    load_models()
    marker: dict[str, Any] = {}
    if is_url(target):
        url, directory = str(target), None
    else:
        directory = Path(target)
        marker = _read_marker(directory)
        url = database_url(directory, marker)
    engine = make_engine(url)
    if upgrade:
        try:
            migrate.upgrade(engine)
        except Exception:
            engine.dispose()
            raise
    return Workspace(url=url, engine=engine, dir=directory, marker=marker)


def init_workspace(directory: str | os.PathLike[str], database: str | None = None) -> Workspace:
    """Create (or re-open, if it already is one) a workspace directory and its database."""
    path = Path(directory)
    marker = path / MARKER
    if marker.exists():
        return open_workspace(path)
    if path.exists() and not path.is_dir():
        raise WorkspaceError(f"{path}: exists and is not a directory")
    path.mkdir(parents=True, exist_ok=True)
    (path / "index").mkdir(exist_ok=True)
    (path / "thumbs").mkdir(exist_ok=True)
    anchor = Anchor.for_workspace(path)
    if anchor is not None:
        anchor.ensure_key()
    data: dict[str, Any] = {"format": FORMAT}
    if database:
        data["database"] = database
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(marker)
    return open_workspace(path)


def resolve_workspace(target: str | os.PathLike[str] | None) -> str:
    """The workspace a command should use: the option, else TANTALIO_WORKSPACE, else the
    current directory when it is a workspace."""
    if target:
        return str(target)
    env = os.environ.get(ENV_WORKSPACE)
    if env:
        return env
    if (Path.cwd() / MARKER).is_file():
        return "."
    raise WorkspaceError(
        "no workspace: pass -w/--workspace DIR or set TANTALIO_WORKSPACE "
        "(create one with `tantalio init DIR`)"
    )
