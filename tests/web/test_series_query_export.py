"""Series (create from a selection, find similar, status and flags, cases), query by example
(authenticated, rate limited, audited), exports and ingest from the browser — over the benign
demo case, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json

import httpx
import pytest
from PIL import Image

from tantalio.demo import synth
from tantalio.store import audit as store_audit

from .conftest import DemoEnv, client_for, login
from .demo_case import build_evidence

pytestmark = pytest.mark.anyio


def _events(env: DemoEnv, action: str) -> list[store_audit.AuditEvent]:
    with env.session() as db:
        return store_audit.list_audit_events(db, action=action, limit=1000)


async def test_series_from_selection_find_similar_and_identify(
    demo_env: DemoEnv, d_examiner: httpx.AsyncClient, d_vid: httpx.AsyncClient
) -> None:
    m = demo_env.demo.media
    r = await d_examiner.post(
        "/api/series", json={"name": "Lake shore", "media_ids": [m["pic0"], m["cam0"]]}
    )
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    assert r.json()["members"] == 2
    dup = await d_examiner.post("/api/series", json={"name": "Lake  shore", "media_ids": []})
    assert dup.status_code == 409
    proposals = (await d_examiner.get(f"/api/series/{sid}/similar")).json()
    by_reason = {(p["media_id"], p["reason"]) for p in proposals}
    assert by_reason == {
        (m["near_a"], "near-duplicate"),
        (m["near_b"], "near-duplicate"),
        (m["cam1"], "same camera"),
        (m["cam2"], "same camera"),
    }
    near = {p["media_id"]: p["distance"] for p in proposals if p["reason"] == "near-duplicate"}
    assert all(0 <= d <= 31 for d in near.values())
    r = await d_examiner.post(
        f"/api/series/{sid}/members", json={"add": [p["media_id"] for p in proposals]}
    )
    assert (
        sorted(r.json()["added"]) == sorted(p["media_id"] for p in proposals)
        and r.json()["members"] == 6
    )
    assert (await d_examiner.get(f"/api/series/{sid}/similar")).json() == []
    # examiners build series; identification status is the victim-identification specialist's
    assert (
        await d_examiner.patch(f"/api/series/{sid}", json={"status": "identified"})
    ).status_code == 403
    r = await d_vid.patch(
        f"/api/series/{sid}", json={"status": "in progress", "victim_identified": True}
    )
    assert (
        r.status_code == 200
        and r.json()["status"] == "in progress"
        and r.json()["victim_identified"] is True
    )
    assert (await d_vid.patch(f"/api/series/{sid}", json={"status": "lost"})).status_code == 422
    detail = (await d_examiner.get(f"/api/series/{sid}")).json()
    assert [c["reference"] for c in detail["case_list"]] == ["DEMO-1"] and detail["case_list"][0][
        "media"
    ] == 6
    grid = await d_examiner.get(f"/api/cases/{demo_env.demo.case_id}/media", params={"series": sid})
    assert len(grid.json()["items"]) == 6
    actions = [e.action for e in _events(demo_env, "series.") if e.object_id == str(sid)]
    assert sorted(actions) == ["series.create", "series.members", "series.update"]
    page = await d_examiner.get(f"/series/{sid}")
    assert page.status_code == 200 and 'id="find-similar"' in page.text


async def test_series_from_hash_set_is_listed(demo_env: DemoEnv, d_vid: httpx.AsyncClient) -> None:
    rows = (await d_vid.get("/api/series")).json()
    blue = next(r for r in rows if r["name"] == "Blue Lake")
    assert blue["members"] == 2 and blue["cases"] == 1
    assert (await d_vid.get("/series")).status_code == 200


async def test_auditor_cannot_touch_series(d_auditor: httpx.AsyncClient) -> None:
    assert (await d_auditor.get("/api/series")).status_code == 403
    assert (await d_auditor.post("/api/series", json={"name": "x"})).status_code == 403


async def test_query_by_example_upload_and_hash(
    demo_env: DemoEnv, d_examiner: httpx.AsyncClient
) -> None:
    ev = demo_env.demo.evidence
    m = demo_env.demo.media
    original = (ev / "dir0" / "pic00.jpg").read_bytes()
    r = await d_examiner.post("/api/query", files={"file": ("q.jpg", original, "image/jpeg")})
    assert r.status_code == 200, r.text
    hits = {h["media_id"]: (h["algorithm"], h["distance"]) for h in r.json()["media"]}
    assert hits[m["pic0"]][1] == 0 and hits[m["near_a"]][0] == "pdq" and hits[m["near_b"]][1] <= 31
    # a new near-copy (mirrored) that is not in the workspace still finds the original
    img = Image.open(io.BytesIO(original))
    mirrored = synth.jpeg_bytes(synth.mirrored(img), 80)
    r = await d_examiner.post("/api/query", files={"file": ("m.jpg", mirrored, "image/jpeg")})
    assert m["pic0"] in {h["media_id"] for h in r.json()["media"]}
    known_md5 = hashlib.md5((ev / "dir1" / "pic05.jpg").read_bytes()).hexdigest()
    r = await d_examiner.post("/api/query", data={"hash": known_md5.upper()})
    entries = r.json()["entries"]
    assert [(e["hash_set"], e["category"], e["series"]) for e in entries] == [
        ("demo-known", 1, "Blue Lake")
    ]
    assert "md5" not in entries[0] and "sha1" not in entries[0]  # never other hash values
    assert (await d_examiner.post("/api/query", data={"hash": "xyz"})).status_code == 422
    newest = json.loads(_events(demo_env, "query")[0].detail)
    assert newest["input"] == "hash" and newest["value"] == known_md5 and newest["entries"] == 1


async def test_query_by_example_is_rate_limited(demo_env: DemoEnv) -> None:
    async with client_for(demo_env) as c:  # type: ignore[arg-type]
        await login(c, "vicky")
        codes = [
            (await c.post("/api/query", data={"hash": "a" * 32})).status_code for _ in range(6)
        ]
        assert codes == [200] * 5 + [429]
    async with client_for(demo_env) as anon:  # type: ignore[arg-type]
        assert (await anon.post("/api/query", data={"hash": "a" * 32})).status_code == 401


async def test_exports_are_audited_downloads(
    demo_env: DemoEnv, d_examiner: httpx.AsyncClient, d_auditor: httpx.AsyncClient
) -> None:
    case_id = demo_env.demo.case_id
    vics = await d_examiner.post(f"/api/cases/{case_id}/export/vics")
    assert vics.status_code == 200 and "attachment" in vics.headers["content-disposition"]
    doc = json.loads(vics.content)
    assert doc["value"][0]["CaseNumber"] == "DEMO-1" and len(doc["value"][0]["Media"]) >= 20
    head = vics.headers["x-tantalio-audit-head"]  # the audit head before this export's event
    assert doc["@tantalio.auditHead"] == head and len(head.split(":")[1]) == 64
    csv = await d_examiner.post(f"/api/cases/{case_id}/export/csv")
    assert int(csv.headers["x-tantalio-audit-head"].split(":")[0]) > int(head.split(":")[0])
    assert (
        csv.text.splitlines()[0].startswith("exhibit,path,verdict")
        and len(csv.text.splitlines()) == 23
    )
    html = await d_examiner.post(f"/api/cases/{case_id}/export/html")
    assert html.status_code == 200 and "<html" in html.text.lower()
    assert f"--expect {html.headers['x-tantalio-audit-head']}" in html.text
    # the report downloads in the user's language; the case and its values as written
    await d_examiner.put("/api/me/language", json={"locale": "pt"})
    try:
        pt = (await d_examiner.post(f"/api/cases/{case_id}/export/html")).text
    finally:
        await d_examiner.put("/api/me/language", json={"locale": None})
    assert '<html lang="pt">' in pt and "Resumo de auditoria" in pt and "DEMO-1" in pt
    assert "Audit summary" not in pt
    assert (await d_examiner.post(f"/api/cases/{case_id}/export/pdf")).status_code == 404
    assert (await d_auditor.post(f"/api/cases/{case_id}/export/csv")).status_code == 403
    formats = [
        json.loads(e.detail)["format"] for e in _events(demo_env, "export") if e.username == "erin"
    ]
    assert sorted(formats[:4]) == ["csv", "html", "html", "vics"]


async def test_ingest_from_the_browser_with_progress(
    demo_env: DemoEnv, d_examiner: httpx.AsyncClient, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    r = await d_examiner.post("/api/cases", json={"reference": "WEB-2", "title": "second phone"})
    assert r.status_code == 201
    case_id = r.json()["id"]
    assert (await d_examiner.post("/api/cases", json={"reference": "WEB-2"})).status_code == 409
    build_evidence(tmp_path / "evidence" / "phone2", seed=11)
    r = await d_examiner.post(
        f"/api/cases/{case_id}/ingest",
        json={"source": str(tmp_path / "evidence" / "phone2"), "exhibit": "phone2"},
    )
    assert r.status_code == 202 and r.json()["expected"] == 22
    for _ in range(300):
        status = (await d_examiner.get(f"/api/cases/{case_id}/ingest")).json()
        if not status["running"]:
            break
        await asyncio.sleep(0.2)
    assert status["jobs"][0]["state"] == "done", status
    assert status["files"] == 22 and status["exhibits"][0]["status"] == "complete"
    bad = await d_examiner.post(
        f"/api/cases/{case_id}/ingest", json={"source": str(tmp_path / "evidence" / "nowhere")}
    )
    assert bad.status_code == 400
    assert _events(demo_env, "ingest.start")[0].object_id == str(case_id)


async def test_chat_network_page_and_graph_export(
    demo_env: DemoEnv, d_examiner: httpx.AsyncClient, d_auditor: httpx.AsyncClient
) -> None:
    from pathlib import Path

    from tantalio.triage.chat_import import import_chats

    phone = Path(__file__).resolve().parents[1] / "data" / "chats" / "scenario" / "phone1"
    import_chats(demo_env.workspace, "DEMO-1", phone, exhibit="phone1")
    case_id = demo_env.demo.case_id
    body = (await d_examiner.get(f"/api/cases/{case_id}/network", params={"top": 5})).json()
    assert body["accounts"] > 0 and 0 < len(body["ranking"]) <= 5
    scores = [r["score"] for r in body["ranking"]]
    assert scores == sorted(scores, reverse=True)
    page = await d_examiner.get(f"/cases/{case_id}/network")
    assert page.status_code == 200 and 'id="ranking"' in page.text
    gexf = await d_examiner.post(f"/api/cases/{case_id}/network/export/gexf")
    assert gexf.status_code == 200 and b"<gexf" in gexf.content
    head = gexf.headers["x-tantalio-audit-head"]  # issue 14: every export carries the head
    assert f"<description>tantalio audit head {head}</description>".encode() in gexf.content
    assert (await d_auditor.get(f"/api/cases/{case_id}/network")).status_code == 403
    event = json.loads(_events(demo_env, "export")[0].detail)
    assert event["what"] == "network" and event["format"] == "gexf"
