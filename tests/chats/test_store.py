"""Chat records in the case store, on real SQLite and PostgreSQL (issue 5)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from tantalio.chats.mediator import ChatMediator
from tantalio.chats.record import Account, ChatRecords, Group, MediaRef, Membership, Message
from tantalio.chats.registry import parse_exhibit
from tantalio.hashsets.record import HashEntry as EntryRecord
from tantalio.store.chats import (
    ChatAccount,
    ChatInvite,
    ChatMessage,
    load_graph_data,
)
from tantalio.store.chats.sink import WorkspaceChatSink
from tantalio.store.media import Media
from tantalio.store.repo import create_hash_set, ensure_case, ensure_exhibit
from tantalio.store.workspace import open_workspace

CAROL = "13105550103@s.whatsapp.net"
LID = "987654321012345@lid"


def _save(ws: Any, case: str, label: str, records: ChatRecords) -> int:
    """Through the chat mediator, as ingest and `chats import` do."""
    with ws.transaction() as s:
        c, _ = ensure_case(s, case)
        exhibit_id = int(ensure_exhibit(s, c, label).id)
    mediator = ChatMediator(WorkspaceChatSink(ws, exhibit_id))
    mediator.produce_records(records)
    mediator.flush()
    return exhibit_id


def test_two_phones_one_account_one_message(db_url: str, chats_data: Path) -> None:
    with open_workspace(db_url) as ws:
        _save(ws, "C1", "android", parse_exhibit(chats_data / "unit" / "android"))
        _save(ws, "C1", "ios", parse_exhibit(chats_data / "unit" / "ios"))
        _save(ws, "C1", "ios", parse_exhibit(chats_data / "unit" / "ios"))  # a rerun replaces
        with ws.session() as s:
            keys = set(s.scalars(select(ChatAccount.key)))
            assert CAROL in keys and LID not in keys  # the lid was resolved on the Android
            assert len([k for k in keys if k.endswith("@s.whatsapp.net")]) == 6
            counts = select(ChatMessage.exhibit_id, func.count()).group_by(ChatMessage.exhibit_id)
            per_exhibit = {eid: n for eid, n in s.execute(counts)}
            assert sorted(per_exhibit.values()) == [15, 17]
            data = load_graph_data(s)
        owner = next(a for a in data.accounts if a.key == "12025550100@s.whatsapp.net")
        assert owner.owner_of == ["C1/android", "C1/ios"]
        [group] = data.groups
        assert group.exhibits == ["C1/android", "C1/ios"]
        # Copies of a message on both phones are one post (same WhatsApp message id).
        assert len(data.posts) == 8
        assert dict(data.invites) == {"Gk3Lm9Qp2Rs7Tv1Wx5Yz8": group.id}


def test_lid_seen_first_is_merged_when_a_later_phone_resolves_it(db_url: str) -> None:
    first = ChatRecords()
    first.add_account(Account(key=LID, lid=LID, names=["C."]))
    first.add_group(Group(key="1@g.us", jid="1@g.us", subject="G"))
    first.add_membership(Membership(group="1@g.us", account=LID, joined_how="listed"))
    first.messages.append(
        Message(
            chat="1@g.us", chat_kind="group", sender=LID, timestamp=None, text="hi", key_id="K1"
        )
    )
    second = ChatRecords()
    second.add_account(
        Account(key=CAROL, jid=CAROL, phone="+13105550103", lid=LID, names=["Carol"])
    )
    second.add_group(Group(key="1@g.us", jid="1@g.us"))
    second.add_membership(Membership(group="1@g.us", account=CAROL, role="admin"))
    third = ChatRecords()  # a later phone that again shows only the lid
    third.add_account(Account(key=LID, lid=LID))
    third.messages.append(
        Message(chat=LID, chat_kind="direct", sender=LID, timestamp=None, text="x")
    )
    with open_workspace(db_url) as ws:
        _save(ws, "C1", "a", first)
        _save(ws, "C2", "b", second)
        _save(ws, "C2", "c", third)
        with ws.session() as s:
            [row] = s.scalars(select(ChatAccount).where(ChatAccount.lid == LID)).all()
            assert (row.key, row.phone, set(row.names or [])) == (
                CAROL,
                "+13105550103",
                {"C.", "Carol"},
            )
            senders = set(s.scalars(select(ChatMessage.sender_id)))
            assert senders == {row.id}
            data = load_graph_data(s)
        [carol] = data.accounts
        assert carol.cases == ["C1", "C2"]  # one person across two cases
        [m] = data.memberships
        assert m.role == "admin"


def test_deleted_file_is_known_through_its_stored_hash(
    db_url: str, chats_data: Path, facts: dict[str, Any]
) -> None:
    with open_workspace(db_url) as ws:
        with ws.transaction() as s:
            create_hash_set(
                s, "stand-ins", [EntryRecord(sha256=facts["video_sha256"], category=1, series="S1")]
            )
            create_hash_set(
                s, "good", [EntryRecord(sha256=facts["photo_sha256"])], kind="known-good"
            )
        _save(ws, "C1", "android", parse_exhibit(chats_data / "unit" / "android"))
        with ws.session() as s:
            data = load_graph_data(s)
            assert set(data.known) == {facts["video_sha256"]}  # the file itself was deleted
            assert data.known[facts["video_sha256"]].category == 1
            assert data.known[facts["video_sha256"]].series == ["S1"]
            assert data.known_good == {facts["photo_sha256"]}
            assert s.scalar(select(func.count()).select_from(ChatInvite)) == 1


def test_messages_link_to_media_rows_in_either_order(
    db_url: str, chats_data: Path, facts: dict[str, Any]
) -> None:
    from tantalio.store.chats import link_media

    photo = facts["photo_sha256"]
    with open_workspace(db_url) as ws:
        _save(ws, "C1", "android", parse_exhibit(chats_data / "unit" / "android"))
        with ws.transaction() as s:
            s.add(Media(sha256=photo, md5="0" * 32, sha1="0" * 40, size=1))
            s.flush()
            assert link_media(s) == 1
        with ws.session() as s:
            linked = s.scalars(select(ChatMessage).where(ChatMessage.media_id.is_not(None))).all()
            assert [m.media_sha256 for m in linked] == [photo]
            data = load_graph_data(s)
        stored = {p.media_sha256: p.media_stored for p in data.posts if p.media_sha256}
        assert stored[photo] is True and stored[facts["video_sha256"]] is False


def test_text_export_names_stay_inside_their_exhibit(db_url: str, chats_data: Path) -> None:
    with open_workspace(db_url) as ws:
        a = _save(ws, "C1", "phone-a", parse_exhibit(chats_data / "text" / "android_de"))
        b = _save(ws, "C1", "phone-b", parse_exhibit(chats_data / "text" / "ios_de"))
        with ws.session() as s:
            keys = set(s.scalars(select(ChatAccount.key)))
    assert {f"x{a}:local:Alice", f"x{b}:local:Alice", f"x{a}:owner:phone"} <= keys
    assert "13105550103@s.whatsapp.net" in keys  # numbers are shared across exhibits


def test_media_ref_hash_kept_without_media_row(db_url: str) -> None:
    sha = hashlib.sha256(b"gone").hexdigest()
    rec = ChatRecords()
    rec.add_account(Account(key="1@s.whatsapp.net", jid="1@s.whatsapp.net"))
    rec.messages.append(
        Message(
            chat="1@s.whatsapp.net",
            chat_kind="direct",
            sender="1@s.whatsapp.net",
            timestamp=None,
            media=MediaRef(sha256=sha),
        )
    )
    with open_workspace(db_url) as ws:
        _save(ws, "C1", "x", rec)
        with ws.session() as s:
            [msg] = s.scalars(select(ChatMessage)).all()
    assert (msg.media_sha256, msg.media_id) == (sha, None)
