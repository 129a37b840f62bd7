"""A thumbnail missing from the workspace is made again from the evidence (the media page):
for a picture of the second folder of a multi-source exhibit it is read from that folder,
which the exhibit recorded with its prefix (issue 17), not looked for under the first."""

from __future__ import annotations

import random
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tantalio.demo import synth
from tantalio.store.cases import File
from tantalio.store.media import Media
from tantalio.triage.pipeline import IngestOptions, ingest

from .conftest import WebEnv, client_for, grant_all, login

pytestmark = pytest.mark.anyio


async def test_a_missing_thumbnail_is_made_from_the_source_that_holds_the_file(
    web_env: WebEnv, tmp_path: Path
) -> None:
    rng = random.Random(5)
    for name in ("A", "B"):
        synth.write(
            tmp_path / "ev" / name / "p.jpg", synth.jpeg_bytes(synth.picture(rng, 320, 240))
        )
    ws = web_env.workspace
    options = IngestOptions(in_process=True, progress=False, thumbnails=False, classify=False)
    ingest(ws, "CASE-1", [str(tmp_path / "ev" / "A"), str(tmp_path / "ev" / "B")], "X", options)
    grant_all(ws)
    with ws.session() as db:
        mid = db.scalar(select(File.media_id).where(File.path == "B/p.jpg"))
        assert mid is not None and db.get(Media, mid).thumbnail is None  # type: ignore[union-attr]
    async with client_for(web_env) as client:
        await login(client, "erin")
        r: httpx.Response = await client.get(f"/api/media/{mid}/thumbnail")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    with ws.session() as db:
        assert db.get(Media, mid).thumbnail  # type: ignore[union-attr]
