"""Video near-duplicates inside the workspace (vPDQ rule, both ways)."""

from __future__ import annotations

import hashlib
import io
import random
from fractions import Fraction
from pathlib import Path

from sqlalchemy import select

from tantalio.demo import synth
from tantalio.signals import MatchRules
from tantalio.store.media import Match, Media
from tantalio.store.workspace import init_workspace
from tantalio.triage.matching import video_pairs
from tantalio.triage.pipeline import IngestOptions, ingest

from .helpers import flip, rand_pdq

FAST = IngestOptions(in_process=True, batch_files=2)
RULES = MatchRules()


def _reencode(data: bytes, size: tuple[int, int], bit_rate: int, skip_s: float) -> bytes:
    """Decode a benign synthetic video and encode it again: smaller, another bit rate (H.264),
    its first `skip_s` seconds cut off."""
    import av

    with av.open(io.BytesIO(data), mode="r") as src:
        vin = src.streams.video[0]
        fps = int(vin.average_rate or 10)
        images = [f.to_image() for f in src.decode(vin) if f.time is None or f.time >= skip_s]
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.time_base = Fraction(1, fps)
        stream.bit_rate = bit_rate
        for i, image in enumerate(images):
            frame = av.VideoFrame.from_image(image.resize(size))
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def test_reencoded_trimmed_video_in_another_case_is_linked(tmp_path: Path) -> None:
    original = synth.video_bytes(random.Random(21), seconds=8)
    copy = _reencode(original, (240, 180), 120_000, skip_s=1.0)
    other = synth.video_bytes(random.Random(22), seconds=8)
    synth.write(tmp_path / "a" / "clip.mp4", original)
    synth.write(tmp_path / "b" / "DCIM" / "copy.mp4", copy)
    synth.write(tmp_path / "b" / "other.mp4", other)
    with init_workspace(tmp_path / "ws") as ws:
        ingest(ws, "CASE-A", [str(tmp_path / "a")], options=FAST)
        ingest(ws, "CASE-B", [str(tmp_path / "b")], options=FAST)
        with ws.session() as s:
            ids = {m.sha256: m.id for m in s.scalars(select(Media).where(Media.kind == "video"))}
            rows = s.execute(
                select(Match.media_id, Match.other_media_id, Match.algorithm, Match.score).where(
                    Match.other_media_id.is_not(None)
                )
            ).all()
    a, b, c = (ids[hashlib.sha256(x).hexdigest()] for x in (original, copy, other))
    assert len(rows) == 1, rows
    (mid, oid, algorithm, score) = rows[0]
    assert (mid, oid, algorithm) == (min(a, b), max(a, b), "vpdq")
    assert score is not None and score >= 0.8
    assert c not in (mid, oid)


def test_video_pairs_both_ways_and_independent_of_order() -> None:
    rng = random.Random(5)
    full = [rand_pdq(rng) for _ in range(10)]
    trimmed = [flip(h, [1, 7, 200]) for h in full[3:9]]  # 6 of 10 frames: 60 % of `full`
    unrelated = [rand_pdq(rng) for _ in range(10)]
    videos = {1: full, 2: trimmed, 3: unrelated}
    one_way = video_pairs(videos, [2], RULES)
    assert one_way == video_pairs(videos, [1], RULES) == video_pairs(videos, [3, 1, 2], RULES)
    # All of the trimmed copy's frames are in the full video: linked, score 1, distance 3.
    assert one_way == [
        {"media_id": 1, "other_media_id": 2, "algorithm": "vpdq", "distance": 3, "score": 1.0}
    ]
    short = {1: full, 2: trimmed[:4] + [rand_pdq(rng) for _ in range(2)]}  # 4 of 6 matched
    assert video_pairs(short, [1, 2], RULES) == []
