"""The web app's schema pieces survive every migration: the grid's expression index (which
Alembic's SQLite batch mode would silently drop when recreating `file`) and the audit log's
append-only triggers and head row."""

from __future__ import annotations

from sqlalchemy import text

from tantalio.store.workspace import Workspace


def test_grid_order_index_exists_at_head(workspace: Workspace) -> None:
    with workspace.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            sql = "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_file_grid_order'"
        else:
            sql = "SELECT sql FROM sqlite_master WHERE name = 'ix_file_grid_order'"
        definition = conn.execute(text(sql)).scalar()
    assert definition is not None and "coalesce" in definition.lower()


def test_audit_head_starts_at_genesis(workspace: Workspace) -> None:
    with workspace.engine.connect() as conn:
        head = conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).one()
    assert tuple(head) == (0, "0" * 64)
