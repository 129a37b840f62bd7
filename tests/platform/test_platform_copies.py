"""The platform answers a framed copy (issue 13): a letterboxed upload of a bank picture,
which PDQ alone misses, matches through its trimmed PDQ on `/v1/match/upload`."""

from __future__ import annotations

import io

from PIL import Image
from platform_helpers import Env, benign_image

from tantalio.fingerprint import fingerprint_bytes
from tantalio.fingerprint.pdq import hamming


def test_letterboxed_upload_matches_by_trimmed_pdq(env: Env) -> None:
    c, H = env.client, env.admin
    c.post("/c/banks", json={"name": "IMAGES"}, headers=H)
    original = benign_image(3, size=320)
    added = c.post(
        "/c/bank/IMAGES/content", files={"photo": ("o.png", original, "image/png")}, headers=H
    )
    assert added.status_code == 200, added.text
    cid = added.json()["id"]
    boxed = Image.new("RGB", (320, 560), (0, 0, 0))
    boxed.paste(Image.open(io.BytesIO(original)), (0, 120))
    buf = io.BytesIO()
    boxed.save(buf, "PNG")
    data = buf.getvalue()
    plain = fingerprint_bytes(data, "b.png")
    reference = fingerprint_bytes(original, "o.png")
    assert plain.pdq and reference.pdq and hamming(plain.pdq, reference.pdq) > 31
    r = c.post("/v1/match/upload", files={"file": ("b.png", data, "image/png")}, headers=env.lookup)
    assert r.status_code == 200, r.text
    matches = r.json()["matches"]
    assert [(m["entry_id"], m["signal_type"]) for m in matches] == [(cid, "pdq-trimmed")]
    assert matches[0]["distance"] <= 31
