"""Hostile request values (issue 14): ids no row can have are 404, never 500."""

from __future__ import annotations

import json
import random
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from tantalio.demo import synth
from tantalio.reports.html import build_report
from tantalio.store.cases import File
from tantalio.triage.pipeline import IngestOptions, ingest

from .conftest import WebEnv, grant_all

pytestmark = pytest.mark.anyio

HUGE = "99999999999999999999999"
PATHS = [
    f"/api/media/{HUGE}",
    f"/api/cases/{HUGE}",
    f"/api/series/{HUGE}",
    f"/api/accounts/{HUGE}",
    f"/api/cases/{HUGE}/media",
    f"/media/{HUGE}",
    f"/cases/{HUGE}",
    f"/series/{HUGE}",
    f"/api/media/{2**63 - 1}",
    f"/api/media/{2**31}",
]


async def test_out_of_range_ids_are_not_found(examiner: httpx.AsyncClient) -> None:
    for path in PATHS:
        r = await examiner.get(path)
        assert r.status_code == 404, (path, r.status_code, r.text[:200])


async def test_bidi_controls_in_names_are_shown_escaped(
    web_env: WebEnv, examiner: httpx.AsyncClient, tmp_path: Path
) -> None:
    """Issue 14: `x\\u202egpj.exe` must not display as `xexe.jpg` in pages or the report."""
    rng = random.Random(4)
    folder = tmp_path / "card"
    synth.write(folder / "holiday\u202egpj.exe", synth.jpeg_bytes(synth.picture(rng, 96, 64)))
    options = IngestOptions(jobs=1, in_process=True, thumbnails=False, progress=False)
    ingest(web_env.workspace, "B", [str(folder)], None, options)
    grant_all(web_env.workspace)  # a case made by ingest has no member until granted
    with web_env.session() as db:
        media_id = db.scalars(select(File.media_id)).one()
    page = (await examiner.get(f"/media/{media_id}")).text
    assert "holiday[U+202E]gpj.exe" in page and "\u202e" not in page
    api = (await examiner.get(f"/api/media/{media_id}")).json()  # data stays exact
    assert "holiday\u202egpj.exe" in json.dumps(api, ensure_ascii=False)
    with web_env.session() as db:
        build_report(web_env.workspace, db, "B", tmp_path / "report")
    html = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    assert "holiday[U+202E]gpj.exe" in html and "\u202e" not in html
