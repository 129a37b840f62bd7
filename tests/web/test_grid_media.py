"""Case dashboard, triage grid (filters, keyset paging), safe thumbnails, reveal, categorize,
tags, notes and the media detail — over the benign demo case, on SQLite and PostgreSQL."""

from __future__ import annotations

import io

import httpx
import numpy as np
import pytest
from PIL import Image

from tantalio.store import audit as store_audit

from .conftest import DemoEnv, client_for

pytestmark = pytest.mark.anyio


def _events(env: DemoEnv, action: str) -> list[store_audit.AuditEvent]:
    with env.session() as db:
        return store_audit.list_audit_events(db, action=action, limit=1000)


async def _all_items(
    client: httpx.AsyncClient, case_id: int, limit: int = 5, **filters: str
) -> list[dict]:
    items: list[dict] = []
    cursor = None
    while True:
        params = {"limit": str(limit), **filters, **({"cursor": cursor} if cursor else {})}
        r = await client.get(f"/api/cases/{case_id}/media", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return items


async def test_dashboard_counts(demo_env: DemoEnv, d_examiner: httpx.AsyncClient) -> None:
    case_id = demo_env.demo.case_id
    body = (await d_examiner.get(f"/api/cases/{case_id}")).json()
    assert body["verdicts"] == {"known": 2, "non-media": 1, "new": 19}
    assert body["kinds"] == {"image": 19, "video": 1, "other": 1}
    assert body["exhibits"][0]["label"] == "laptop" and body["exhibits"][0]["files"] == 22
    page = await d_examiner.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert page.text.index('id="new-queue"') < page.text.index('id="verdict-chart"')


async def test_grid_pages_each_media_once_new_first(
    demo_env: DemoEnv, d_examiner: httpx.AsyncClient
) -> None:
    demo = demo_env.demo
    items = await _all_items(d_examiner, demo.case_id, limit=4)
    ids = [i["media_id"] for i in items]
    assert len(ids) == len(set(ids)) == 20  # 19 images + 1 video; the exact copy shows once
    assert demo.media["copy1"] == demo.media["pic1"]
    verdicts = [i["verdict"] for i in items]
    assert verdicts[:18] == ["new"] * 18 and set(verdicts[18:]) == {"known"}
    priorities = [i["priority"] for i in items if i["priority"] is not None]
    assert priorities == sorted(priorities, reverse=True)
    count = (await d_examiner.get(f"/api/cases/{demo.case_id}/media/count")).json()["count"]
    assert count == 20
    bad = await d_examiner.get(f"/api/cases/{demo.case_id}/media", params={"cursor": "garbage!"})
    assert bad.status_code == 422


@pytest.mark.parametrize(
    ("filters", "roles"),
    [
        ({"verdict": "known"}, {"pic5", "pic6"}),
        ({"kind": "video"}, {"video"}),
        ({"camera": "acme"}, {"cam0", "cam1", "cam2"}),
        ({"camera": "TRAIL 9", "gps": "yes"}, {"cam0"}),
    ],
)
async def test_grid_filters(
    demo_env: DemoEnv, d_examiner: httpx.AsyncClient, filters: dict, roles: set
) -> None:
    items = await _all_items(d_examiner, demo_env.demo.case_id, **filters)
    assert {i["media_id"] for i in items} == {demo_env.demo.media[r] for r in roles}
    count = await d_examiner.get(f"/api/cases/{demo_env.demo.case_id}/media/count", params=filters)
    assert count.json()["count"] == len(roles)


async def test_grid_page_renders_filters_and_tiles(
    demo_env: DemoEnv, d_examiner: httpx.AsyncClient
) -> None:
    r = await d_examiner.get(f"/cases/{demo_env.demo.case_id}/triage", params={"kind": "video"})
    assert r.status_code == 200
    assert r.text.count('class="tile"') == 1 and "video 4s" in r.text
    assert (
        await d_examiner.get(f"/cases/{demo_env.demo.case_id}/triage?gps=maybe")
    ).status_code == 422


async def test_thumbnails_are_blurred_grayscale_and_never_cached(
    demo_env: DemoEnv, d_examiner: httpx.AsyncClient
) -> None:
    mid = demo_env.demo.media["pic3"]
    r = await d_examiner.get(f"/api/media/{mid}/thumbnail")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert "no-store" in r.headers["cache-control"]
    img = Image.open(io.BytesIO(r.content))
    assert img.mode == "L"  # grayscale baked in
    async with client_for(demo_env) as anon:  # type: ignore[arg-type]
        assert (await anon.get(f"/api/media/{mid}/thumbnail")).status_code == 401


async def test_users_choose_their_blur_and_grayscale(
    demo_env: DemoEnv, d_examiner: httpx.AsyncClient
) -> None:
    mid = demo_env.demo.media["pic4"]
    blurred = Image.open(io.BytesIO((await d_examiner.get(f"/api/media/{mid}/thumbnail")).content))
    await d_examiner.put("/api/me/viewing", json={"blur": 0, "grayscale": False})
    sharp = Image.open(io.BytesIO((await d_examiner.get(f"/api/media/{mid}/thumbnail")).content))
    await d_examiner.put("/api/me/viewing", json={"blur": 12, "grayscale": True})
    assert sharp.mode == "RGB"

    def detail(im: Image.Image) -> float:  # mean absolute difference of neighbouring pixels
        g = np.asarray(im.convert("L"), dtype=np.float32)
        return float(np.abs(np.diff(g, axis=1)).mean())

    assert detail(sharp) > 2 * detail(blurred)


async def test_reveal_is_audited_and_the_link_is_personal(
    demo_env: DemoEnv, d_examiner: httpx.AsyncClient, d_vid: httpx.AsyncClient
) -> None:
    mid = demo_env.demo.media["pic7"]
    r = await d_examiner.post(f"/api/media/{mid}/reveal?case={demo_env.demo.case_id}")
    assert r.status_code == 200
    url = r.json()["url"]
    clear = await d_examiner.get(url)
    assert clear.status_code == 200 and "no-store" in clear.headers["cache-control"]
    assert Image.open(io.BytesIO(clear.content)).mode == "RGB"
    assert (await d_vid.get(url)).status_code == 403  # another user
    other = url.replace(f"/api/media/{mid}/", f"/api/media/{demo_env.demo.media['pic8']}/")
    assert (await d_examiner.get(other)).status_code == 403  # another item
    forged = url[:-4] + "AAAA"
    assert (await d_examiner.get(forged)).status_code == 403
    event = _events(demo_env, "media.reveal")[0]
    assert event.username == "erin" and event.object_type == "media" and event.object_id == str(mid)
    assert (
        await d_examiner.post(f"/api/media/{mid}/reveal", headers={"X-CSRF-Token": "x"})
    ).status_code == 403


async def test_bulk_categorize_writes_one_audit_event_per_media(
    demo_env: DemoEnv, d_examiner: httpx.AsyncClient
) -> None:
    m = demo_env.demo.media
    ids = [m["pic9"], m["pic10"], m["pic11"]]
    r = await d_examiner.post("/api/media/categorize", json={"media_ids": ids, "category": 0})
    assert r.status_code == 200 and sorted(r.json()["changed"]) == sorted(ids)
    items = await _all_items(d_examiner, demo_env.demo.case_id, category="0")
    assert {m["pic9"], m["pic10"], m["pic11"]} <= {i["media_id"] for i in items}
    events = [
        e for e in _events(demo_env, "media.categorize") if e.object_id in {str(i) for i in ids}
    ]
    assert len(events) == 3 and all('"category":0' in e.detail for e in events)
    again = await d_examiner.post("/api/media/categorize", json={"media_ids": ids, "category": 0})
    assert again.json()["changed"] == []
    assert (
        await d_examiner.post("/api/media/categorize", json={"media_ids": ids, "category": 9})
    ).status_code == 422


async def test_auditor_and_victim_id_cannot_categorize(
    demo_env: DemoEnv, d_auditor: httpx.AsyncClient, d_vid: httpx.AsyncClient
) -> None:
    body = {"media_ids": [demo_env.demo.media["pic12"]], "category": 1}
    assert (await d_auditor.post("/api/media/categorize", json=body)).status_code == 403
    assert (await d_vid.post("/api/media/categorize", json=body)).status_code == 403
    assert (
        await d_auditor.get(f"/api/media/{demo_env.demo.media['pic12']}/thumbnail")
    ).status_code == 403
    assert (await d_auditor.get("/cases")).status_code == 403


async def test_tags_and_notes(demo_env: DemoEnv, d_examiner: httpx.AsyncClient) -> None:
    mid = demo_env.demo.media["pic13"]
    r = await d_examiner.post(
        "/api/media/tags", json={"media_ids": [mid], "add": ["lake", " blue  sky ", "lake"]}
    )
    assert r.json()["changed"] == {str(mid): ["lake", "blue sky"]}
    r = await d_examiner.post("/api/media/tags", json={"media_ids": [mid], "remove": ["lake"]})
    assert r.json()["changed"] == {str(mid): ["blue sky"]}
    r = await d_examiner.put(f"/api/media/{mid}/notes", json={"notes": "same ridge as pic12"})
    assert r.status_code == 200
    detail = (await d_examiner.get(f"/api/media/{mid}")).json()
    assert detail["tags"] == ["blue sky"] and detail["notes"] == "same ridge as pic12"
    assert len([e for e in _events(demo_env, "media.tags") if e.object_id == str(mid)]) == 2
    assert _events(demo_env, "media.notes")[0].object_id == str(mid)


async def test_media_detail(demo_env: DemoEnv, d_examiner: httpx.AsyncClient) -> None:
    m = demo_env.demo.media
    known = (await d_examiner.get(f"/api/media/{m['pic5']}")).json()
    assert known["matches"][0]["hash_set"] == "demo-known" and known["matches"][0]["category"] == 1
    assert known["matches"][0]["series"] == "Blue Lake" and known["matches"][0]["distance"] == 0
    copy = (await d_examiner.get(f"/api/media/{m['pic1']}")).json()
    assert sorted(o["path"] for o in copy["occurrences"]) == ["copies/same.jpg", "dir1/pic01.jpg"]
    original = (await d_examiner.get(f"/api/media/{m['pic0']}")).json()
    assert {n["media_id"] for n in original["near_duplicates"]} == {m["near_a"], m["near_b"]}
    cam = (await d_examiner.get(f"/api/media/{m['cam0']}")).json()
    assert (
        cam["exif"]["make"] == "Acme"
        and cam["exif"]["serial"] == "SN-4711"
        and "gps_latitude" in cam["exif"]
    )
    page = await d_examiner.get(f"/media/{m['pic0']}?case={demo_env.demo.case_id}")
    assert (
        page.status_code == 200
        and 'id="occurrences"' in page.text
        and page.text.count('class="tile"') == 2
    )
    video = await d_examiner.get(f"/media/{m['video']}")
    assert "Contact sheet of keyframes" in video.text and "<video" not in video.text
    assert (await d_examiner.get("/api/media/999999")).status_code == 404


async def test_media_detail_lists_chat_messages_that_carried_it(
    demo_env: DemoEnv, d_examiner: httpx.AsyncClient
) -> None:
    from tantalio.store.chats import ChatMessage
    from tantalio.store.web_media import media_detail

    m = demo_env.demo.media
    with demo_env.workspace.transaction() as db:
        sha = media_detail(db, m["pic2"]).media.sha256  # type: ignore[union-attr]
        exhibit_id = media_detail(db, m["pic2"]).occurrences[0]["exhibit_id"]  # type: ignore[union-attr]
        db.add(
            ChatMessage(
                exhibit_id=exhibit_id,
                chat_kind="group",
                chat_key="g1",
                fingerprint="f" * 40,
                media_sha256=sha,
                media_name="IMG-2024.jpg",
                text="look at this lake",
            )
        )
    detail = (await d_examiner.get(f"/api/media/{m['pic2']}")).json()
    assert [(x["media_name"], x["text"]) for x in detail["messages"]] == [
        ("IMG-2024.jpg", "look at this lake")
    ]
