"""Issue 15: the web's group page shows the same group seen on two phones (a text export on
the Spanish phone, the msgstore.db of the English one) as one group: its members counted
once, each picture once with both phones as where it was seen."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tantalio.demo.chatscenario import build_chat_phones, build_world
from tantalio.store import auth as store_auth
from tantalio.store.cases import Case
from tantalio.store.chats import ChatGroup
from tantalio.store.workspace import init_workspace
from tantalio.triage.chat_import import import_chats
from tantalio.web.app import WebSettings, create_app

from .conftest import PASSWORD, grant_all, login


@pytest.mark.anyio
async def test_group_page_shows_one_group_with_both_phones(tmp_path: Path) -> None:
    lenguas = build_chat_phones(tmp_path / "evidence")
    world = build_world()
    g = next(g for g in world.groups if g.subject == "Amigos del Parque")
    posts = [p for p in world.posts if p.group is g and p.kind == "media"]
    ws = init_workspace(tmp_path / "ws")
    try:
        for label in ("phone-es", "phone-en"):
            import_chats(ws, lenguas.case, lenguas.phones[label], exhibit=label)
        with ws.transaction() as db:
            store_auth.create_user(db, "erin", PASSWORD, "examiner")
            gid = db.scalar(select(ChatGroup.id).where(ChatGroup.key == g.jid))
            case_id = db.scalar(select(Case.id).where(Case.reference == lenguas.case))
        grant_all(ws)
        app = create_app(ws, WebSettings())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            await login(c, "erin")
            r = await c.get(f"/api/groups/{gid}")
            assert r.status_code == 200, r.text
            body = r.json()
            assert [s["exhibit"] for s in body["seen"]] == [
                "OP-LENGUAS/phone-en",
                "OP-LENGUAS/phone-es",
            ]
            assert body["member_count"] == len(g.members)
            assert len(body["messages"]) == len(posts)  # each picture once
            assert all(len(m["exhibits"]) == 2 for m in body["messages"])
            # The English phone's Telegram account of each distributor is drawn linked to
            # their WhatsApp account (the graph the network page shows).
            r = await c.get(f"/api/cases/{case_id}/network/graph", params={"top": 0})
            assert r.status_code == 200, r.text
            graph = r.json()
            keyed = {n["id"]: n for n in graph["nodes"]}
            same = [e for e in graph["edges"] if e["relation"] == "same_number"]
            assert len(same) == 4  # three distributors and the phone's owner
            assert all(
                {keyed[e["source"]]["type"], keyed[e["target"]]["type"]} == {"account"}
                for e in same
            )
            html = (await c.get(f"/groups/{gid}")).text
            assert f'<span id="member-count">{len(g.members)}</span>' in html
            assert "OP-LENGUAS/phone-en, OP-LENGUAS/phone-es" in html
    finally:
        ws.close()
