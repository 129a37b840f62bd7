from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select

from tantalio.store import migrate
from tantalio.store.cases import Case, Exhibit, File
from tantalio.store.media import Media
from tantalio.store.models_all import metadata
from tantalio.store.workspace import (
    WorkspaceError,
    init_workspace,
    open_workspace,
    resolve_workspace,
)

CASE_TABLES = {"agency", "case", "exhibit", "file", "media", "match", "hash_set", "hash_entry"}


def test_open_url_migrates_to_head_and_creates_every_table(db_url: str) -> None:
    with open_workspace(db_url) as ws:
        tables = set(inspect(ws.engine).get_table_names())
        assert CASE_TABLES | {"series", "media_series", "alembic_version"} <= tables
        assert migrate.current_revisions(ws.engine) == migrate.head_revisions()
        # Every model module's table exists once all revisions ran: migrations and models agree.
        missing = set(metadata.tables) - tables
        assert not missing, f"model tables without an Alembic revision: {sorted(missing)}"


def test_second_open_runs_no_migration(db_url: str) -> None:
    open_workspace(db_url).close()
    with open_workspace(db_url) as ws:
        assert migrate.upgrade(ws.engine) is False


def test_init_creates_directory_marker_and_sqlite(tmp_path: Path) -> None:
    target = tmp_path / "ws"
    with init_workspace(target) as ws:
        assert (target / "workspace.json").is_file()
        assert (target / "tantalio.db").is_file()
        assert ws.index_dir == target / "index" and ws.index_dir.is_dir()
        with ws.transaction() as s:
            s.add(Case(reference="C-1"))
    # Re-running init keeps what is there.
    with init_workspace(target) as ws, ws.session() as s:
        assert s.scalars(select(Case.reference)).all() == ["C-1"]


def test_open_refuses_a_directory_that_is_not_a_workspace(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="not a tantalio workspace"):
        open_workspace(tmp_path)


def test_tantalio_db_overrides_the_directory_database(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TANTALIO_DB", pg_url)
    with init_workspace(tmp_path / "ws") as ws:
        assert ws.engine.dialect.name == "postgresql"
        assert not (tmp_path / "ws" / "tantalio.db").exists()


def test_resolve_workspace_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TANTALIO_WORKSPACE", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WorkspaceError, match="-w/--workspace"):
        resolve_workspace(None)
    monkeypatch.setenv("TANTALIO_WORKSPACE", "/env/ws")
    assert resolve_workspace(None) == "/env/ws"
    assert resolve_workspace("given") == "given"


def test_file_paths_are_unique_per_exhibit(db_url: str) -> None:
    from sqlalchemy.exc import IntegrityError

    with open_workspace(db_url) as ws:
        with ws.transaction() as s:
            case = Case(reference="C")
            ex = Exhibit(case=case, label="phone1")
            s.add_all([case, ex])
            s.flush()
            m = Media(sha256="a" * 64, md5="b" * 32, sha1="c" * 40, size=3)
            s.add(m)
            s.flush()
            s.add(File(exhibit_id=ex.id, path="DCIM/a.jpg", path_key="k", media_id=m.id))
        with pytest.raises(IntegrityError), ws.transaction() as s:
            s.add(File(exhibit_id=ex.id, path="DCIM/a.jpg", path_key="k"))


def test_batch_migration_on_a_populated_workspace_keeps_rows_and_references(
    db_url: str,
) -> None:
    """Going down and up again through a batch-mode revision of `media` (which SQLite does by
    copying and dropping the referenced table) works on a workspace holding data."""
    from alembic import command

    with open_workspace(db_url) as ws:
        with ws.transaction() as s:
            case = Case(reference="C")
            ex = Exhibit(case=case, label="phone1")
            s.add_all([case, ex])
            s.flush()
            m = Media(sha256="a" * 64, md5="b" * 32, sha1="c" * 40, size=3)
            s.add(m)
            s.flush()
            s.add(File(exhibit_id=ex.id, path="DCIM/a.jpg", path_key="k", media_id=m.id))
        engine = ws.engine
        cfg = migrate.alembic_config()
        with engine.connect() as conn, migrate._foreign_keys_deferred(conn), conn.begin():
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0002")
        assert "near_checked" not in {c["name"] for c in inspect(engine).get_columns("media")}
        assert migrate.upgrade(engine) is True
        with ws.transaction() as s:
            file = s.execute(select(File)).scalar_one()
            assert file.media_id is not None
            assert s.get(Media, file.media_id).sha256 == "a" * 64
