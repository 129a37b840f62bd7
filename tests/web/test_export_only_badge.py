"""A photo that survives only in a phone's text export (gone from its chat database) is shown
as such on the account and group pages, in the JSON and in the HTML."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from chats.samephone import ALICE, EVENTS, GROUP, PHOTO_SHA256, write_phone
from tantalio.store import auth as store_auth
from tantalio.store.chats import ChatAccount, ChatGroup
from tantalio.store.workspace import init_workspace
from tantalio.triage.chat_import import import_chats
from tantalio.web.app import WebSettings, create_app

from .conftest import PASSWORD, grant_all, login


@pytest.mark.anyio
@pytest.mark.parametrize("deleted_from_database", [True, False])
async def test_a_photo_only_in_the_text_export_is_flagged(
    tmp_path: Path, deleted_from_database: bool
) -> None:
    # The holiday photo was (or was not) deleted from the database after the export was made.
    gone = deleted_from_database
    events = tuple(dataclasses.replace(e, in_db=not gone) if e.photo else e for e in EVENTS)
    phone = write_phone(tmp_path / "phone", events=events)
    ws = init_workspace(tmp_path / "ws")
    try:
        with ws.transaction() as db:
            store_auth.create_user(db, "erin", PASSWORD, "examiner")
        import_chats(ws, "C1", phone, exhibit="phone")
        grant_all(ws)
        with ws.session() as s:
            alice = s.scalar(select(ChatAccount.id).where(ChatAccount.key == ALICE))
            group = s.scalar(select(ChatGroup.id).where(ChatGroup.key == GROUP))
        app = create_app(ws, WebSettings())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            await login(c, "erin")
            for api, page in (
                (f"/api/accounts/{alice}", f"/accounts/{alice}"),
                (f"/api/groups/{group}", f"/groups/{group}"),
            ):
                r = await c.get(api)
                assert r.status_code == 200, r.text
                [photo] = [m for m in r.json()["messages"] if m["sha256"] == PHOTO_SHA256]
                assert photo["only_in_export"] is gone
                html = (await c.get(page)).text
                assert ("only in text export" in html) is gone
    finally:
        ws.close()
