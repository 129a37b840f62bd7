"""A pulled list delta that changes verdicts shows on the case dashboard until an examiner
marks it seen (audited), and in the JSON API."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from tantalio.hashsets import deltas
from tantalio.hashsets.record import HashEntry
from tantalio.hashsets.signed import generate_keypair, save_public_key
from tantalio.store import repo
from tantalio.store.auth import AuditEvent
from tantalio.subscriptions.workspace import pull, subscribe
from tantalio.triage.pipeline import ingest

from .conftest import WebEnv, grant_all

pytestmark = pytest.mark.anyio


async def test_notice_on_dashboard_until_dismissed(
    web_env: WebEnv, examiner: httpx.AsyncClient, tmp_path: Path
) -> None:
    ws = web_env.workspace
    phone = tmp_path / "phone"
    (phone / "DCIM").mkdir(parents=True)
    Image.new("RGB", (320, 240), (40, 120, 60)).save(phone / "DCIM" / "lake.png")
    ingest(ws, "OP-9", [str(phone)])
    grant_all(ws)  # a case made by ingest has no member until granted
    with ws.session() as s:
        case_id = repo.get_case(s, "OP-9").id
    md5 = hashlib.md5((phone / "DCIM" / "lake.png").read_bytes()).hexdigest()
    private, public = generate_keypair()
    save_public_key(public, tmp_path / "issuer.pem")
    (tmp_path / "list").mkdir()
    payload = deltas.build_payload("worst", "central", 1, "", [HashEntry(md5=md5, category=1)])
    (tmp_path / "list" / "1.json").write_bytes(deltas.sign_payload(payload, private))
    subscribe(ws, str(tmp_path / "list"), "worst", tmp_path / "issuer.pem")
    pull(ws)

    page = await examiner.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert "Changed from outside this case" in page.text
    assert "List update &#39;worst&#39; (delta 1) changed 1 verdict(s): 1 new → known" in page.text
    assert "DCIM/lake.png" in page.text
    notices = (await examiner.get(f"/api/cases/{case_id}/notices")).json()
    assert [n["files"] for n in notices] == [
        [{"file_id": notices[0]["files"][0]["file_id"], "path": "DCIM/lake.png",
          "before": "new", "after": "known"}]
    ]  # fmt: skip

    r = await examiner.post(f"/api/cases/{case_id}/notices/dismiss")
    assert r.json() == {"dismissed": 1}
    assert (await examiner.get(f"/api/cases/{case_id}/notices")).json() == []
    assert "Changed from outside" not in (await examiner.get(f"/cases/{case_id}")).text
    assert (await examiner.get("/api/cases/999999/notices")).status_code == 404
    with ws.session() as s:
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "case.notices.dismiss")
        ).one()
        assert json.loads(event.detail) == {"dismissed": 1}
