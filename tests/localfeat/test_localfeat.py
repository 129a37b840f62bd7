"""Local features find and explain crops, rotations and screenshots of a reference, and
refuse unrelated pictures (benign generated scenes only)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image, ImageDraw

from tantalio.localfeat.calibration import FalseMatchModel, fit
from tantalio.localfeat.extract import features, with_mirror
from tantalio.localfeat.index import LocalIndex, one_to_one
from tantalio.localfeat.record import decode
from tantalio.signals.base import SignalError


def scene(seed: int, w: int = 640, h: int = 480) -> Image.Image:
    rng = np.random.default_rng(seed)
    im = Image.new("RGB", (w, h), tuple(int(v) for v in rng.integers(0, 256, 3)))
    draw = ImageDraw.Draw(im)
    for _ in range(60):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(6, 60))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.integers(0, 2):
            draw.ellipse([x - r, y - r, x + r, y + r], fill=fill)
        else:
            draw.rectangle([x, y, x + r, y + r // 2], fill=fill)
    return im


def luma(im: Image.Image) -> np.ndarray:
    return np.asarray(im.convert("L"))


def query(im: Image.Image) -> list:
    return with_mirror(luma(im), *im.size, 400)


@pytest.fixture(scope="module")
def index() -> LocalIndex:
    refs = [scene(s) for s in range(6)]
    return LocalIndex([features(luma(r), *r.size) for r in refs], ids=[100 + s for s in range(6)])


def test_text_form_round_trips_and_refuses_garbage() -> None:
    f = features(luma(scene(1)), 640, 480)
    assert 0 < len(f) <= 64
    g = decode(f.encode())
    assert (g.width, g.height) == (640, 480) and math.isclose(g.scale, f.scale, rel_tol=1e-6)
    assert np.array_equal(g.descriptors, f.descriptors)
    assert np.abs(g.xy - f.xy).max() <= 1 / 16
    for bad in ("pdq:abc", "lf1:!!!", "lf1:" + f.encode()[4:-8]):
        with pytest.raises(SignalError) as err:
            decode(bad)
        assert bad not in str(err.value)


def test_crop_is_found_and_its_box_explained(index: LocalIndex) -> None:
    ref = scene(3)
    copy = ref.crop((100, 60, 580, 420))  # 56 % of the area kept
    found = index.search(query(copy), min_inliers=12)
    assert found and found[0].ref == 103
    t = found[0].verified.transform()
    assert t["flip"] is False and abs(t["scale"] - 1) < 0.03 and abs(t["rotation_deg"]) < 1
    assert all(abs(a - b) <= 6 for a, b in zip(t["crop_box"], [100, 60, 580, 420], strict=True))
    assert 0 < found[0].false_match_probability < 1


def test_rotation_scale_and_mirror_are_explained(index: LocalIndex) -> None:
    ref = scene(4)
    rotated = ref.rotate(4, resample=Image.BILINEAR).resize((480, 360))
    found = index.search(query(rotated), min_inliers=12)
    assert found and found[0].ref == 104
    t = found[0].verified.transform()
    assert abs(t["rotation_deg"] - 4) < 0.7  # counter-clockwise, as PIL's rotate
    assert abs(t["scale"] - 0.75) < 0.03
    mirrored = ref.transpose(Image.Transpose.FLIP_LEFT_RIGHT).crop((0, 0, 560, 480))
    found = index.search(query(mirrored), min_inliers=12)
    assert found and found[0].ref == 104 and found[0].verified.flip is True
    # the same as describing the mirror image after detecting on it
    slow = [features(luma(mirrored), *mirrored.size, 400, flip=True)]
    again = index.search(slow, min_inliers=12)
    assert again and again[0].ref == 104 and abs(again[0].inliers - found[0].inliers) <= 12


def test_unrelated_pictures_do_not_match(index: LocalIndex) -> None:
    for seed in range(50, 56):
        assert index.search(query(scene(seed)), min_inliers=12) == []


def test_one_to_one_keeps_closest_pairs() -> None:
    pairs = one_to_one(
        np.array([0, 1, 1, 2]), np.array([5, 5, 6, 6]), np.array([30, 10, 20, 5], np.int32)
    )
    assert sorted(map(tuple, pairs.tolist())) == [(1, 5), (2, 6)]


def test_false_match_model_fit_and_union_bound() -> None:
    # chance pairs: inliers 3..9 with geometrically falling counts among 10,000 pairs
    counts = [k for k in range(3, 10) for _ in range(int(4000 / 3 ** (k - 3)))]
    model = fit(counts, pairs=10_000)
    assert model.slope > 0.3
    assert model.probability(30, 1_000_000) < model.probability(12, 1_000_000) <= 1.0
    need = model.inliers_for(1e-3, 1_000_000)
    assert model.probability(need, 1_000_000) <= 1e-3 < model.probability(need - 1, 1_000_000)
    assert FalseMatchModel(0.0, 0.5).probability(2, 10) == 1.0
