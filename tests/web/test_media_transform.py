"""Issue 13: the media page says how a copy PDQ misses was found (match kind and transform
in words), and the media API returns them."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from tantalio.store.hashsets import HashEntry
from tantalio.store.media import Match

from .conftest import DemoEnv

pytestmark = pytest.mark.anyio


async def test_media_page_shows_match_kind_and_transform(
    demo_env: DemoEnv, d_examiner: httpx.AsyncClient
) -> None:
    mid = demo_env.demo.media["pic8"]
    transform = {"model": "similarity", "scale": 1.0, "rotation_deg": 3.0, "flip": False,
                 "crop_box": [10, 20, 310, 220], "query_box": [0, 0, 300, 200], "inliers": 40,
                 "false_match_probability": 1e-20}  # fmt: skip
    with demo_env.workspace.transaction() as s:
        entry = s.scalars(select(HashEntry.id).order_by(HashEntry.id)).first()
        s.add(
            Match(
                media_id=mid,
                hash_entry_id=entry,
                algorithm="local-features",
                distance=24,
                transform=transform,
            )
        )
    detail = (await d_examiner.get(f"/api/media/{mid}")).json()
    row = next(m for m in detail["matches"] if m["algorithm"] == "local-features")
    assert row["transform"] == transform
    assert "rotated 3.0°" in row["how"] and "40 keypoints agree" in row["how"]
    page = await d_examiner.get(f"/media/{mid}?case={demo_env.demo.case_id}")
    assert page.status_code == 200
    assert "How found" in page.text
    assert "part of the picture (local features)" in page.text
    assert "300×200 px at (10, 20)" in page.text
