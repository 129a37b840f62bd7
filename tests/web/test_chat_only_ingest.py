"""A chat-only exhibit ingested from the browser (issue 16): a folder holding only a chat
database, a text export without its media, or a saved web page finishes ingesting — the job
ends `done`, the exhibit is complete, the dashboard stops polling — and its chats appear,
with no error about missing media."""

from __future__ import annotations

import asyncio
import shutil
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tantalio.store.workspace import Workspace
from tantalio.web.app import WebSettings, create_app

from .conftest import WebEnv, client_for, login

CHATS = Path(__file__).resolve().parents[1] / "data" / "chats"
PHONE1 = CHATS / "scenario" / "phone1" / "data" / "data" / "com.whatsapp"


def _evidence(root: Path) -> dict[str, Path]:
    """Three chat-only exhibits under one evidence root; none holds a picture or video."""
    db = root / "phone-db" / "data" / "data" / "com.whatsapp"
    shutil.copytree(PHONE1, db)  # msgstore.db (+ WAL) and wa.db, the media folder left out
    export = root / "text-export"
    export.mkdir(parents=True)
    name = "WhatsApp Chat with Garden Club.txt"
    shutil.copy(CHATS / "text" / "android_en_us" / name, export / name)  # not its picture
    site = root / "saved-page"
    shutil.copytree(CHATS / "scenario" / "saved_site", site)
    return {"phone-db": db.parents[2], "text-export": export, "saved-page": site}


async def _wait(client: httpx.AsyncClient, case_id: int, timeout: float = 600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout  # generous: the shared machine can be loaded
    while True:
        status = (await client.get(f"/api/cases/{case_id}/ingest")).json()
        if not status["running"]:
            return dict(status)
        assert time.monotonic() < deadline, status
        await asyncio.sleep(0.5)


@pytest.mark.anyio
async def test_chat_only_exhibits_ingested_from_the_browser(
    workspace: Workspace, tmp_path: Path
) -> None:
    root = tmp_path / "evidence"
    sources = _evidence(root)
    app = create_app(workspace, WebSettings(evidence_roots=[root]))
    async with client_for(WebEnv(workspace, app)) as erin:
        await login(erin, "erin")
        r = await erin.post("/api/cases", json={"reference": "OP-CHATS"})
        assert r.status_code == 201, r.text
        case_id = r.json()["id"]
        for label, path in sources.items():
            r = await erin.post(
                f"/api/cases/{case_id}/ingest", json={"source": str(path), "exhibit": label}
            )
            assert r.status_code == 202, r.text
            status = await _wait(erin, case_id)
            (job,) = [j for j in status["jobs"] if j["exhibit"] == label]
            assert job["state"] == "done" and job["error"] is None, job
        exhibits = {e["label"]: e for e in status["exhibits"]}
        assert {e["status"] for e in exhibits.values()} == {"complete"}
        assert set(exhibits) == set(sources)
        summary = (await erin.get(f"/api/cases/{case_id}")).json()
        assert summary["verdicts"].get("unreadable", 0) == 0  # no "missing media" errors
        net = (await erin.get(f"/api/cases/{case_id}/network?top=1000")).json()
        assert net["accounts"] == len(net["ranking"]) > 4 and net["edges"] > 0
        groups = {g for r in net["ranking"] for g in r["group_list"]}
        assert {"Circle 01", "Garden Club Weekly"} <= groups  # the database's, the export's
        names = {n for r in net["ranking"] for n in (r.get("names") or [])}
        assert {"Alice", "Bob"} <= names  # from the text export, without its picture
        page = await erin.get(f"/cases/{case_id}")
        assert page.status_code == 200 and "Traceback" not in page.text
