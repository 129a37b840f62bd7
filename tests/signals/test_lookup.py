"""The one lookup, over a small in-memory `Indexes` built with the real PDQ index."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tantalio.index import PDQIndex
from tantalio.signals import MatchRules
from tantalio.signals.lookup import Query, lookup
from tantalio.signals.rules import (
    RULE_EXACT,
    RULE_FRAME_IN_IMAGE,
    RULE_IMAGE_IN_VIDEO,
    RULE_PDQ,
    RULE_VPDQ_INDEX,
    RULE_VPDQ_QUERY,
)


def _rand(rng: np.random.Generator) -> str:
    return rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex()


def _flip(h: str, bits: int) -> str:
    v = int(h, 16)
    for b in range(bits):
        v ^= 1 << (b * 7)
    return f"{v:064x}"


class Mem:
    def __init__(self, pictures: dict[int, str], videos: dict[int, list[str]]) -> None:
        self.pic = PDQIndex(64)
        if pictures:
            self.pic.add(list(pictures), list(pictures.values()))
        self.frame_owner: list[tuple[int, int]] = []
        hashes = []
        for ref, frames in videos.items():
            self.frame_owner += [(ref, n) for n in range(len(frames))]
            hashes += frames
        self.vid = PDQIndex(64)
        if hashes:
            self.vid.add(list(range(len(hashes))), hashes)
        self.counts = {ref: len(f) for ref, f in videos.items()}
        self.md5 = {"0" * 32: [7]}

    def exact(self, column: str, value: str) -> list[int]:
        return self.md5.get(value, []) if column == "md5" else []

    def pdq(self, hashes: Sequence[str], radius: int) -> list[list[tuple[int, int]]]:
        return self.pic.search(list(hashes), radius) if len(self.pic) else [[] for _ in hashes]

    def frames(self, hashes: Sequence[str], radius: int) -> list[list[tuple[int, int, int]]]:
        if not len(self.vid):
            return [[] for _ in hashes]
        return [
            [(*self.frame_owner[i], d) for i, d in per]
            for per in self.vid.search(list(hashes), radius)
        ]

    def frame_count(self, ref: int) -> int:
        return self.counts.get(ref, 0)


def test_exact_pdq_orientation_and_gate() -> None:
    rng = np.random.default_rng(1)
    known = _rand(rng)
    idx = Mem({1: known}, {})
    rules = MatchRules()
    q = Query(exact={"video_md5": "0" * 32})
    assert [(m.ref, m.rule, m.signal_type) for m in lookup(q, idx, rules)] == [
        (7, RULE_EXACT, "video_md5")
    ]
    # The known picture is the query's third orientation.
    q = Query(pdq=_rand(rng), pdq_quality=90, orientations=[_rand(rng), _rand(rng), known])
    [m] = lookup(q, idx, rules)
    assert (m.ref, m.distance, m.rule, m.orientation) == (1, 0, RULE_PDQ, "rot180")
    assert lookup(q, idx, rules.with_(orientations=False)) == []
    q.pdq_quality = 10
    assert lookup(q, idx, rules) == []


def test_vpdq_excerpt_longer_and_unrelated() -> None:
    rng = np.random.default_rng(2)
    known = [_rand(rng) for _ in range(60)]
    idx = Mem({}, {5: known})
    rules = MatchRules()
    excerpt = [_flip(h, 4) for h in known[20:30]]
    [m] = lookup(Query(frames=excerpt), idx, rules)
    assert (m.ref, m.rule, m.query_share) == (5, RULE_VPDQ_QUERY, 1.0)
    assert m.index_share == round(10 / 60, 4) and m.distance == 4
    longer = known + [_rand(rng) for _ in range(60)]
    [m] = lookup(Query(frames=longer), idx, rules)
    assert (m.rule, m.query_share, m.index_share) == (RULE_VPDQ_INDEX, 0.5, 1.0)
    assert lookup(Query(frames=longer), idx, MatchRules(vpdq_index_share=None)) == []
    assert lookup(Query(frames=[_rand(rng) for _ in range(30)]), idx, rules) == []


def test_frames_and_pictures_both_ways() -> None:
    rng = np.random.default_rng(3)
    picture = _rand(rng)
    frames = [_rand(rng) for _ in range(20)]
    idx = Mem({1: picture}, {5: frames})
    rules = MatchRules()
    # A frame of the known video saved as a picture.
    q = Query(pdq=_flip(frames[7], 3), pdq_quality=100)
    [m] = lookup(q, idx, rules)
    assert (m.ref, m.signal_type, m.rule, m.distance) == (5, "vpdq", RULE_IMAGE_IN_VIDEO, 3)
    # A video that shows the known picture for a while.
    q = Query(frames=[_rand(rng) for _ in range(10)] + [_flip(picture, 2)])
    [m] = lookup(q, idx, rules)
    assert (m.ref, m.signal_type, m.rule, m.distance) == (1, "pdq", RULE_FRAME_IN_IMAGE, 2)
    off = rules.with_(frames_vs_images=False)
    assert lookup(q, idx, off) == []
