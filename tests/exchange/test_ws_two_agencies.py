"""Two agencies' workspaces and the exchange as real processes, on SQLite and PostgreSQL.

Agency A ingests benign pictures, its examiners categorize three into two series (one already
identified) and A pushes; agency B connects, ingests copies and a resized copy, and its triage
names A (`agencies` key); B puts the copies in its own series and pushes (a series link);
A identifies its second series and pushes again; B's `exchange sync` learns it: verdicts and
JSON updated in every case holding the media, a notice per case, an audit event. The web
pages of B show it ("identified by ... on DATE"). A third workspace ingests while the
exchange is unreachable and catches up at its next sync.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tantalio.demo.exchange import OLD_SERIES, SERIES, build_media, examiner_reviews
from tantalio.store import access, review
from tantalio.store import auth as store_auth
from tantalio.store.audit import list_audit_events, verify_audit_chain
from tantalio.store.exchange_ws import ExchangeQuery, ExchangeSeriesLink
from tantalio.store.repo import get_case
from tantalio.store.subscriptions import CaseNotice
from tantalio.store.workspace import Workspace, init_workspace
from tantalio.triage.pipeline import IngestOptions, ingest
from tantalio.triage.results import triage_rows

from exchange_ws_env import agency_key, cli, database, free_port, serve_exchange  # isort: skip

pytestmark = pytest.mark.xdist_group("exchange-ws")  # one scenario per worker, not per test
AGENCY_KEYS = ["agency", "country", "series", "status", "victim_identified"]
PASSWORD = "correct horse battery"


@dataclass
class Scenario:
    backend: str
    url: str
    root: Path
    ws_a: Workspace
    ws_b: Workspace
    pg: dict[str, str | None]
    key_b: str
    push_a: str = ""
    push_b: str = ""
    ingest_b_notes: list[str] = field(default_factory=list)
    before: dict[str, dict[str, Any]] = field(default_factory=dict)  # B's triage JSON
    sync_out: str = ""
    after: dict[str, dict[str, Any]] = field(default_factory=dict)


def _options() -> IngestOptions:
    return IngestOptions(jobs=1, progress=False, in_process=True)


def _json(ws: Workspace, case: str) -> dict[str, dict[str, Any]]:
    assert ws.dir is not None
    out = cli("triage", case, "--format", "json", "-w", str(ws.dir),
              **({"TANTALIO_DB": ws.url} if not ws.url.startswith("sqlite") else {}))  # fmt: skip
    return {row["path"]: row for row in map(json.loads, out.stdout.splitlines())}


def _ws_env(ws: Workspace) -> dict[str, str]:
    return {} if ws.url.startswith("sqlite") else {"TANTALIO_DB": ws.url}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def scenario(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scenario]:
    backend = request.param
    root = tmp_path_factory.mktemp(f"two-agencies-{backend}")
    evidence_a, evidence_b = build_media(root)
    with (
        database(backend, "exch") as ex_db,
        database(backend, "wsa") as db_a,
        database(backend, "wsb") as db_b,
    ):
        ex_url = ex_db or f"sqlite:///{root / 'exchange.db'}"
        key_a = agency_key(ex_url, "Agency A", "DE")
        key_b = agency_key(ex_url, "Agency B", "FR")
        with serve_exchange(ex_url, root) as url:
            ws_a = init_workspace(root / "ws-a", database=db_a)
            ws_b = init_workspace(root / "ws-b", database=db_b)
            sc = Scenario(backend, url, root, ws_a, ws_b, {"a": db_a, "b": db_b}, key_b)
            try:
                for ws, key in ((ws_a, key_a), (ws_b, key_b)):
                    cli("exchange", "connect", url, "--key", key, "-w", str(ws.dir))
                ingest(ws_a, "A-1", [str(evidence_a)], options=_options())
                examiner_reviews(root / "ws-a", "A-1")
                sc.push_a = cli("exchange", "push", "A-1", "-w", str(ws_a.dir)).stdout
                report = ingest(ws_b, "B-7", [str(evidence_b)], options=_options())
                sc.ingest_b_notes = report.messages
                sc.before = _json(ws_b, "B-7")
                with ws_b.transaction() as s:  # B's examiner: its own series of the copies
                    rows = {r.path: r.media_id for r in triage_rows(s, get_case(s, "B-7").id)}
                    copies = [rows["Downloads/copy_of_0.jpg"], rows["Downloads/copy_of_1.jpg"]]
                    review.create_series(s, "B-S1", [m for m in copies if m is not None])
                    erin = store_auth.create_user(s, "erin", PASSWORD, "examiner")
                    access.grant(s, get_case(s, "B-7"), erin, by_name="(test)")  # her case
                sc.push_b = cli("exchange", "push", "B-7", "-w", str(ws_b.dir)).stdout
                examiner_reviews(root / "ws-a", "A-1", identified=True)
                cli("exchange", "push", "A-1", "-w", str(ws_a.dir))
                sc.sync_out = cli("exchange", "sync", "-w", str(ws_b.dir)).stdout
                sc.after = _json(ws_b, "B-7")
                yield sc
            finally:
                ws_a.close()
                ws_b.close()


def test_push_sends_only_what_examiners_reviewed(scenario: Scenario) -> None:
    # A's exhibit holds 4 pictures; 3 were categorized: only those are pushed
    assert "pushed 3 records of case 'A-1' (3 categorized, 0 flagged)" in scenario.push_a
    assert "3 new, 0 updated, 0 unchanged, 0 refused" in scenario.push_a
    # B's series of two copies is an examiner's flag, not a category
    assert "pushed 2 records of case 'B-7' (0 categorized, 2 flagged)" in scenario.push_b


def test_triage_names_the_other_agency(scenario: Scenario) -> None:
    assert any(
        "asked about 5 media, 3 known at other agencies" in n for n in scenario.ingest_b_notes
    )
    rows = scenario.before
    copy0, copy1 = rows["Downloads/copy_of_0.jpg"], rows["Downloads/copy_of_1.jpg"]
    near, own = rows["Pictures/smaller_2.jpg"], rows["Pictures/own_4.jpg"]
    # A categorized them (category 1): an exact copy is known, the resized copy near-known
    assert (copy0["verdict"], copy1["verdict"], near["verdict"]) == (
        "known",
        "known",
        "near-known",
    )
    assert own["verdict"] == "new" and own["agencies"] == []
    for row in (copy0, copy1, near):
        assert [list(a) for a in row["agencies"]] == [AGENCY_KEYS]
    a = {"agency": "Agency A", "country": "DE"}
    assert copy0["agencies"] == [a | {"series": SERIES, "status": "unidentified",
                                      "victim_identified": False}]  # fmt: skip
    # seen *and identified* by A: the older series
    assert copy1["agencies"] == [a | {"series": OLD_SERIES, "status": "identified",
                                      "victim_identified": True}]  # fmt: skip
    assert near["algorithm"] == "pdq" and near["distance"] <= 31
    assert copy0["category"] == 1 and copy0["series"] == SERIES


def test_sync_learns_the_identification(scenario: Scenario) -> None:
    out = scenario.sync_out
    assert f"Agency A (DE) marked series {SERIES} identified: 2 media of this case" in out
    assert "cases updated: B-7" in out
    for path in ("Downloads/copy_of_0.jpg", "Pictures/smaller_2.jpg"):
        (agency,) = scenario.after[path]["agencies"]
        assert agency["status"] == "identified" and agency["victim_identified"] is True
        assert scenario.after[path]["verdict"] == scenario.before[path]["verdict"]
    assert scenario.after["Pictures/own_4.jpg"]["agencies"] == []
    with scenario.ws_b.session() as s:
        case_id = get_case(s, "B-7").id
        notices = list(s.scalars(select(CaseNotice).where(CaseNotice.case_id == case_id)))
        (event,) = list_audit_events(s, action="exchange.sync")
        assert verify_audit_chain(s).ok
    (notice,) = [n for n in notices if n.kind == "exchange-sync"]
    assert notice.detail is not None
    assert (notice.detail["change"], notice.detail["series"], notice.detail["media"]) == (
        "identified",
        SERIES,
        2,
    )
    files = {f["path"]: (f["before"], f["after"]) for f in notice.detail["files"]}
    assert files == {
        "laptop/Downloads/copy_of_0.jpg": ("unidentified", "identified"),
        "laptop/Pictures/smaller_2.jpg": ("unidentified", "identified"),
    }
    detail = json.loads(event.detail)
    assert detail["cases"] == ["B-7"] and detail["media"] >= 2
    # a second sync has nothing new to say
    again = cli("exchange", "sync", "-w", str(scenario.ws_b.dir), **_ws_env(scenario.ws_b))
    assert "0 changes to 0 media" in again.stdout and "cases updated" not in again.stdout


def test_report_csv_and_html_name_the_agencies(scenario: Scenario, tmp_path: Path) -> None:
    import csv

    cli("report", "B-7", "--out", str(tmp_path / "report"), "-w", str(scenario.ws_b.dir))
    with (tmp_path / "report" / "files.csv").open(encoding="utf-8") as fh:
        rows = {r["path"]: r for r in csv.DictReader(fh)}
    assert rows["Downloads/copy_of_1.jpg"]["agencies"] == (
        f"Agency A (DE) series {OLD_SERIES} identified victim identified"
    )
    assert rows["Pictures/own_4.jpg"]["agencies"] == ""
    html = (tmp_path / "report" / "report.html").read_text(encoding="utf-8")
    section = html[html.index('id="agencies"') : html.index("Unreadable files")]
    assert "other agencies (3)</h2>" in section  # copy_of_0, copy_of_1, smaller_2
    assert (
        '<td translate="no">Agency A</td><td translate="no">DE</td>'
        f'<td translate="no">{OLD_SERIES}</td><td>identified</td><td>yes</td>' in section
    )
    assert "copy_of_1.jpg" in section and "own_4.jpg" not in section


def test_series_links_are_kept(scenario: Scenario) -> None:
    with scenario.ws_b.session() as s:
        links = {
            (r.series, r.agency, r.other_series): r for r in s.scalars(select(ExchangeSeriesLink))
        }
    assert ("B-S1", "Agency A", SERIES) in links, links
    assert links[("B-S1", "Agency A", SERIES)].other_status == "identified"


def test_key_kept_apart_and_private(scenario: Scenario) -> None:
    ws_dir = scenario.ws_b.dir
    assert ws_dir is not None
    key_file = ws_dir / "exchange.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() == scenario.key_b
    config = json.loads((ws_dir / "workspace.json").read_text())
    assert config["exchange"]["url"] == scenario.url
    assert scenario.key_b not in (ws_dir / "workspace.json").read_text()
    key_file.chmod(0o644)
    try:
        done = cli("exchange", "sync", "-w", str(ws_dir), check=False, **_ws_env(scenario.ws_b))
    finally:
        key_file.chmod(0o600)
    assert done.returncode == 1 and "readable by other users" in done.stderr


def test_connect_refuses_a_wrong_key(scenario: Scenario, tmp_path: Path) -> None:
    ws = init_workspace(tmp_path / "ws-x")
    ws.close()
    done = cli("exchange", "connect", scenario.url, "--key", "tnt_nope_nope", "-w",
               str(tmp_path / "ws-x"), check=False)  # fmt: skip
    assert done.returncode == 1 and "refused the key (401" in done.stderr
    assert not (tmp_path / "ws-x" / "exchange.key").exists()
    remote = cli("exchange", "connect", "http://exchange.example.org", "--key", "k", "-w",
                 str(tmp_path / "ws-x"), check=False)  # fmt: skip
    assert remote.returncode == 1 and "--insecure-http" in remote.stderr


def test_offline_ingest_catches_up_at_sync(
    scenario: Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with database(scenario.backend, "wsc") as db_c:
        ws = init_workspace(tmp_path / "ws-c", database=db_c)
        try:
            cli("exchange", "connect", scenario.url, "--key", scenario.key_b, "-w", str(ws.dir))
            evidence = scenario.root / "evidence-B" / "laptop"
            # the exchange is unreachable during this ingest
            monkeypatch.setenv("TANTALIO_EXCHANGE_URL", f"http://127.0.0.1:{free_port()}")
            report = ingest(ws, "C-1", [str(evidence)], options=_options())
            monkeypatch.delenv("TANTALIO_EXCHANGE_URL")
            assert any("5 media not asked" in n and "cannot be reached" in n
                       for n in report.messages), report.messages  # fmt: skip
            assert report.verdicts == {"new": 5}  # the ingest finished, offline
            with ws.session() as s:
                states = [q.state for q in s.scalars(select(ExchangeQuery))]
            assert states == ["pending"] * 5
            info = cli("exchange", "info", "-w", str(ws.dir), **_ws_env(ws))
            assert "media not asked yet: 5 (5 after a failed query)" in info.stdout
            out = cli("exchange", "sync", "-w", str(ws.dir), **_ws_env(ws)).stdout
            assert "asked about 5 media: 3 known at other agencies" in out
            rows = _json(ws, "C-1")
            assert rows["Downloads/copy_of_0.jpg"]["verdict"] == "known"
            assert rows["Pictures/smaller_2.jpg"]["agencies"][0]["status"] == "identified"
            with ws.session() as s:
                assert {q.state for q in s.scalars(select(ExchangeQuery))} == {"done"}
        finally:
            ws.close()


# --- the web pages of B -----------------------------------------------------------------------


def _client(ws: Workspace) -> httpx.AsyncClient:
    from tantalio.web.app import create_app

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(ws)), base_url="http://t")


async def _login(client: httpx.AsyncClient) -> None:
    r = await client.post("/api/login", json={"username": "erin", "password": PASSWORD})
    assert r.status_code == 200, r.text
    client.headers["X-CSRF-Token"] = r.json()["csrf_token"]


def _ids(ws: Workspace) -> tuple[int, dict[str, int]]:
    with ws.session() as s:
        case_id = get_case(s, "B-7").id
        media = {r.path: r.media_id for r in triage_rows(s, case_id) if r.media_id}
    return case_id, media  # type: ignore[return-value]


@pytest.mark.anyio
async def test_web_pages_show_the_agencies(scenario: Scenario) -> None:
    case_id, media = _ids(scenario.ws_b)
    copy0 = media["Downloads/copy_of_0.jpg"]
    async with _client(scenario.ws_b) as client:
        await _login(client)
        page = (await client.get(f"/media/{copy0}")).text
        api = (await client.get(f"/api/media/{copy0}")).json()
        dash = (await client.get(f"/cases/{case_id}")).text
        dash_api = (await client.get(f"/api/cases/{case_id}")).json()
        notices = (await client.get(f"/api/cases/{case_id}/notices")).json()
        series = (await client.get("/api/series")).json()
        sid = next(s["id"] for s in series if s["name"] == "B-S1")
        series_page = (await client.get(f"/series/{sid}")).text
    (agency,) = api["agencies"]
    assert agency["line"].startswith("identified by Agency A (DE) on 20")
    assert agency["line"] in page and 'id="agencies"' in page
    assert "desk of Agency A" in page  # the contact line A chose
    notice = f"Agency A (DE) marked series {SERIES} identified: 2 media of this case"
    assert notice in dash and any(n["text"] == notice for n in notices)
    assert "identified by Agency A (DE) on 20" in dash
    assert dash_api["exchange"]["agencies"][0]["identified"] == 3
    assert 'id="series-links"' in series_page and SERIES in series_page
    assert "identified by Agency A (DE)" in series_page


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


CHROMIUM = "/usr/bin/chromium"


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_media_page_in_chromium(scenario: Scenario, tmp_path: Path) -> None:
    """A screenshot of B's media page with the "identified by" line (saved under
    TANTALIO_SCREENSHOTS when set, else in the test's temp folder)."""
    from playwright.sync_api import sync_playwright

    if scenario.backend != "sqlite":
        pytest.skip("one screenshot is enough (SQLite)")
    import subprocess
    import sys
    import time

    _, media = _ids(scenario.ws_b)
    port = free_port()  # B's web app, as its examiners see it
    proc = subprocess.Popen(
        [sys.executable, "-m", "tantalio.cli.main", "serve", "-w", str(scenario.ws_b.dir),
         "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                httpx.get(f"{url}/login", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.time() < deadline
                time.sleep(0.2)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(f"{url}/login")
            page.fill("#username", "erin")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_load_state("networkidle")
            page.goto(f"{url}/media/{media['Downloads/copy_of_0.jpg']}")
            line = page.locator("#agencies li.identified").first
            assert line.inner_text().startswith("identified by Agency A (DE) on 20")
            assert line.is_visible()
            target = Path(os.environ.get("TANTALIO_SCREENSHOTS") or tmp_path)
            target.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(target / "exchange-media.png"), full_page=True)
            case_id, _ = _ids(scenario.ws_b)
            page.goto(f"{url}/cases/{case_id}")
            notice = page.locator("#notices summary").first
            assert f"marked series {SERIES} identified: 2 media of this case" in notice.inner_text()
            assert page.locator("#case-agencies li.identified").first.is_visible()
            page.screenshot(path=str(target / "exchange-dashboard.png"), full_page=True)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(15)


def test_push_all_sends_every_media_hash_of_the_case(scenario: Scenario) -> None:
    # Runs last: B pushes with --all, so its unreviewed pictures reach the exchange too.
    out = cli("exchange", "push", "B-7", "--all", "-w", str(scenario.ws_b.dir),
              **_ws_env(scenario.ws_b)).stdout  # fmt: skip
    # 5 pictures: the 2 of B's own series were pushed before (unchanged), the 3 others are new
    assert (
        "pushed 5 records of case 'B-7' (0 categorized, 2 flagged, all media): "
        "3 new, 0 updated, 2 unchanged, 0 refused"
    ) in out
    with scenario.ws_b.session() as s:
        pushes = list_audit_events(s, action="exchange.push")
    details = [json.loads(e.detail) for e in pushes]
    assert [(d["all"], d["records"]) for d in details] == [(True, 5), (False, 2)]  # newest first
