"""Android msgstore.db (current and legacy schema, with -wal and wa.db) and iOS ChatStorage."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tantalio.chats.base import ParseContext
from tantalio.chats.record import ChatRecords
from tantalio.chats.registry import parse_exhibit, parse_file

ALICE = "12025550101@s.whatsapp.net"
BOB = "12125550102@s.whatsapp.net"
CAROL = "13105550103@s.whatsapp.net"
DAVE = "14155550104@s.whatsapp.net"
ERIN = "16175550105@s.whatsapp.net"
OWEN = "12025550100@s.whatsapp.net"


def _digests(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _common(out: ChatRecords, facts: dict[str, Any]) -> None:
    group = out.groups[facts["group"]]
    assert group.subject == "Garden Club Weekly"
    assert group.creator == ALICE
    media = {m.media.sha256 for m in out.messages if m.media}
    assert {facts["photo_sha256"], facts["video_sha256"]} <= media  # base64 → hex
    m = out.memberships
    assert m[(group.key, DAVE)].joined_how == "invite_link"
    assert m[(group.key, DAVE)].left_how == "removed"
    assert m[(group.key, ERIN)].left_how == "left"
    assert m[(group.key, BOB)].role == "admin"
    assert m[(group.key, ALICE)].role == "creator"
    texts = [x.text for x in out.messages]
    assert "Line one\nLine two\nwa.me/12125550102" in texts
    assert out.warnings == []


def test_android_current_schema_with_wal(chats_data: Path, facts: dict[str, Any]) -> None:
    exhibit = chats_data / "unit" / "android"
    assert (exhibit / "databases" / "msgstore.db-wal").stat().st_size > 0
    before = _digests(exhibit)
    out = parse_exhibit(exhibit)
    assert _digests(exhibit) == before  # evidence untouched, no -shm left behind
    _common(out, facts)
    # The last messages exist only in the -wal.
    assert out.messages[-1].text is None and out.messages[-1].media is not None
    assert out.accounts[OWEN].is_owner  # from shared_prefs (cc + ph)
    carol = out.accounts[CAROL]  # shown as @lid, resolved through jid_map
    assert carol.lid == "987654321012345@lid"
    assert "Carol" in carol.names  # wa.db names
    forwarded = [x for x in out.messages if x.forwarded]
    assert len(forwarded) == 1 and forwarded[0].media is not None
    assert forwarded[0].media.sha256 == facts["video_sha256"]
    assert forwarded[0].sender == CAROL
    m = out.memberships[(facts["group"], DAVE)]
    assert m.invite_code == facts["invite_code"]  # message_group_invite ties code → group
    assert out.groups[facts["group"]].invite_codes == [facts["invite_code"]]
    assert out.memberships[(facts["group"], OWEN)].added_by == ALICE
    [invite] = [a for a in out.artifacts if a.kind == "whatsapp_invite"]
    assert invite.group == facts["group"] and invite.where.endswith("message 6")
    times = [x.timestamp for x in out.messages]
    assert all(t is not None and t.tzinfo is not None for t in times)


def test_android_legacy_schema(chats_data: Path, facts: dict[str, Any]) -> None:
    out = parse_exhibit(chats_data / "unit" / "android_legacy")
    _common(out, facts)
    owner = [a for a in out.accounts.values() if a.is_owner]
    assert [a.key for a in owner] == ["owner:phone"]  # no preferences beside this one
    assert any(x.forwarded for x in out.messages)


def test_ios_chatstorage(chats_data: Path, facts: dict[str, Any]) -> None:
    out = parse_exhibit(chats_data / "unit" / "ios")
    _common(out, facts)
    assert out.accounts[OWEN].is_owner  # from the WhatsApp property list
    first = min(x.timestamp for x in out.messages if x.timestamp)
    assert first.isoformat() == "2021-01-13T09:00:00+00:00"  # Cocoa epoch converted


def test_missing_optional_table_costs_a_warning(tmp_path: Path, chats_data: Path) -> None:
    src = chats_data / "unit" / "android" / "databases"
    db = tmp_path / "msgstore.db"
    shutil.copyfile(src / "msgstore.db", db)
    shutil.copyfile(src / "msgstore.db-wal", tmp_path / "msgstore.db-wal")
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TABLE message_media")
    conn.close()
    out = parse_file(db, ParseContext(label="msgstore.db"))
    assert out is not None
    assert [str(w) for w in out.warnings] == [
        "msgstore.db: missing table message_media; its details not read"
    ]
    assert len(out.messages) == 15  # everything else still read
    assert all(m.media is None for m in out.messages)


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("corrupt", "corrupt/msgstore.db: unreadable database: file is not a database"),
        (
            "encrypted",
            "encrypted/msgstore.db: not a SQLite database (encrypted backup, or corrupt)",
        ),
        (
            "unknown_schema",
            "unknown_schema/msgstore.db: unknown schema version (not android_msgstore: lacks"
            " table chat, column message.from_me",
        ),
    ],
)
def test_bad_databases_are_named(folder: str, expected: str, chats_data: Path) -> None:
    out = parse_exhibit(chats_data / "bad")
    assert any(str(w).startswith(expected) for w in out.warnings), out.warnings
    assert len(out.messages) == 8  # the text exports beside them are still read


def test_text_export_beside_the_database_joins_its_records(
    tmp_path: Path, chats_data: Path, facts: dict[str, Any]
) -> None:
    """Names in an export that the phone's own contacts give one JID are that JID."""
    exhibit = tmp_path / "phone"
    shutil.copytree(chats_data / "unit" / "android", exhibit)
    shutil.copytree(chats_data / "text" / "android_en_gb", exhibit / "exports")
    out = parse_exhibit(exhibit)
    assert out.warnings == []
    assert list(out.groups) == [facts["group"]]  # "Garden Club Weekly" is the database's group
    assert not [k for k in out.accounts if k.startswith(("local:", "owner:"))]
    assert out.accounts[OWEN].names == ["Owen"]  # push_name from the preferences
    senders = {m.sender for m in out.messages if m.where and m.where.startswith("exports/")}
    assert {ALICE, BOB, OWEN} <= senders


@pytest.mark.parametrize("damage", ["garbage", "truncated header"])
def test_contacts_of_wa_db_survive_a_corrupt_msgstore(
    tmp_path: Path, chats_data: Path, damage: str
) -> None:
    """Issue 14: an unreadable msgstore.db must not take the intact wa.db's contacts with it."""
    src = chats_data / "unit" / "android" / "databases"
    phone = tmp_path / "phone" / "databases"
    phone.mkdir(parents=True)
    shutil.copyfile(src / "wa.db", phone / "wa.db")
    good = (src / "msgstore.db").read_bytes()
    bad = b"\x00garbage" * 512 if damage == "garbage" else good[:16] + bytes(84) + good[100:]
    (phone / "msgstore.db").write_bytes(bad)
    out = parse_exhibit(tmp_path / "phone")
    assert out.messages == []
    named = {k: a.names for k, a in out.accounts.items() if a.names}
    assert named == {
        ALICE: ["Alice", "Alice ~"],
        BOB: ["Bob", "Bob ~"],
        CAROL: ["Carol", "Carol ~"],
        DAVE: ["Dave", "Dave ~"],
        ERIN: ["Erin", "Erin ~"],
    }
    assert any("contacts of databases/wa.db kept" in str(w) for w in out.warnings), out.warnings
