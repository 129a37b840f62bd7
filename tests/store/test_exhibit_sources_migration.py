"""The exhibit-sources revision on a populated workspace (SQLite and PostgreSQL): an exhibit
an older release wrote gets its one `source_path` as its single source, without a prefix;
an exhibit without one gets none; going down and up again works."""

from __future__ import annotations

from sqlalchemy import inspect, select, text

from tantalio.store import migrate
from tantalio.store.cases import Exhibit
from tantalio.store.workspace import open_workspace

BEFORE = "b9e4c7d1a352"


def test_old_exhibits_get_their_source_path_as_their_one_source(db_url: str) -> None:
    with open_workspace(db_url) as ws:
        migrate.downgrade(ws.engine, BEFORE)
        assert not inspect(ws.engine).has_table("exhibit_source")
        with ws.engine.begin() as conn:  # the workspace as an older release wrote it
            conn.execute(
                text("INSERT INTO \"case\" (reference, created_at) VALUES ('C-1', :t)"),
                {"t": "2026-01-01 00:00:00"},
            )
            old = [("phone", "zip", "/ev/phone.zip"), ("pc", "folder", "/ev/pc"), ("x", None, None)]
            for label, kind, path in old:
                conn.execute(
                    text(
                        "INSERT INTO exhibit (case_id, label, kind, source_path, status, "
                        "file_count, created_at) SELECT id, :l, :k, :p, 'fast', 0, :t "
                        'FROM "case"'
                    ),
                    {"l": label, "k": kind, "p": path, "t": "2026-01-01 00:00:00"},
                )
        assert migrate.upgrade(ws.engine) is True
        assert migrate.current_revisions(ws.engine) == migrate.head_revisions()
        with ws.session() as db:
            got = {
                ex.label: [(s.position, s.path, s.prefix, s.kind) for s in ex.sources]
                for ex in db.scalars(select(Exhibit))
            }
        assert got == {
            "phone": [(0, "/ev/phone.zip", "", "zip")],
            "pc": [(0, "/ev/pc", "", "folder")],
            "x": [],
        }
        migrate.downgrade(ws.engine, BEFORE)
        assert not inspect(ws.engine).has_table("exhibit_source")
        assert migrate.upgrade(ws.engine) is True
        with ws.session() as db:
            assert sum(len(ex.sources) for ex in db.scalars(select(Exhibit))) == 2


def test_a_rerun_records_new_sources_and_renames_the_prefix_of_known_ones(db_url: str) -> None:
    """An exhibit migrated with its first source only: rerunning its multi-source command
    gives that source its prefix and adds the others after it, once."""
    from tantalio.store import repo

    with open_workspace(db_url) as ws:
        with ws.transaction() as db:
            case, _ = repo.ensure_case(db, "C-1")
            ex = repo.ensure_exhibit(db, case, "X", "folder", "/ev/A")
            repo.record_sources(db, ex, [("/ev/A", "", "folder")])
        for _ in range(2):
            with ws.transaction() as db:
                ex = repo.find_exhibit(db, "C-1", "X")
                repo.record_sources(db, ex, [("/ev/A", "A/", "folder"), ("/ev/b.zip", "", "zip")])
        with ws.session() as db:
            ex = repo.find_exhibit(db, "C-1", "X")
            assert [(s.position, s.path, s.prefix, s.kind) for s in ex.sources] == [
                (0, "/ev/A", "A/", "folder"),
                (1, "/ev/b.zip", "", "zip"),
            ]
