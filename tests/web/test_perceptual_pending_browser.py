"""Issue 17 in real Chromium: after `ingest --fast` the case page says how many images and
videos await the second pass and a pending media's page says "perceptual matching
pending" (English and Spanish); after `ingest --finish` neither shows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tantalio.demo.tree import build_tree
from tantalio.store import auth as store_auth
from tantalio.store.workspace import Workspace, init_workspace
from tantalio.triage.pipeline import IngestOptions, finish_pending, ingest

from .conftest import CHROMIUM, PASSWORD, grant_all, serve_workspace

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


@dataclass
class Site:
    url: str
    workspace: Workspace
    case_id: int
    pending_media: int
    pending: int


def _decodable_sha256(tree: Path) -> set[str]:
    """SHA-256 of every picture under `tree` that Pillow decodes in full."""
    import hashlib

    from PIL import Image

    found: set[str] = set()
    for path in tree.rglob("*"):
        if not path.is_file():
            continue
        try:
            with Image.open(path) as picture:
                picture.load()
        except Exception:  # noqa: BLE001 - anything Pillow cannot read is not wanted here
            continue
        found.add(hashlib.sha256(path.read_bytes()).hexdigest())
    return found


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    from sqlalchemy import select

    from tantalio.store.cases import Case
    from tantalio.store.media import Media

    root = tmp_path_factory.mktemp("pending")
    build_tree(root / "evidence", n=12)
    ws = init_workspace(root / "ws")
    with ws.transaction() as db:
        store_auth.create_user(db, "erin", PASSWORD, "examiner", display_name="Erin")
    fast = IngestOptions(in_process=True, progress=False, fast=True)
    ingest(ws, "FAST-1", [str(root / "evidence")], None, fast)
    grant_all(ws)
    with ws.session() as db:
        case_id = db.scalar(select(Case.id).where(Case.reference == "FAST-1"))
        pending = list(
            db.scalars(
                select(Media.id).where(
                    Media.perceptual_pending.is_(True), Media.kind.in_(("image", "video"))
                )
            )
        )
    assert case_id is not None and pending
    # The demo tree holds deliberately corrupt pictures, which the fast pass cannot tell apart
    # (it does not decode): the page checked after --finish must be one that decodes.
    decodable = _decodable_sha256(root / "evidence")
    with ws.session() as db:
        shown = db.scalar(
            select(Media.id)
            .where(Media.id.in_(pending), Media.kind == "image", Media.sha256.in_(decodable))
            .order_by(Media.id)
        )
    assert shown is not None
    try:
        with serve_workspace(root / "ws") as url:
            yield Site(url, ws, case_id, shown, len(pending))
    finally:
        ws.close()


def _page(browser, site: Site, locale: str):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1366, "height": 860}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{site.url}/login")
    page.fill("#username", "erin")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def test_case_and_media_pages_show_pending_then_not_after_finish(browser, site: Site) -> None:  # type: ignore[no-untyped-def]
    page = _page(browser, site, "en-GB")
    page.goto(f"{site.url}/cases/{site.case_id}")
    line = page.locator("#perceptual-pending").inner_text()
    assert "Perceptual matching pending" in line
    assert f"{site.pending} images and videos await the second pass" in line
    assert "tantalio ingest FAST-1 --finish" in line
    page.goto(f"{site.url}/media/{site.pending_media}")
    assert "Perceptual matching pending" in page.locator("#perceptual-pending").inner_text()

    spanish = _page(browser, site, "es-ES")
    spanish.goto(f"{site.url}/cases/{site.case_id}")
    assert spanish.get_attribute("html", "lang") == "es"
    line = spanish.locator("#perceptual-pending").inner_text()
    assert "Coincidencia perceptual pendiente" in line
    assert "esperan la segunda pasada" in line
    spanish.goto(f"{site.url}/media/{site.pending_media}")
    assert "Coincidencia perceptual pendiente" in spanish.inner_text("#perceptual-pending")

    finish_pending(site.workspace, "FAST-1", IngestOptions(in_process=True, progress=False))
    page.goto(f"{site.url}/cases/{site.case_id}")
    assert page.locator("#perceptual-pending").count() == 0
    page.goto(f"{site.url}/media/{site.pending_media}")
    assert page.locator("#perceptual-pending").count() == 0
    assert page.locator("#hashes").inner_text().count("PDQ") == 1  # its PDQ, no badge
