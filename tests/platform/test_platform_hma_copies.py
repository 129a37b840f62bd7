"""Issue 13 on the HMA routes: `pdq_trimmed` and `local_features` answer as extra signal types
(HMA-style names) where HMA does content lookups, the signal type listing names them, and
each bank's match rules decide whether they match. Benign synthetic pictures only."""

from __future__ import annotations

import io
import random
from typing import Any

from PIL import Image
from platform_helpers import Env

from tantalio.demo import synth
from tantalio.fingerprint import fingerprint_bytes
from tantalio.fingerprint.pdq import hamming


def _jpeg(im: Image.Image) -> bytes:
    return synth.jpeg_bytes(im)


def _pictures() -> tuple[Image.Image, Image.Image]:
    rng = random.Random(13)
    return synth.picture(rng, 480, 360, "landscape"), synth.picture(rng, 480, 360, "landscape")


def _crop(im: Image.Image) -> bytes:
    w, h = im.size
    return _jpeg(im.crop((int(w * 0.15), int(h * 0.1), int(w * 0.95), int(h * 0.9))))


def _boxed(im: Image.Image) -> bytes:
    canvas = Image.new("RGB", (480, 640), (0, 0, 0))
    canvas.paste(im, (0, 140))
    buf = io.BytesIO()
    canvas.save(buf, "PNG")
    return buf.getvalue()


def _bank_photo(env: Env, bank: str, data: bytes) -> int:
    r = env.client.post(
        f"/c/bank/{bank}/content", files={"photo": ("p.jpg", data, "image/jpeg")}, headers=env.admin
    )
    assert r.status_code == 200, r.text
    return int(r.json()["id"])


def _lookup(env: Env, data: bytes) -> dict[str, Any]:
    r = env.client.post(
        "/m/lookup?bypass_coinflip=true",
        files={"photo": ("q.jpg", data, "image/jpeg")},
        headers=env.lookup,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_signal_type_listing_names_the_extra_types(env: Env) -> None:
    r = env.client.get("/c/signal_type", headers=env.curate)
    assert r.status_code == 200, r.text
    names = {t["name"]: t["enabled_ratio"] for t in r.json()}
    assert names["pdq"] == 1.0 and names["video_md5"] == 1.0
    assert names["pdq_trimmed"] == 1.0 and names["local_features"] == 1.0
    status = env.client.get("/m/index/status", headers=env.lookup).json()
    assert {"pdq", "pdq_trimmed", "local_features"} <= status.keys()
    assert status["local_features"]["size"] == 0


def test_a_crop_answers_under_local_features_and_a_letterbox_under_pdq_trimmed(
    env: Env,
) -> None:
    lake, other = _pictures()
    env.client.post("/c/banks", json={"name": "IMAGES"}, headers=env.admin)
    lake_id = _bank_photo(env, "IMAGES", _jpeg(lake))
    other_id = _bank_photo(env, "IMAGES", _jpeg(other))
    status = env.client.get("/m/index/status", headers=env.lookup).json()
    assert status["local_features"]["size"] == 2

    crop = _crop(lake)
    assert hamming(fingerprint_bytes(crop).pdq or "", fingerprint_bytes(_jpeg(lake)).pdq or "") > 31
    found = _lookup(env, crop)
    assert found["pdq"] == {}  # PDQ misses the crop ...
    hits = found["local_features"]["IMAGES"]  # ... its local features find it
    assert [h["bank_content_id"] for h in hits] == [lake_id]
    assert 0 <= int(hits[0]["distance"]) <= 64 - 22

    boxed = _boxed(other)
    found = _lookup(env, boxed)
    assert found["pdq"] == {}
    assert [h["bank_content_id"] for h in found["pdq_trimmed"]["IMAGES"]] == [other_id]

    # the trimmed PDQ as a raw signal, by its HMA name and by the registry's
    trimmed = fingerprint_bytes(boxed).extra["pdq_trimmed"]
    for name in ("pdq_trimmed", "pdq-trimmed"):
        r = env.client.get(f"/m/raw_lookup?signal_type={name}&signal={trimmed}", headers=env.lookup)
        assert r.status_code == 200 and r.json() == {"matches": [other_id]}, r.text

    # /v1 says how: the transform of the local-features match
    r = env.client.post(
        "/v1/match/upload", files={"file": ("c.jpg", crop, "image/jpeg")}, headers=env.lookup
    )
    assert r.status_code == 200, r.text
    [m] = r.json()["matches"]
    assert m["signal_type"] == "local-features" and m["rule"] == "local-features"
    assert m["transform"]["inliers"] >= 22 and m["transform"]["false_match_probability"] < 1e-6

    # an unrelated picture matches nothing
    rng = random.Random(99)
    found = _lookup(env, _jpeg(synth.picture(rng, 480, 360, "texture")))
    assert all(v == {} for v in found.values()), found


def test_each_banks_rules_decide_local_features(any_env: Env) -> None:
    env = any_env  # SQLite and PostgreSQL: the features table, its joins and the feed
    lake, _ = _pictures()
    c = env.client
    c.post("/v1/banks", json={"name": "ON"}, headers=env.curate)
    c.post(
        "/v1/banks", json={"name": "OFF", "match_rules": {"local_features": False}},
        headers=env.curate,
    )  # fmt: skip
    c.post(
        "/v1/banks", json={"name": "STRICT", "match_rules": {"local_min_inliers": 64}},
        headers=env.curate,
    )  # fmt: skip
    ids = {b: _bank_photo(env, b, _jpeg(lake)) for b in ("ON", "OFF", "STRICT")}
    found = _lookup(env, _crop(lake))
    assert set(found["local_features"]) == {"ON"}
    assert [h["bank_content_id"] for h in found["local_features"]["ON"]] == [ids["ON"]]
    # turned on again, the bank matches too
    r = c.patch("/v1/banks/OFF", json={"match_rules": {"local_features": True}}, headers=env.curate)
    assert r.status_code == 200, r.text
    found = _lookup(env, _crop(lake))
    assert set(found["local_features"]) == {"ON", "OFF"}
    # a removed entry no longer matches
    r = c.delete(f"/c/bank/ON/content/{ids['ON']}", headers=env.admin)
    assert r.status_code == 200 and r.json() == {"deleted": 1}
    found = _lookup(env, _crop(lake))
    assert set(found["local_features"]) == {"OFF"}


def test_local_features_as_a_banked_signal(env: Env) -> None:
    lake, _ = _pictures()
    c = env.client
    c.post("/c/banks", json={"name": "SIGNALS"}, headers=env.admin)
    r = c.post(
        "/h/hash?types=pdq,local_features",
        files={"photo": ("l.jpg", _jpeg(lake), "image/jpeg")},
        headers=env.lookup,
    )
    assert r.status_code == 200, r.text
    hashes = r.json()
    assert set(hashes) == {"pdq", "local_features"} and hashes["local_features"].startswith("lf1:")
    r = c.post("/c/bank/SIGNALS/signal", json=hashes, headers=env.admin)
    assert r.status_code == 200, r.text
    cid = r.json()["id"]
    found = _lookup(env, _crop(lake))
    assert [h["bank_content_id"] for h in found["local_features"]["SIGNALS"]] == [cid]
    bad = c.post("/c/bank/SIGNALS/signal", json={"local_features": "lf1:nope"}, headers=env.admin)
    assert bad.status_code == 400 and "local-features" in bad.text
