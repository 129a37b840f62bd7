"""Telegram for Android `cache4.db`: TL blobs decoded into accounts, groups, messages."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tantalio.chats import tl
from tantalio.chats.record import ChatRecords, app_of
from tantalio.chats.registry import parse_exhibit, wants

DATA = Path(__file__).resolve().parents[1] / "data" / "chat_apps"
PHONE = DATA / "telegram"
DB = "data/data/org.telegram.messenger/files/cache4.db"


@pytest.fixture(scope="module")
def facts() -> dict[str, Any]:
    return dict(json.loads((DATA / "facts.json").read_text())["telegram"])


@pytest.fixture(scope="module")
def out() -> ChatRecords:
    return parse_exhibit(PHONE)


def test_accounts_with_names_numbers_and_the_owner(out: ChatRecords, facts: dict[str, Any]) -> None:
    users = facts["users"]
    owner = out.accounts[facts["owner"]]
    assert owner.is_owner and owner.phone == "+12025550100"
    assert owner.names == ["Owen Gardner", "@owen_g"]
    assert out.accounts[users["alice"]].names == ["Alice Ames", "@alice_a"]
    assert out.accounts[users["bob"]].phone == "+12125550102"
    assert [a.key for a in out.accounts.values() if a.is_owner] == [facts["owner"]]
    assert {app_of(k) for k in out.accounts} == {"telegram"}


def test_groups_members_and_invite_links(out: ChatRecords, facts: dict[str, Any]) -> None:
    users, group = facts["users"], facts["group"]
    g = out.groups[group]
    assert (g.subject, g.creator) == ("Garden Swap", users["alice"])
    assert g.invite_codes == [facts["invite"]]  # the group's exported link (chatFull)
    m = out.memberships
    assert m[(group, users["alice"])].role == "creator"
    assert (m[(group, users["bob"])].role, m[(group, users["bob"])].left_how) == (
        "admin",
        "removed",
    )
    assert m[(group, users["owen"])].added_by == users["alice"]
    dave = m[(group, users["dave"])]
    assert (dave.joined_how, dave.left_how) == ("invite_link", "left")
    sup = out.groups[facts["supergroup"]]
    assert sup.subject == "Seed Library" and sup.invite_codes == ["t.me/seedlibrary"]
    assert (facts["supergroup"], users["carol"]) in m  # channel_users_v2
    invites = {(a.kind, a.value) for a in out.artifacts}
    assert ("telegram_invite", facts["invite"]) in invites
    assert ("telegram_invite", "t.me/+SeedLib00042abc") in invites  # joinchat form, same value


def test_messages_media_and_forwards(out: ChatRecords, facts: dict[str, Any]) -> None:
    users, group = facts["users"], facts["group"]
    texts = {m.text: m for m in out.messages if m.text}
    photo = texts["Tomato seedlings"]
    assert (photo.chat, photo.sender, photo.chat_kind) == (group, users["bob"], "group")
    assert photo.media and (photo.media.kind, photo.media.size) == ("image", 48000)
    doc = texts["The list"]
    assert doc.from_me and doc.sender == facts["owner"]
    assert doc.media and (doc.media.file_name, doc.media.mime) == (
        "seed_list.pdf",
        "application/pdf",
    )
    assert texts["Forwarding the schedule"].forwarded
    clip = texts["Clip of the garden"]
    assert clip.media and (clip.media.kind, clip.media.file_name) == ("video", "garden.mp4")
    assert clip.key_id == "1500012345:11"  # channel message ids are the same on every phone
    assert texts["Old chat: t.me/joinchat/SeedLib00042abc"].chat == users["bob"]  # layer 143
    assert texts["Seed library opens Saturday"].sender is None  # a channel post
    created = next(m for m in out.messages if m.system == "created")
    assert created.targets == [users["bob"], users["owen"]]
    assert str(created.timestamp) == "2024-01-01 10:00:00+00:00"


def test_what_is_not_decoded_is_counted_never_guessed(out: ChatRecords) -> None:
    assert sorted(w.message for w in out.warnings) == [
        "1 messages of secret chats not read",
        "1 messages whose content was not decoded (Message constructor 0xdeadbeef not supported)",
        "1 users not decoded (User constructor 0x04030201 not supported)",
    ]
    assert all(w.where == DB for w in out.warnings)
    undecoded = [m for m in out.messages if m.where and m.where.endswith("5550102/3")]
    assert len(undecoded) == 1 and undecoded[0].text is None  # the row itself is kept


def test_tl_reader_rejects_truncated_objects() -> None:
    data = (PHONE / DB).read_bytes()
    assert data  # the fixture exists
    conn = sqlite3.connect(PHONE / DB)
    blob = conn.execute("SELECT data FROM messages_v2 WHERE uid = -4001 AND mid = 2").fetchone()[0]
    conn.close()
    assert tl.read_message(blob).text is not None
    with pytest.raises(tl.TLError, match="ends early"):
        tl.read_message(blob[:20])


def test_garbled_database_costs_a_warning_not_the_phone(tmp_path: Path) -> None:
    phone = tmp_path / "phone"
    shutil.copytree(PHONE, phone)
    (phone / DB).write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)  # header, nothing after
    shutil.copytree(DATA / "whatsapp_backup" / "plain", phone / "whatsapp")
    out = parse_exhibit(phone)
    [warning] = out.warnings
    assert warning.where == DB
    assert len(out.messages) > 10  # the WhatsApp database beside it is still read


def test_cache4_is_wanted() -> None:
    assert wants(DB) and wants(DB + "-wal")


def test_without_the_self_user_the_exhibit_owner_sends(tmp_path: Path) -> None:
    phone = tmp_path / "phone"
    shutil.copytree(PHONE, phone)
    conn = sqlite3.connect(phone / DB)
    conn.execute("DELETE FROM users WHERE uid = 5550100")
    conn.commit()
    conn.close()
    out = parse_exhibit(phone)
    mine = [m for m in out.messages if m.from_me]
    assert mine and {m.sender for m in mine} == {"owner:phone"}
    assert out.accounts["owner:phone"].is_owner
