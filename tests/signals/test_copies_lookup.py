"""The one lookup finds the copies PDQ misses (issue 13): a framed picture by its trimmed
PDQ, a crop by local features with its transform; raw local-features signals too."""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tantalio.fingerprint import FingerprintConfig, fingerprint_bytes
from tantalio.index import PDQIndex
from tantalio.localfeat.index import LocalIndex
from tantalio.localfeat.record import decode
from tantalio.signals import MatchRules, registry
from tantalio.signals.base import SignalError
from tantalio.signals.lookup import LocalHit, Query, lookup
from tantalio.signals.rules import RULE_LOCAL, RULE_PDQ, RULE_PDQ_TRIMMED, RulesError

REFERENCE = FingerprintConfig(local_features="reference")
QUERY = FingerprintConfig(local_features="query")


def scene(seed: int, w: int = 640, h: int = 480) -> Image.Image:
    rng = np.random.default_rng(seed)
    im = Image.new("RGB", (w, h), tuple(int(v) for v in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(im)
    for _ in range(60):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(6, 60))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=fill)
    noisy = np.asarray(im).astype(np.int16) + rng.normal(0, 6, (h, w, 3)).astype(np.int16)
    return Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8))  # a photo's grain


def jpeg(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


class Refs:
    """Picture PDQs in the real PDQ index and local features in the real LocalIndex."""

    def __init__(self, refs: dict[int, Image.Image]) -> None:
        fps = {r: fingerprint_bytes(jpeg(im), f"{r}.jpg", REFERENCE) for r, im in refs.items()}
        self.pic = PDQIndex(64)
        self.pic.add(list(fps), [fp.pdq for fp in fps.values()])
        self.local = LocalIndex(
            [decode(fp.extra["local_features"]) for fp in fps.values()], ids=list(fps)
        )

    def exact(self, column: str, value: str) -> list[int]:
        return []

    def pdq(self, hashes: Sequence[str], radius: int) -> list[list[tuple[int, int]]]:
        return self.pic.search(list(hashes), radius)

    def frames(self, hashes: Sequence[str], radius: int) -> list[list[tuple[int, int, int]]]:
        return [[] for _ in hashes]

    def frame_count(self, ref: int) -> int:
        return 0

    def local_features(self, variants: Sequence[str], rules: MatchRules) -> list[LocalHit]:
        return self.local.local_features(variants, rules)


@pytest.fixture(scope="module")
def refs() -> Refs:
    return Refs({10 + s: scene(s) for s in range(5)})


def _matches(data: bytes, refs: Refs, rules: MatchRules = MatchRules()) -> list:
    fp = fingerprint_bytes(data, "q.jpg", QUERY)
    return lookup(Query.of_fingerprint(fp, rules), refs, rules)


def test_plain_copy_is_a_pdq_match_and_nothing_else_is_needed(refs: Refs) -> None:
    found = _matches(jpeg(scene(2)), refs)
    assert (found[0].ref, found[0].rule) == (12, RULE_PDQ)


def test_letterboxed_copy_matches_by_trimmed_pdq(refs: Refs) -> None:
    pic = scene(3)
    boxed = Image.new("RGB", (640, 700), (0, 0, 0))
    boxed.paste(pic, (0, 110))
    found = {(m.ref, m.rule) for m in _matches(jpeg(boxed), refs)}
    assert (13, RULE_PDQ_TRIMMED) in found and (13, RULE_PDQ) not in found


def test_crop_matches_by_local_features_with_its_transform(refs: Refs) -> None:
    crop = scene(4).crop((90, 40, 560, 420))
    found = _matches(jpeg(crop), refs)
    local = [m for m in found if m.rule == RULE_LOCAL]
    assert [m.ref for m in local] == [14]
    m = local[0]
    assert m.signal_type == "local-features" and m.transform is not None
    assert m.false_match_probability is not None and m.false_match_probability < 1e-3
    assert all(
        abs(a - b) <= 8 for a, b in zip(m.transform["crop_box"], [90, 40, 560, 420], strict=True)
    )
    # off by rule: no local-features match
    off = _matches(jpeg(crop), refs, MatchRules(local_features=False))
    assert not [x for x in off if x.rule == RULE_LOCAL]


def test_unrelated_picture_matches_nothing(refs: Refs) -> None:
    assert _matches(jpeg(scene(77)), refs) == []


def test_raw_local_features_signal(refs: Refs) -> None:
    # a query's value (400 keypoints), as `tantalio hash` would give it to a raw lookup
    fp = fingerprint_bytes(jpeg(scene(1).crop((0, 0, 500, 400))), "q.jpg", QUERY)
    value = registry.get("local-features").from_fingerprint(fp)
    assert value is not None
    q = Query.of_signal("local-features", value, MatchRules())
    assert [m.ref for m in lookup(q, refs, MatchRules())] == [11]
    with pytest.raises(SignalError):
        Query.of_signal("local-features", "lf1:AAAA", MatchRules())
    whole = fingerprint_bytes(jpeg(scene(1)), "r.jpg", REFERENCE).extra["local_features"]
    st = registry.get("local-features")
    assert st.distance(value, whole) < 64 - 14
    assert st.distance(value, registry.normalize("local-features", value)) < 64 - 14


def test_rules_validate_the_operating_point() -> None:
    assert MatchRules().local_features is True
    with pytest.raises(RulesError, match="local_min_inliers"):
        MatchRules(local_min_inliers=2)
