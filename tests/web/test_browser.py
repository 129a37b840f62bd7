"""End to end in real Chromium (Debian's, driven by Playwright through its executable path):
log in, triage the benign demo case, bulk-categorize, build a series with "find similar",
reveal an item and see the audit event as auditor, and role checks (403s).

Set TANTALIO_SCREENSHOTS=DIR to save screenshots of the main pages there
(docs/screenshots/ in the repository are made this way).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tantalio.store import access, repo
from tantalio.store import audit as store_audit
from tantalio.store import auth as store_auth
from tantalio.store.workspace import Workspace, init_workspace

from .conftest import CHROMIUM, PASSWORD, ROLE_USERS, grant_all, serve_workspace
from .demo_case import DemoCase, ingest_demo

CHATS = Path(__file__).resolve().parents[1] / "data" / "chats"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make system-deps)"
    ),
]


@dataclass
class Server:
    url: str
    workspace: Workspace
    demo: DemoCase


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """`tantalio serve` in a subprocess over a freshly ingested demo workspace."""
    root = tmp_path_factory.mktemp("e2e")
    ws = init_workspace(root / "ws")
    with ws.transaction() as db:
        for role, name in ROLE_USERS.items():
            store_auth.create_user(db, name, PASSWORD, role, display_name=name.title())
    demo = ingest_demo(ws, root)
    grant_all(ws)
    with ws.transaction() as db:  # nora: an examiner of another case only
        nora = store_auth.create_user(db, "nora", PASSWORD, "examiner", display_name="Nora")
        case, _ = repo.ensure_case(db, "NORA-1", "her own case")
        access.grant(db, case, nora, by_name="(test)")
    evidence = root / "evidence"
    chat_export = evidence / "chat-export"  # a chat-only exhibit: a text export, no media
    chat_export.mkdir(parents=True, exist_ok=True)
    name = "WhatsApp Chat with Garden Club.txt"
    shutil.copy(CHATS / "text" / "android_en_us" / name, chat_export / name)
    try:
        with serve_workspace(root / "ws", "--evidence-root", str(evidence)) as url:
            yield Server(url, ws, demo)
    finally:
        ws.close()


def _page(browser, server: Server, username: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 860})
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{server.url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    target = os.environ.get("TANTALIO_SCREENSHOTS")
    if target:
        page.wait_for_load_state("networkidle")
        page.wait_for_function(
            "() => Array.from(document.images).every(i => "
            "i.getBoundingClientRect().top > innerHeight || (i.complete && i.naturalWidth > 0))"
        )
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / f"{name}.png"))


def _categories(server: Server, media_ids: list[int]) -> dict[int, int | None]:
    from tantalio.store.web_media import media_summaries

    with server.workspace.session() as db:
        return {m["media_id"]: m["category"] for m in media_summaries(db, media_ids)}


def test_login_triage_and_bulk_categorize(browser, server: Server) -> None:  # type: ignore[no-untyped-def]
    anon = browser.new_page()
    anon.goto(f"{server.url}/cases")
    assert "/login" in anon.url
    _shot(anon, "login")
    anon.close()

    page = _page(browser, server, "erin")
    assert page.url.endswith("/cases")
    page.click("text=DEMO-1")
    page.wait_for_selector("#new-queue .tile")
    _shot(page, "case-dashboard")
    page.click("text=Open triage grid")
    page.wait_for_selector("#grid .tile")
    page.wait_for_function("() => document.querySelector('#grid-count').textContent === '20'")
    tiles = page.locator("#grid .tile")
    assert tiles.count() == 20
    # select three tiles with the mouse, then bulk-categorize with the toolbar
    ids = [int(tiles.nth(i).get_attribute("data-media")) for i in (1, 2, 3)]
    for i in (1, 2, 3):
        tiles.nth(i).locator("img").click()
    assert page.inner_text("#sel-count") == "3"
    _shot(page, "triage-grid")
    page.click(".catbtn[data-category='0']")
    page.wait_for_function("() => document.querySelector('#sel-count').textContent === '0'")
    assert _categories(server, ids) == {i: 0 for i in ids}
    assert all(tiles.nth(i).get_attribute("data-category") == "0" for i in (1, 2, 3))
    # keyboard: focus moves on after categorizing the focused tile
    page.keyboard.press("Home")
    tiles.nth(5).locator("img").click()  # select + focus
    page.keyboard.press("x")  # unselect, focus stays
    page.keyboard.press("3")
    page.wait_for_function(
        "() => document.querySelectorAll('#grid .tile')[5].dataset.category === '3'"
    )
    assert "focused" in (tiles.nth(6).get_attribute("class") or "")
    first = int(tiles.nth(5).get_attribute("data-media"))
    assert _categories(server, [first]) == {first: 3}
    # shift-click selects a range; Escape clears the selection
    tiles.nth(8).locator("img").click()
    tiles.nth(10).locator("img").click(modifiers=["Shift"])
    assert page.inner_text("#sel-count") == "3"
    page.keyboard.press("Escape")
    assert page.inner_text("#sel-count") == "0"
    # the category filter sees the change
    page.select_option("select[name=category]", "0")
    page.click("#filters button[type=submit]")
    page.wait_for_selector("#grid .tile")
    assert {int(t.get_attribute("data-media")) for t in page.locator("#grid .tile").all()} >= set(
        ids
    )
    page.context.close()


def test_series_with_find_similar(browser, server: Server) -> None:  # type: ignore[no-untyped-def]
    m = server.demo.media
    page = _page(browser, server, "vicky")
    page.goto(f"{server.url}/cases/{server.demo.case_id}/triage?camera=acme")
    page.wait_for_selector("#grid .tile")
    assert page.locator("#grid .tile").count() == 3
    page.locator(f"#grid .tile[data-media='{m['cam0']}'] img").click()
    page.once("dialog", lambda d: d.accept("Trail camera"))
    page.click("#series-new")
    page.wait_for_url(re.compile(r"/series/\d+$"))
    assert page.locator("#members .tile").count() == 1
    page.click("#find-similar")
    page.wait_for_selector("#proposals .tile")
    proposed = {int(t.get_attribute("data-media")) for t in page.locator("#proposals .tile").all()}
    assert proposed == {m["cam1"], m["cam2"]}
    _shot(page, "series")
    page.click("#proposals-all")
    page.click("#proposals-add")
    page.wait_for_function("() => document.querySelectorAll('#members .tile').length === 3")
    page.select_option("select[name=status]", "in progress")
    page.check("input[name=victim_identified]")
    page.click("#series-form button[type=submit]")
    page.wait_for_selector("#toast.show")
    page.click("#find-similar")
    page.wait_for_selector("#toast.show >> text=Nothing similar found")
    sid = int(page.url.rsplit("/", 1)[1])
    with server.workspace.session() as db:
        actions = [
            e.action
            for e in store_audit.list_audit_events(db, object_type="series", object_id=str(sid))
        ]
    assert sorted(actions) == ["series.create", "series.members", "series.update"]
    page.context.close()


def test_reveal_then_auditor_sees_the_event(browser, server: Server) -> None:  # type: ignore[no-untyped-def]
    mid = server.demo.media["pic0"]
    page = _page(browser, server, "erin")
    page.goto(f"{server.url}/media/{mid}?case={server.demo.case_id}")
    img = page.locator(".tile.large img")
    assert img.get_attribute("src") == f"/api/media/{mid}/thumbnail"
    page.click(".tile.large button.reveal")
    page.wait_for_selector(".tile.large.revealed")
    assert "/clear?token=" in (img.get_attribute("src") or "")
    page.wait_for_function("() => document.querySelector('.tile.large img').naturalWidth > 0")
    _shot(page, "media-detail")
    hide = page.locator(".tile.large button.reveal")
    assert hide.inner_text() == "hide"  # after a reveal the same button blurs it again
    hide.click()
    page.wait_for_selector(".tile.large:not(.revealed)")
    assert img.get_attribute("src") == f"/api/media/{mid}/thumbnail"
    assert hide.inner_text() == "reveal"
    page.context.close()

    auditor = _page(browser, server, "otto")
    assert auditor.url.endswith("/audit")
    auditor.goto(f"{server.url}/audit?action=media.reveal")
    row = auditor.locator("#audit-events tr[data-action='media.reveal']").first
    assert "erin" in row.inner_text() and f"media {mid}" in row.inner_text()
    auditor.click("#verify-chain")
    auditor.wait_for_selector("#verify-result.ok")
    assert "intact" in auditor.inner_text("#verify-result")
    auditor.goto(f"{server.url}/audit")
    # The audit page fits the screen: no horizontal scroll, timestamps on one line.
    widths = auditor.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    when = auditor.locator("#audit-events tbody tr td:nth-child(2)").first
    assert when.evaluate("td => td.getClientRects()[0].height") < 40
    _shot(auditor, "audit-log")
    auditor.context.close()


def test_a_non_member_gets_a_403_page_and_sees_only_her_cases(browser, server: Server) -> None:  # type: ignore[no-untyped-def]
    nora = _page(browser, server, "nora")
    nora.goto(f"{server.url}/cases")
    refs = nora.locator("table.list tbody td:first-child").all_inner_texts()
    assert [r.strip() for r in refs] == ["NORA-1"]
    _shot(nora, "cases-non-member")
    for path in (
        f"/cases/{server.demo.case_id}",
        f"/cases/{server.demo.case_id}/triage",
        f"/media/{server.demo.media['pic2']}",
    ):
        r = nora.goto(f"{server.url}{path}")
        assert r.status == 403 and r.headers["content-type"].startswith("text/html"), path
        assert nora.inner_text("h1") == "Not allowed"
        assert "not a member of this case" in nora.inner_text("p.error")
        assert nora.locator("nav >> text=Cases").count() == 1  # her menu, a way back
    _shot(nora, "case-403")
    nora.context.close()


def test_role_checks(browser, server: Server) -> None:  # type: ignore[no-untyped-def]
    auditor = _page(browser, server, "otto")
    r = auditor.goto(f"{server.url}/cases/{server.demo.case_id}/triage")
    assert r.status == 403 and "Not allowed" in auditor.inner_text("h1")
    status = auditor.evaluate(
        """async (id) => (await fetch('/api/media/categorize', {
            method: 'POST',
            headers: {'Content-Type': 'application/json',
                      'X-CSRF-Token': document.querySelector('meta[name=csrf-token]').content},
            body: JSON.stringify({media_ids: [id], category: 1})})).status""",
        server.demo.media["pic2"],
    )
    assert status == 403
    assert auditor.locator("nav >> text=Cases").count() == 0
    auditor.context.close()

    examiner = _page(browser, server, "erin")
    r = examiner.goto(f"{server.url}/admin/users")
    assert r.status == 403
    assert examiner.locator("nav >> text=Users").count() == 0
    examiner.context.close()

    admin = _page(browser, server, "admin")
    admin.goto(f"{server.url}/admin/users")
    admin.fill("input[name=username]", "newcomer")
    admin.select_option("form.row select[name=role]", "examiner")
    admin.click("form.row button[type=submit]")
    assert "One-time password for" in admin.inner_text("#one-time-password")
    admin.context.close()


def test_inline_form_errors(browser, server: Server) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: a refused form shows its message next to the field, keeps what was typed."""
    anon = browser.new_page()
    anon.goto(f"{server.url}/login")
    anon.fill("#username", "erin")
    anon.fill("#password", "not her password")
    anon.click("button[type=submit]")
    assert anon.locator("#password-error").is_visible()
    assert anon.input_value("#username") == "erin" and anon.input_value("#password") == ""
    anon.close()

    page = _page(browser, server, "erin")
    page.goto(f"{server.url}/cases")
    page.fill("input[name=reference]", "DEMO-1")
    page.fill("input[name=title]", "a second try")
    page.click("form[action='/cases'] button[type=submit]")
    error = page.locator("#reference-error")
    assert "exists already" in error.inner_text()
    assert page.input_value("input[name=title]") == "a second try"
    # the message sits right under its field, not at the top of the page
    field_box = page.locator("input[name=reference]").bounding_box()
    error_box = error.bounding_box()
    assert 0 <= error_box["y"] - (field_box["y"] + field_box["height"]) < 20

    page.goto(f"{server.url}/cases/{server.demo.case_id}")
    page.fill("input[name=source]", "/etc/passwd")
    page.fill("input[name=exhibit]", "phone-9")
    page.click("form[action$='/ingest'] button[type=submit]")
    assert "outside the evidence folders" in page.locator("#source-error").inner_text()
    assert page.input_value("input[name=source]") == "/etc/passwd"
    assert page.input_value("input[name=exhibit]") == "phone-9"
    assert page.locator("#ingest-progress").count() == 1  # the case page, not an error page
    page.locator("#source-error").scroll_into_view_if_needed()
    _shot(page, "form-error")
    page.context.close()


