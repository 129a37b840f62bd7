"""The platform judges videos by HMA's vPDQ rule and compares video frames with pictures:
an excerpt, a re-encode and a resized copy of a banked video match it; an unrelated video
does not; a frame saved as a JPEG matches the video's entry and a video showing a banked
picture matches the picture's entry. Benign synthetic media (demo.synth.video_cases)."""

from __future__ import annotations

from typing import Any

import pytest
from platform_helpers import Env

from tantalio.demo import synth
from tantalio.fingerprint import fingerprint_bytes

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cases() -> dict[str, bytes]:
    return synth.video_cases()


def _name(key: str) -> str:
    return f"{key}.jpg" if key in ("picture", "frame") else f"{key}.mp4"


def _upload(env: Env, key: str, data: bytes) -> list[dict[str, Any]]:
    r = env.client.post("/v1/match/upload", files={"file": (_name(key), data)}, headers=env.lookup)
    assert r.status_code == 200, r.text
    return list(r.json()["matches"])


def test_video_copies_frames_and_pictures_match_on_v1(env: Env, cases: dict[str, bytes]) -> None:
    svc = env.service
    svc.create_bank("KNOWN")
    video_id = svc.add_fingerprint("KNOWN", fingerprint_bytes(cases["known"], "known.mp4"))
    picture_id = svc.add_fingerprint("KNOWN", fingerprint_bytes(cases["picture"], "p.jpg"))
    found = {key: _upload(env, key, cases[key]) for key in cases if key not in ("known",)}
    for key in ("excerpt", "reencoded", "resized"):
        [m] = found[key]
        assert (m["entry_id"], m["signal_type"]) == (video_id, "vpdq"), key
        assert m["rule"] in ("vpdq-query-share", "vpdq-index-share")
        assert m["query_share"] >= 0.8, key
    [excerpt] = found["excerpt"]
    assert excerpt["rule"] == "vpdq-query-share" and excerpt["index_share"] < 0.3
    [frame] = found["frame"]
    assert (frame["entry_id"], frame["rule"]) == (video_id, "pdq-video-frame")
    [showing] = found["showing"]
    assert (showing["entry_id"], showing["rule"]) == (picture_id, "video-frame-pdq")
    [picture] = found["picture"]
    assert (picture["entry_id"], picture["distance"]) == (picture_id, 0)
    assert found["unrelated"] == []


def test_hma_content_lookup_of_an_excerpt(env: Env, cases: dict[str, bytes]) -> None:
    svc = env.service
    svc.create_bank("VIDEOS")
    video_id = svc.add_fingerprint("VIDEOS", fingerprint_bytes(cases["known"], "known.mp4"))
    r = env.client.post(
        "/m/lookup", files={"video": ("excerpt.mp4", cases["excerpt"])}, headers=env.lookup
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [m["bank_content_id"] for m in body["vpdq"]["VIDEOS"]] == [video_id]
    assert int(body["vpdq"]["VIDEOS"][0]["distance"]) <= 31
    assert body["video_md5"] == {}
    r = env.client.post(
        "/m/lookup", files={"video": ("u.mp4", cases["unrelated"])}, headers=env.lookup
    )
    assert r.json() == {"video_md5": {}, "vpdq": {}}
