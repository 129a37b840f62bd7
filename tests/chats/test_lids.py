"""WhatsApp `@lid` members next to phone JIDs (issue 15): mapped where a phone's database
holds the mapping (`jid_map`), kept as accounts named by `lid_display_name` otherwise, and
merged across phones whichever phone holds the mapping and in whichever order they come."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from tantalio.chats.registry import parse_exhibit
from tantalio.store.chats import ChatAccount, ChatMessage, load_graph_data
from tantalio.store.workspace import open_workspace
from tantalio.triage.chat_import import import_chats

CAROL = "13105550103@s.whatsapp.net"
CAROL_LID = "987654321012345@lid"


def test_unmapped_lid_is_an_account_named_by_the_phone(chats_data: Path) -> None:
    out = parse_exhibit(chats_data / "unit" / "android_lid")
    assert out.warnings == []
    assert CAROL not in out.accounts
    carol = out.accounts[CAROL_LID]
    assert (carol.jid, carol.lid, carol.names) == (None, CAROL_LID, ["Carol"])
    assert any(m.sender == CAROL_LID for m in out.messages)


def test_mapped_lid_is_the_phone_account(chats_data: Path) -> None:
    out = parse_exhibit(chats_data / "unit" / "android")
    assert CAROL_LID not in out.accounts
    assert out.accounts[CAROL].lid == CAROL_LID


def test_two_databases_of_one_phone_share_the_mapping(chats_data: Path, tmp_path: Path) -> None:
    """An old backup with the mapping and the current database without it, one exhibit."""
    shutil.copytree(chats_data / "unit" / "android_lid" / "databases", tmp_path / "databases")
    backup = tmp_path / "sdcard" / "WhatsApp" / "Databases"
    backup.mkdir(parents=True)
    shutil.copyfile(
        chats_data / "unit" / "android" / "databases" / "msgstore.db",
        backup / "msgstore-2021-01-20.1.db",
    )
    out = parse_exhibit(tmp_path)
    assert CAROL_LID not in out.accounts
    assert out.accounts[CAROL].lid == CAROL_LID
    assert "Carol" in out.accounts[CAROL].names


@pytest.mark.parametrize("order", [("mapped", "unmapped"), ("unmapped", "mapped")])
def test_phones_merge_whichever_holds_the_mapping_first(
    db_url: str, chats_data: Path, order: tuple[str, str]
) -> None:
    folders = {"mapped": "android", "unmapped": "android_lid"}
    with open_workspace(db_url) as ws:
        for label in order:
            result = import_chats(ws, "C1", chats_data / "unit" / folders[label], exhibit=label)
            assert result.summary.warnings == []
        with ws.session() as s:
            rows = s.scalars(select(ChatAccount).where(ChatAccount.lid == CAROL_LID)).all()
            assert [(r.key, r.phone) for r in rows] == [(CAROL, "+13105550103")]
            assert s.scalar(select(ChatAccount).where(ChatAccount.key == CAROL_LID)) is None
            senders = set(s.scalars(select(ChatMessage.sender_id)))
            data = load_graph_data(s)
        assert rows[0].id in senders
        [carol] = [a for a in data.accounts if a.key == CAROL]
        assert carol.exhibits == ["C1/mapped", "C1/unmapped"]