def test_chat_only_ingest_from_the_browser_finishes_and_refreshes(browser, server: Server) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: a chat-only exhibit ingested from the case page finishes (no endless
    "ingesting, 0 files"), and the exhibit's verdict columns fill in without a manual reload."""
    page = _page(browser, server, "erin")
    page.goto(f"{server.url}/cases")
    page.fill("input[name=reference]", "CHATS-1")
    page.click("form[action='/cases'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/cases/\d+$"))
    source = str(Path(server.workspace.dir).parent / "evidence" / "chat-export")  # type: ignore[arg-type]
    page.fill("input[name=source]", source)
    page.fill("input[name=exhibit]", "garden-club")
    page.click("form[action$='/ingest'] button[type=submit]")
    row = page.locator("#exhibits tr", has_text="garden-club")
    # the page polls while it runs and reloads itself when done; generous: loaded machine
    row.locator("td.status", has_text="complete").wait_for(timeout=180_000)
    page.wait_for_function(
        "() => document.getElementById('exhibits').dataset.running === 'no'", timeout=180_000
    )
    headers = page.locator("#exhibits thead th").all_inner_texts()
    cells = row.first.locator("td").all_inner_texts()
    by_header = dict(zip(headers, cells, strict=True))
    assert by_header["non-media"] == "1" and by_header["Files"] == "1", by_header
    assert "unreadable" in by_header and by_header["unreadable"] == ""
    page.goto(page.url.split("?")[0] + "/network")  # its chats are there
    assert "Alice" in page.locator("#ranking").inner_text()
    page.context.close()


def test_screenshots_stay_small() -> None:
    """The README shows docs/screenshots/: each PNG under 300 KB."""
    repo_shots = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    folders = [repo_shots] + (
        [Path(os.environ["TANTALIO_SCREENSHOTS"])] if os.environ.get("TANTALIO_SCREENSHOTS") else []
    )
    pngs = [p for folder in folders for p in folder.glob("*.png")]
    assert pngs
    for png in pngs:
        assert png.stat().st_size < 300_000, png
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
