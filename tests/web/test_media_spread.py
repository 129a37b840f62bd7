"""The media page names who posted a file first and how it spread across phones (issue 15),
on the three-phone Spanish/Portuguese/English scenario."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tantalio.demo.chatscenario import build_chat_phones
from tantalio.store import auth as store_auth
from tantalio.store.chats import ChatAccount
from tantalio.store.media import Media
from tantalio.store.workspace import init_workspace
from tantalio.triage.chat_import import import_chats
from tantalio.triage.hashset_import import import_hash_set
from tantalio.web.app import WebSettings, create_app

from .conftest import PASSWORD, grant_all, login


@pytest.mark.anyio
async def test_media_page_shows_first_poster_and_spread(tmp_path: Path) -> None:
    scenario = build_chat_phones(tmp_path / "evidence")
    sha, first = next(iter(scenario.first_uploaders.items()))
    ws = init_workspace(tmp_path / "ws")
    try:
        import_hash_set(ws, scenario.hashset, "vics", "standins")
        for label, path in scenario.phones.items():
            import_chats(ws, scenario.case, path, exhibit=label)
        with ws.transaction() as db:
            store_auth.create_user(db, "erin", PASSWORD, "examiner")
            media = Media(sha256=sha, md5="0" * 32, sha1="0" * 40, size=1)
            db.add(media)
            db.flush()
            media_id = media.id
            # the media is a file of the case, so its member erin may see it (issue 14)
            from tantalio.store.cases import Case, Exhibit, File

            exhibit = db.scalar(
                select(Exhibit.id).join(Case).where(Case.reference == scenario.case).limit(1)
            )
            db.add(File(exhibit_id=exhibit, path="sent.jpg", path_key="k", media_id=media_id))
        grant_all(ws)
        with ws.transaction() as db:
            first_id = db.scalar(select(ChatAccount.id).where(ChatAccount.key == first))
        app = create_app(ws, WebSettings())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            await login(c, "erin")
            r = await c.get(f"/api/media/{media_id}")
            assert r.status_code == 200, r.text
            spread = r.json()["spread"]
            assert spread["first"]["sender"] == first and spread["certain"]
            assert spread["groups"] >= 3 and len(spread["exhibits"]) == 3
            assert {c["via"] for c in spread["clocks"]} >= {"anchors"}
            html = (await c.get(f"/media/{media_id}")).text
            assert 'id="first-poster"' in html
            assert f'href="/accounts/{first_id}"' in html.split('id="first-poster"')[1][:400]
            assert "from" in html.split('id="clocks"')[1][:300]  # offsets and their anchors
    finally:
        ws.close()


@pytest.mark.anyio
async def test_spread_leaves_out_the_phones_of_cases_the_user_may_not_see(tmp_path: Path) -> None:
    """Issue 14: a member of one case must not learn another case's phones through the
    spread of a media both hold."""
    from tantalio.store.access import grant
    from tantalio.store.cases import Case, Exhibit, File

    scenario = build_chat_phones(tmp_path / "evidence")
    sha = next(iter(scenario.first_uploaders))
    labels = list(scenario.phones)
    ws = init_workspace(tmp_path / "ws")
    try:
        import_hash_set(ws, scenario.hashset, "vics", "standins")
        for label in labels[:2]:
            import_chats(ws, scenario.case, scenario.phones[label], exhibit=label)
        import_chats(ws, "OTHER-CASE", scenario.phones[labels[2]], exhibit=labels[2])
        with ws.transaction() as db:
            erin = store_auth.create_user(db, "erin", PASSWORD, "examiner")
            media = Media(sha256=sha, md5="0" * 32, sha1="0" * 40, size=1)
            db.add(media)
            db.flush()
            media_id = media.id
            case = db.scalar(select(Case).where(Case.reference == scenario.case))
            exhibit = db.scalar(select(Exhibit.id).where(Exhibit.case_id == case.id).limit(1))
            db.add(File(exhibit_id=exhibit, path="sent.jpg", path_key="k", media_id=media_id))
            grant(db, case, erin)
        app = create_app(ws, WebSettings())
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            await login(c, "erin")
            spread = (await c.get(f"/api/media/{media_id}")).json()["spread"]
            assert spread is not None
            assert len(spread["exhibits"]) == 2  # the third phone is in a case erin cannot see
            assert all(labels[2] not in str(e) for e in spread["exhibits"])
    finally:
        ws.close()
