"""Law-enforcement packages: JSON read back by the schema reader, XML valid against the
CyberTipline element order."""

from __future__ import annotations

import json
from pathlib import Path

from lxml import etree
from platform_helpers import Env

from tantalio.lereport.schema import SCHEMA, read_report
from tantalio.platform import reports

XSD = Path(__file__).with_name("data") / "cybertipline_subset.xsd"
H1 = "5a" * 32
H2 = "c3" * 32


def _scenario(env: Env) -> None:
    c = env.client
    c.post("/v1/banks", json={"name": "BASELINE"}, headers=env.admin)
    c.post(
        "/v1/banks/BASELINE/entries",
        headers=env.curate,
        json={
            "entries": [
                {
                    "pdq": H1,
                    "md5": "1" * 32,
                    "category": 1,
                    "source_list": "baseline-2026.json",
                    "original_id": "BL-1",
                },
                {
                    "pdq": H2,
                    "category": 2,
                    "source_list": "baseline-2026.json",
                    "original_id": "BL-2",
                },
            ]
        },
    )
    account = {
        "id": "user-42",
        "username": "sample_user",
        "email": "user42@example.com",
        "service": "Example Chat",
    }
    for ref, h, when, ip in (
        ("photo-1.jpg", {"pdq": H1, "md5": "1" * 32}, "2026-11-01T10:00:00Z", "198.51.100.7"),
        ("photo-2.jpg", {"pdq": H2}, "2026-11-02T11:30:00Z", "198.51.100.8"),
    ):
        r = c.post(
            "/v1/match",
            headers=env.lookup,
            json={
                "hashes": h,
                "content_ref": ref,
                "account": account,
                "upload": {"time": when, "ip": ip},
            },
        )
        assert len(r.json()["matches"]) == 1


def test_json_report_round_trips(any_env: Env, tmp_path: Path) -> None:
    env = any_env  # SQLite and PostgreSQL
    _scenario(env)
    r = env.client.get("/v1/reports/user-42", headers=env.curate)
    assert r.status_code == 200
    path = tmp_path / "report.json"
    path.write_bytes(r.content)
    rep = read_report(path)
    assert (
        rep.schema == SCHEMA
        and rep.account.id == "user-42"
        and rep.account.username == "sample_user"
    )
    assert rep.incident_datetime == "2026-11-01T10:00:00Z"
    assert [(u.file_ref, u.ip) for u in rep.upload_events] == [
        ("photo-1.jpg", "198.51.100.7"),
        ("photo-2.jpg", "198.51.100.8"),
    ]
    f1 = rep.files[0]
    assert (f1.file_ref, f1.md5, f1.pdq) == ("photo-1.jpg", "1" * 32, H1)
    m = f1.matches[0]
    assert (m.bank, m.category, m.source_list, m.original_id, m.distance) == (
        "BASELINE",
        1,
        "baseline-2026.json",
        "BL-1",
        0,
    )
    assert rep.to_dict() == json.loads(r.content)  # the reader keeps everything
    assert env.client.get("/v1/reports/nobody", headers=env.curate).status_code == 404
    assert env.client.get("/v1/reports/user-42", headers=env.lookup).status_code == 403


def test_xml_follows_cybertipline_order(env: Env) -> None:
    _scenario(env)
    r = env.client.get("/v1/reports/user-42?format=xml", headers=env.curate)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    doc = etree.fromstring(r.content)
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    schema.assertValid(doc)
    report = doc.find("report")
    assert [c.tag for c in report] == [
        "incidentSummary",
        "reporter",
        "personOrUserReported",
        "additionalInfo",
    ]
    order = [c.tag for c in doc]
    assert order == ["report", "fileDetails", "fileDetails"]
    fd = doc.findall("fileDetails")[0]
    hashes = {h.get("hashType"): h.text for h in fd.findall("originalFileHash")}
    assert hashes == {"MD5": "1" * 32, "PDQ": H1}
    pairs = {p.findtext("name"): p.findtext("value") for p in fd.iter("nameValuePair")}
    assert pairs["matchedBank"] == "BASELINE" and pairs["originalId"] == "BL-1"
    reported = report.find("personOrUserReported")
    assert reported.findtext("espIdentifier") == "user-42"
    assert [e.findtext("ipAddress") for e in reported.findall("ipCaptureEvent")] == [
        "198.51.100.7",
        "198.51.100.8",
    ]


