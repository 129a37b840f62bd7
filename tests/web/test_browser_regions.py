"""Issue 13 in real Chromium: the media page of a copy found by local features draws the
matched region on the case media's and the reference's (blurred, grayscale) thumbnails side
by side; a letterboxed copy of a hash-only entry (trimmed PDQ) outlines the picture inside
its frame and says the reference has no picture. Benign synthetic pictures only.

TANTALIO_SCREENSHOTS=DIR saves `media-matched-region.png` there (docs/screenshots/)."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from tantalio.demo import synth
from tantalio.fingerprint import fingerprint_bytes
from tantalio.store import auth as store_auth
from tantalio.store.cases import File
from tantalio.store.workspace import Workspace, init_workspace
from tantalio.triage.hashset_create import create_hash_set_from_files
from tantalio.triage.hashset_import import import_hash_set
from tantalio.triage.pipeline import ingest

from .conftest import CHROMIUM, PASSWORD, ROLE_USERS, grant_all, serve_workspace
from .test_browser import _page, _shot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
]


@dataclass
class Server:
    url: str
    workspace: Workspace
    media: dict[str, int]  # file name in the card -> media id


def _grey_pixels(png: bytes) -> bool:
    with Image.open(io.BytesIO(png)) as im:
        rgb = im.convert("RGB")
        return all(r == g == b for r, g, b in list(rgb.get_flattened_data())[::97])  # type: ignore[misc]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("regions")
    rng = random.Random(13)
    lake = synth.picture(rng, 480, 360, "landscape")
    other = synth.picture(rng, 480, 360, "landscape")
    refs = root / "refs"
    synth.write(refs / "lake.jpg", synth.jpeg_bytes(lake))
    hma = root / "list.csv"  # a hash-only list: the other picture's PDQ, no file
    other_pdq = fingerprint_bytes(synth.jpeg_bytes(other), "o.jpg").pdq
    hma.write_text(f"pdq,{other_pdq}\n")
    card = root / "card"
    w, h = lake.size
    crop = lake.crop((int(w * 0.15), int(h * 0.1), int(w * 0.95), int(h * 0.9)))
    synth.write(card / "crop.jpg", synth.jpeg_bytes(crop))
    synth.write(card / "rot3.jpg", synth.jpeg_bytes(lake.rotate(3, Image.Resampling.BICUBIC)))
    boxed = Image.new("RGB", (480, 640), (0, 0, 0))
    boxed.paste(other, (0, 140))
    synth.write(card / "boxed.png", _png(boxed))
    ws = init_workspace(root / "ws")
    with ws.transaction() as db:
        for role, name in ROLE_USERS.items():
            store_auth.create_user(db, name, PASSWORD, role, display_name=name.title())
    create_hash_set_from_files(ws, "Refs", refs)
    import_hash_set(ws, hma, "hma", "Hash only")
    ingest(ws, "REGIONS-1", [str(card)])
    grant_all(ws)
    with ws.session() as db:
        media = {p.rsplit("/", 1)[-1]: m for p, m in db.execute(select(File.path, File.media_id))}
    try:
        with serve_workspace(root / "ws") as url:
            yield Server(url, ws, media)
    finally:
        ws.close()


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def test_crop_draws_the_matched_region_on_both_thumbnails(browser, server: Server) -> None:  # type: ignore[no-untyped-def]
    page = _page(browser, server, "erin")
    mid = server.media["crop.jpg"]
    page.goto(f"{server.url}/media/{mid}")
    pair = page.locator("#regions .region-pair[data-algorithm='local-features']")
    assert pair.count() == 1
    query = pair.locator("svg.query")
    ref = pair.locator("svg.reference")
    # the crop shows all of itself; the reference outline is the part the crop shows
    assert query.get_attribute("viewBox") == "0 0 384 288"
    assert ref.get_attribute("viewBox") == "0 0 480 360"
    box = ref.locator("rect.outline")
    x, y = float(box.get_attribute("x") or 0), float(box.get_attribute("y") or 0)
    bw = float(box.get_attribute("width") or 0)
    assert abs(x - 72) < 10 and abs(y - 36) < 10 and abs(bw - 384) < 15
    # both pictures load, as the user's blurred grayscale variants
    href = ref.locator("image").get_attribute("href") or ""
    assert href.startswith(f"/api/media/{mid}/reference/") and href.endswith("/thumbnail")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    for url in (href, query.locator("image").get_attribute("href") or ""):
        r = httpx.get(server.url + url, cookies=cookies)
        assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg", url
        assert r.headers["cache-control"].startswith("no-store")
        assert _grey_pixels(r.content), url
    loaded = page.evaluate("() => Array.from(document.querySelectorAll('#regions image')).length")
    assert loaded == 2
    assert "keypoints agree" in pair.inner_text()  # the transform in words beside it
    page.goto(f"{server.url}/media/{server.media['rot3.jpg']}")
    tilted = page.locator("#regions svg.query rect.outline").get_attribute("transform") or ""
    angle = float(tilted.removeprefix("rotate(").split()[0])
    assert -4.0 < angle < -2.0, tilted  # 3° counter-clockwise is -3 in SVG's clockwise turn
    page.context.close()


def test_a_hash_only_reference_says_it_has_no_picture(browser, server: Server) -> None:  # type: ignore[no-untyped-def]
    page = _page(browser, server, "erin")
    mid = server.media["boxed.png"]
    page.goto(f"{server.url}/media/{mid}")
    pair = page.locator("#regions .region-pair[data-algorithm='pdq-trimmed']")
    assert pair.count() == 1
    assert pair.locator("svg.reference").count() == 0
    assert "no picture in this workspace" in pair.inner_text()
    outline = pair.locator("svg.query rect.outline")
    assert abs(float(outline.get_attribute("y") or 0) - 140) < 6
    assert abs(float(outline.get_attribute("height") or 0) - 360) < 8
    # the reference route refuses what has no picture, and what this media did not match
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    with server.workspace.session() as db:
        from tantalio.store.media import Match

        entry = db.scalars(select(Match.hash_entry_id).where(Match.media_id == mid)).first()
        other_entry = db.scalars(
            select(Match.hash_entry_id).where(Match.media_id == server.media["crop.jpg"])
        ).first()
    r = httpx.get(f"{server.url}/api/media/{mid}/reference/{entry}/thumbnail", cookies=cookies)
    assert r.status_code == 404
    r = httpx.get(
        f"{server.url}/api/media/{mid}/reference/{other_entry}/thumbnail", cookies=cookies
    )
    assert r.status_code == 404
    page.context.close()


def test_screenshot_of_the_matched_region(browser, server: Server) -> None:  # type: ignore[no-untyped-def]
    page = _page(browser, server, "erin")
    page.goto(f"{server.url}/media/{server.media['crop.jpg']}")
    page.evaluate("() => document.querySelector('#regions').scrollIntoView()")
    _shot(page, "media-matched-region")
    page.context.close()
