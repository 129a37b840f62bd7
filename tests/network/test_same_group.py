"""Issue 15: the same group seen on two phones is one group. The Spanish phone holds a text
export of "Amigos del Parque" (and a msgstore.db of its own); the English phone holds the
group in its msgstore.db under its JID. Imported in either order, the case has one group,
its members once each, and each message counted once, with both phones kept as the
message's provenance (the web's group page: tests/web/test_same_group_page.py)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from tantalio.demo.chatscenario import build_world
from tantalio.network import build_graph
from tantalio.store.chats import ChatGroup, ChatMessage, load_graph_data
from tantalio.store.workspace import open_workspace
from tantalio.triage.chat_import import import_chats

PHONES = ["phone-es", "phone-en"]


def _world_group() -> Any:
    world = build_world()
    g = next(g for g in world.groups if g.subject == "Amigos del Parque")
    posts = [p for p in world.posts if p.group is g and p.kind in ("text", "media")]
    return g, posts


@pytest.mark.parametrize("order", [PHONES, PHONES[::-1]])
def test_one_group_members_and_messages_once(db_url: str, lenguas: Any, order: list[str]) -> None:
    g, posts = _world_group()
    with open_workspace(db_url) as ws:
        notes = []
        for label in order:
            result = import_chats(ws, lenguas.case, lenguas.phones[label], exhibit=label)
            assert result.summary.warnings == [], label
            notes += result.summary.exports
        with ws.session() as s:
            data = load_graph_data(s)
            group_id = s.scalar(select(ChatGroup.id).where(ChatGroup.key == g.jid))
            rows = s.execute(
                select(ChatMessage.fingerprint, ChatMessage.exhibit_id).where(
                    ChatMessage.group_id == group_id, ChatMessage.media_sha256.is_not(None)
                )
            ).all()
    assert any("Amigos del Parque" in n and g.jid in n for n in notes), notes
    same = [x for x in data.groups if x.subject == "Amigos del Parque"]
    assert len(same) == 1  # not a JID group and a text export's local group
    group = same[0]
    assert group.key == g.jid
    assert group.exhibits == ["OP-LENGUAS/phone-en", "OP-LENGUAS/phone-es"]
    # Members once each, by their numbers (the Spanish phone's saved names resolved there,
    # Dist Dois's lid mapped on that phone).
    graph = build_graph(data)
    node = f"group:{group.id}"
    members = {
        graph.nodes[m]["key"]
        for m in graph.neighbors(node)
        if graph.edges[node, m]["relation"] == "member"
    }
    assert members == {p.jid for p in g.members}
    # Messages once each: every post of the group is one fingerprint, held by both phones.
    mine = [p for p in data.posts if p.group_id == group.id]
    assert len(mine) == len(posts)
    held: dict[str, set[int]] = {}
    for fp, exhibit in rows:
        held.setdefault(fp, set()).add(exhibit)
    media = [p for p in posts if p.kind == "media"]
    assert len(held) == len(media)  # every picture: one message ...
    assert all(len(ex) == 2 for ex in held.values())  # ... both phones kept as provenance
    # The database's UTC time is the post's time, not the export's Madrid wall clock.
    first_media = min(media, key=lambda p: p.t)
    post = next(
        p
        for p in mine
        if p.media_sha256
        and p.timestamp
        and abs((p.timestamp - first_media.t.replace(tzinfo=None)).total_seconds()) < 60
    )
    assert post is not None


def test_reimporting_the_export_phone_keeps_one_group(db_url: str, lenguas: Any) -> None:
    with open_workspace(db_url) as ws:
        for label in [*PHONES, "phone-es"]:  # a rerun replaces the Spanish phone's rows
            import_chats(ws, lenguas.case, lenguas.phones[label], exhibit=label)
        with ws.session() as s:
            rows = s.scalars(
                select(ChatGroup).where(ChatGroup.subject == "Amigos del Parque")
            ).all()
            data = load_graph_data(s)
    assert len(rows) == 1
    _, posts = _world_group()
    assert len([p for p in data.posts if p.group_id == rows[0].id]) == len(posts)
