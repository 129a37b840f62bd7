"""The case dashboard shows each disk image's verification (issue 14), on SQLite and
PostgreSQL: a damaged E01 reads MISMATCH with the damaged range, an intact one MATCH."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from tantalio.triage.pipeline import IngestOptions, ingest

from .conftest import WebEnv, grant_all

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from evidence.ewf_damage import damage_chunk  # noqa: E402
from evidence.helpers import DATA  # noqa: E402

pytestmark = pytest.mark.anyio


async def test_dashboard_shows_match_and_mismatch(
    web_env: WebEnv, examiner: httpx.AsyncClient, tmp_path: Path
) -> None:
    damage_chunk(DATA / "mbr.E01", tmp_path / "bad.E01", 33)
    options = IngestOptions(jobs=1, in_process=True, thumbnails=False, progress=False)
    ingest(
        web_env.workspace, "K", [str(DATA / "mbr.E01"), str(tmp_path / "bad.E01")], None, options
    )
    grant_all(web_env.workspace)  # a case made by ingest has no member until granted
    cases = (await examiner.get("/api/cases")).json()
    case_id = next(c["id"] for c in cases if c["reference"] == "K")
    body = (await examiner.get(f"/api/cases/{case_id}")).json()
    states = {e["label"]: e["verification"] for e in body["exhibits"]}
    assert states == {"bad.E01": "mismatch", "mbr.E01": "match"}
    bad = next(e for e in body["exhibits"] if e["label"] == "bad.E01")
    assert any("corrupt chunk 33" in p for p in bad["verification_problems"])
    page = (await examiner.get(f"/cases/{case_id}")).text
    assert '<span class="badge known" title="corrupt chunk 33' in page
    assert '<span class="badge ok" title="">match</span>' in page
