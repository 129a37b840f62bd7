"""One phone's text export and database of the same chat: each message stored and counted
once, on real SQLite and PostgreSQL (docs/decisions/chats.md, "Text export and database of
the same chat")."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from tantalio.chats.analyzer import summary_lines
from tantalio.network import build_graph, rank
from tantalio.store.chats import ChatAccount, ChatGroup, ChatMessage, load_graph_data
from tantalio.store.workspace import Workspace, open_workspace
from tantalio.triage.chat_import import import_chats

from .samephone import (
    ALICE,
    BOB,
    DAVE,
    DB_ONLY_TEXT,
    EVENTS,
    EXPORT_NAME,
    EXPORT_ONLY,
    EXPORT_ONLY_TEXT,
    GROUP,
    OTHER_EXPORT,
    PHOTO_SHA256,
    write_phone,
)


def _rows(ws: Workspace, exhibit: str) -> list[ChatMessage]:
    from tantalio.store.cases import Exhibit

    with ws.session() as s:
        eid = s.scalar(select(Exhibit.id).where(Exhibit.label == exhibit))
        return list(s.scalars(select(ChatMessage).where(ChatMessage.exhibit_id == eid)))


def _group_rows(ws: Workspace, rows: list[ChatMessage]) -> list[ChatMessage]:
    with ws.session() as s:
        gid = s.scalar(select(ChatGroup.id).where(ChatGroup.key == GROUP))
    return [r for r in rows if r.group_id == gid]


def test_export_and_database_of_one_group_store_each_message_once(
    db_url: str, tmp_path: Path
) -> None:
    phone = write_phone(tmp_path / "phone")
    with open_workspace(db_url) as ws:
        result = import_chats(ws, "C1", phone, exhibit="phone")
        summary = result.summary
        assert summary.warnings == []
        [note] = summary.exports
        assert note.startswith(
            f"sdcard/WhatsApp/Exports/{EXPORT_NAME}: UTC offset +02:00 (8 messages)"
        )
        assert "9 messages also in the database (stored once), 1 only in the text export" in note
        assert "'Dave' taken as 447700900004@s.whatsapp.net" in note
        assert any(line.startswith("text export: ") for line in summary_lines(summary))
        group = _group_rows(ws, _rows(ws, "phone"))
        with ws.session() as s:
            keys = {a.id: a.key for a in s.scalars(select(ChatAccount))}
    in_db = sum(1 for e in EVENTS if e.in_db)
    # The database's messages, the message only in the export, and the export's banner line.
    assert len(group) == in_db + EXPORT_ONLY + 1
    assert len({r.key_id for r in group if r.key_id}) == in_db
    only = [r for r in group if r.only_in_export]
    assert [(r.text, keys[r.sender_id or 0], r.utc_offset, r.local_time) for r in only] == [
        (EXPORT_ONLY_TEXT, BOB, 120, True)
    ]
    assert only[0].source and only[0].source.endswith(f"{EXPORT_NAME}:13")
    db_only = [r for r in group if r.text == DB_ONLY_TEXT]
    assert [(r.also_in, r.only_in_export) for r in db_only] == [(None, False)]
    matched = [r for r in group if r.also_in]
    assert len(matched) == 9 and all(r.key_id and not r.local_time for r in matched)
    assert all(
        a.startswith(f"sdcard/WhatsApp/Exports/{EXPORT_NAME}:")
        for r in matched
        for a in r.also_in or []
    )
    photo = next(r for r in matched if r.media_kind == "image")
    assert photo.media_sha256 == PHOTO_SHA256
    # "ok" twice in one minute: each copy went to its own sender's database message.
    oks = Counter(keys[r.sender_id or 0] for r in matched if r.text == "ok")
    assert oks == {ALICE: 1, BOB: 1}
    # Dave, named only by a contact name, is the database's Dave: no second account.
    assert DAVE in keys.values() and not any(k.endswith(":local:Dave") for k in keys.values())


def test_an_export_of_a_chat_not_in_the_database_stays_as_it_is(
    db_url: str, tmp_path: Path
) -> None:
    phone = write_phone(tmp_path / "phone")
    with open_workspace(db_url) as ws:
        import_chats(ws, "C1", phone, exhibit="phone")
        rows = [r for r in _rows(ws, "phone") if r.source and OTHER_EXPORT in r.source]
    assert len(rows) == 3
    assert all(r.local_time and not r.only_in_export and r.utc_offset is None for r in rows)


def test_rerunning_the_import_is_idempotent(db_url: str, tmp_path: Path) -> None:
    phone = write_phone(tmp_path / "phone")

    def facts(rows: list[ChatMessage]) -> list[tuple[Any, ...]]:
        return sorted(
            (
                r.fingerprint,
                r.text or "",
                r.only_in_export,
                tuple(r.also_in or ()),
                r.utc_offset or 0,
            )
            for r in rows
        )

    with open_workspace(db_url) as ws:
        first = import_chats(ws, "C1", phone, exhibit="phone").summary
        before = facts(_rows(ws, "phone"))
        again = import_chats(ws, "C1", phone, exhibit="phone").summary
        after = facts(_rows(ws, "phone"))
    assert before == after
    assert (first.messages, first.exports) == (again.messages, again.exports)


def _ranking(ws: Workspace) -> tuple[int, dict[str, int]]:
    with ws.session() as s:
        data = load_graph_data(s)
    results = rank(data, build_graph(data))
    return len(data.posts), {r.key: r.messages for r in results if r.messages}


def test_network_counts_are_the_database_counts_plus_export_only_messages(
    db_url: str, tmp_path: Path
) -> None:
    both = write_phone(tmp_path / "both", other_chat=False)
    db_only = write_phone(tmp_path / "db", export=False, other_chat=False)
    with open_workspace(db_url) as ws:
        import_chats(ws, "C1", db_only, exhibit="db-only")
        posts_db, per_account_db = _ranking(ws)
    with open_workspace(f"sqlite:///{tmp_path / 'second.db'}") as ws:
        import_chats(ws, "C1", both, exhibit="both")
        posts_both, per_account_both = _ranking(ws)
    assert posts_both == posts_db + EXPORT_ONLY
    expected = Counter(per_account_db)
    expected[BOB] += EXPORT_ONLY
    assert per_account_both == dict(expected)


def test_an_export_in_an_unclear_zone_is_kept_with_a_warning(db_url: str, tmp_path: Path) -> None:
    """Two messages are too few to trust an offset: nothing is merged or flagged."""
    few = tuple(e for e in EVENTS if e.added or e.sender == DAVE)  # a group, two texts
    phone = write_phone(tmp_path / "phone", other_chat=False, events=few, offset=timedelta(hours=5))
    with open_workspace(db_url) as ws:
        summary = import_chats(ws, "C1", phone, exhibit="phone").summary
        rows = _rows(ws, "phone")
    assert any("UTC offset not inferred" in w for w in summary.warnings)
    assert not any(r.also_in or r.only_in_export for r in rows)
    assert len([r for r in rows if r.local_time and r.system is None]) == 2


def test_the_revision_runs_down_and_up_on_a_populated_workspace(
    db_url: str, tmp_path: Path
) -> None:
    """The columns come and go with their Alembic revision; stored messages stay, unflagged."""
    from alembic import command
    from sqlalchemy import inspect

    from tantalio.store import migrate

    phone = write_phone(tmp_path / "phone", export=False, other_chat=False)
    with open_workspace(db_url) as ws:
        import_chats(ws, "C1", phone, exhibit="phone")
        count = len(_rows(ws, "phone"))
        cfg = migrate.alembic_config()
        with ws.engine.connect() as conn, migrate._foreign_keys_deferred(conn), conn.begin():
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0003")
        columns = {c["name"] for c in inspect(ws.engine).get_columns("chat_message")}
        assert not {"also_in", "only_in_export", "utc_offset"} & columns
        assert migrate.upgrade(ws.engine) is True
        rows = _rows(ws, "phone")
    assert len(rows) == count and not any(r.only_in_export or r.also_in for r in rows)


def test_the_same_chat_exported_twice_is_matched_by_both_exports(
    db_url: str, tmp_path: Path
) -> None:
    """An examiner finds the export twice on the phone (WhatsApp's Exports folder and
    Downloads): every message is still stored once, the database's rows list both files,
    and the export-only message is one row listing the other file."""
    phone = write_phone(tmp_path / "phone")
    exports = phone / "sdcard" / "WhatsApp" / "Exports"
    downloads = phone / "sdcard" / "Download"
    downloads.mkdir(parents=True)
    (downloads / EXPORT_NAME).write_bytes((exports / EXPORT_NAME).read_bytes())
    with open_workspace(db_url) as ws:
        summary = import_chats(ws, "C1", phone, exhibit="phone").summary
        group = _group_rows(ws, _rows(ws, "phone"))
    notes = [n for n in summary.exports if EXPORT_NAME in n]
    assert len(notes) == 2
    assert all("9 messages also in the database (stored once)" in n for n in notes)
    in_db = sum(1 for e in EVENTS if e.in_db)
    assert len(group) == in_db + EXPORT_ONLY + 2  # each file's banner line is its own
    matched = [r for r in group if r.also_in]
    only = [r for r in group if r.only_in_export]
    assert len([r for r in matched if r.key_id]) == 9
    assert all(
        {a.split("/")[1] for a in r.also_in or []} == {"Download", "WhatsApp"}
        for r in matched
        if r.key_id
    )
    assert [r.text for r in only] == [EXPORT_ONLY_TEXT]
    assert len(only[0].also_in or []) == 1  # the other file's line
