"""The media page steps through the grid's filtered order (previous/next), and shows a
hash-set entry once even when several of its hashes matched (issue 16)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from tantalio.store import repo
from tantalio.triage.hashset_import import import_hash_set
from tantalio.triage.pipeline import ingest

from .conftest import WebEnv, grant_all

pytestmark = pytest.mark.anyio


async def test_previous_next_follow_the_filter_and_entries_show_once(
    web_env: WebEnv, examiner: httpx.AsyncClient, tmp_path: Path
) -> None:
    ws = web_env.workspace
    phone = tmp_path / "phone"
    phone.mkdir()
    rng = np.random.default_rng(8)
    for i in range(5):
        small = rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)
        Image.fromarray(small).resize((200, 150)).save(phone / f"p{i}.png")
    data = (phone / "p0.png").read_bytes()
    vics = tmp_path / "k.json"
    vics.write_text(json.dumps({
        "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Media",
        "value": [{"MediaID": 1, "Category": 1, "MD5": hashlib.md5(data).hexdigest(),
                   "SHA1": hashlib.sha1(data).hexdigest()}],
    }))  # fmt: skip
    import_hash_set(ws, vics, "vics", "known")
    ingest(ws, "OP-5", [str(phone)])
    grant_all(ws)  # a case made by ingest has no member until granted
    with ws.session() as s:
        case_id = repo.get_case(s, "OP-5").id
    items = (await examiner.get(f"/api/cases/{case_id}/media", params={"verdict": "new"})).json()[
        "items"
    ]
    order = [i["media_id"] for i in items]
    assert len(order) == 4
    page = await examiner.get(f"/media/{order[1]}", params={"case": case_id, "verdict": "new"})
    prev = re.search(r'id="prev-media" href="([^"]+)"', page.text)
    nxt = re.search(r'id="next-media" href="([^"]+)"', page.text)
    assert (
        prev and prev.group(1).startswith(f"/media/{order[0]}?") and "verdict=new" in prev.group(1)
    )
    assert nxt and nxt.group(1).startswith(f"/media/{order[2]}?")
    last = await examiner.get(f"/media/{order[-1]}", params={"case": case_id, "verdict": "new"})
    assert 'id="next-media" aria-disabled="true"' in last.text

    known = next(i for i in (await examiner.get(f"/api/cases/{case_id}/media")).json()["items"]
                 if i["verdict"] == "known")  # fmt: skip
    detail = (await examiner.get(f"/api/media/{known['media_id']}")).json()
    assert len(detail["matches"]) == 1
    assert detail["matches"][0]["algorithms"] == ["md5", "sha1"]
