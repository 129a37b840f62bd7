"""The media page names who uploaded a reported file, from where and when (issue 16): the
law-enforcement report package's account, IP and upload times, linked to the media, for a
file known only by its MD5 too."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import select

from tantalio.lereport.schema import Account, LEReport, ReportedFile, Reporter, UploadEvent
from tantalio.store.cases import File
from tantalio.store.workspace import Workspace
from tantalio.triage.hashset_import import import_hash_set
from tantalio.triage.pipeline import IngestOptions, ingest

from .conftest import WebEnv, client_for, grant_all, login


@pytest.mark.anyio
async def test_media_page_shows_reported_uploads(
    workspace: Workspace, web_env: WebEnv, tmp_path: Path
) -> None:
    md5 = hashlib.md5(b"reported, md5 only").hexdigest()
    report = LEReport(
        report_id="r-77",
        generated_at="2026-11-28T19:00:00+00:00",
        reporter=Reporter("Example Platform", "Ada", "Lovelace", "tns@example.org"),
        incident_type="Child Pornography (possession, manufacture, and distribution)",
        incident_datetime=None,
        account=Account(id="acct-77", username="river_user", service="ExampleShare"),
        upload_events=[
            UploadEvent("a1", time="2026-11-04T23:30:00-03:00", ip="203.0.113.70", port=443),
            UploadEvent("a1", time="2026-11-06 10:00:00", ip="203.0.113.71"),
        ],
        files=[ReportedFile("a1", md5=md5)],
    )
    package = tmp_path / "report-acct-77.json"
    package.write_text(report.to_json())
    md5_list = tmp_path / "md5.csv"
    md5_list.write_text(f"signal_type,signal,category\nmd5,{md5},1\n")
    import_hash_set(workspace, md5_list, "hma", "md5-list")
    ingest(workspace, "OP-77", [str(package)], options=IngestOptions(in_process=True))
    grant_all(workspace)
    with workspace.session() as db:
        media_id = db.scalar(select(File.media_id).where(File.path == "uploads/a1"))
    async with client_for(web_env) as c:
        await login(c, "erin")
        r = await c.get(f"/api/media/{media_id}")
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["sha256"] is None and body["md5"] == md5
        assert [m["algorithm"] for m in body["matches"]] == ["md5"]
        ups = body["uploads"]
        assert [(u["ip"], u["port"], u["uploaded_at_utc"], u["zone_stated"]) for u in ups] == [
            ("203.0.113.70", 443, "2026-11-05T02:30:00Z", True),
            ("203.0.113.71", None, None, False),
        ]
        assert ups[0]["account_id"] == "acct-77" and ups[0]["account"]["username"] == "river_user"
        html = (await c.get(f"/media/{media_id}")).text
        section = html.split('id="uploads"')[1].split("</section>")[0]
        assert "river_user" in section and "203.0.113.70" in section and "port 443" in section
        assert "2026-11-05 02:30:00" in section and "time zone not stated" in section
        assert "not known" in html.split('id="hashes"')[1][:400]  # no SHA-256, none made up