def test_xsd_rejects_wrong_order() -> None:
    """The order check is real: a package with reporter before incidentSummary fails."""
    schema = etree.XMLSchema(etree.parse(str(XSD)))
    bad = etree.fromstring(
        b"<cybertiplinePackage><report><reporter><reportingPerson><email>a@b.c</email>"
        b"</reportingPerson></reporter><incidentSummary><incidentType>x</incidentType>"
        b"<incidentDateTime>2026-01-01T00:00:00Z</incidentDateTime></incidentSummary></report>"
        b"</cybertiplinePackage>"
    )
    assert not schema.validate(bad)
    assert reports.REPORT_ORDER.index("incidentSummary") < reports.REPORT_ORDER.index("reporter")


def test_md5_only_upload_round_trips_into_a_case(env: Env, tmp_path: Path) -> None:
    """Issue 16: an upload matched by an MD5-only list is reported with the hash it matched
    by (no SHA-256 made up), its account, IP and time with zone; ingested into a case, the
    file is `known` by that MD5 and keeps the account, IP and time."""
    from tantalio.store import repo
    from tantalio.store.uploads import uploads_of_media
    from tantalio.store.workspace import init_workspace
    from tantalio.triage.hashset_import import import_hash_set
    from tantalio.triage.pipeline import IngestOptions, ingest
    from tantalio.triage.results import triage_rows

    md5 = "7e" * 16
    c = env.client
    c.post("/v1/banks", json={"name": "MD5LIST"}, headers=env.admin)
    r = c.post(
        "/v1/banks/MD5LIST/entries",
        headers=env.curate,
        json={"entries": [{"md5": md5, "category": 1, "original_id": "M-1"}]},
    )
    assert r.status_code < 300, r.text
    r = c.post(
        "/v1/match",
        headers=env.lookup,
        json={
            "hashes": {"md5": md5},
            "content_ref": "clip.bin",
            "account": {"id": "user-7", "username": "harbour", "service": "Example Chat"},
            "upload": {"time": "2026-11-05T07:15:00+01:00", "ip": "192.0.2.44", "port": 40001},
        },
    )
    assert [m["signal_type"] for m in r.json()["matches"]] == ["md5"]
    body = c.get("/v1/reports/user-7", headers=env.curate)
    package = tmp_path / "report-user-7.json"
    package.write_bytes(body.content)
    rep = read_report(package)
    (f,) = rep.files
    assert (f.md5, f.sha1, f.sha256) == (md5, None, None)
    assert [(m.signal_type, m.original_id) for m in f.matches] == [("md5", "M-1")]
    assert [(u.file_ref, u.ip, u.port, u.time) for u in rep.upload_events] == [
        ("clip.bin", "192.0.2.44", 40001, "2026-11-05T07:15:00+01:00")
    ]
    assert rep.account.username == "harbour" and rep.account.service == "Example Chat"

    md5_list = tmp_path / "md5.csv"
    md5_list.write_text(f"signal_type,signal,category\nmd5,{md5},1\n")
    with init_workspace(tmp_path / "ws") as ws:
        import_hash_set(ws, md5_list, "hma", "md5-list")
        ingest(ws, "OP-7", [str(package)], options=IngestOptions(in_process=True))
        with ws.session() as s:
            rows = {r.path: r for r in triage_rows(s, repo.get_case(s, "OP-7").id)}
            row = rows["uploads/clip.bin"]
            (up,) = uploads_of_media(s, [row.media_id])[row.media_id]
    assert (row.verdict, row.algorithm, row.sha256, row.md5) == ("known", "md5", None, md5)
    assert (up.account_id, up.ip, up.port) == ("user-7", "192.0.2.44", 40001)
    assert up.uploaded_at is not None and up.uploaded_at.isoformat() == "2026-11-05T06:15:00"
