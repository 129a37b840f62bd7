"""Orientation queries: one image's 8 dihedral hashes, best distance per stored id —
checked on real PDQ hashes of a benign synthetic image (gradient and shapes)."""

from __future__ import annotations

import numpy as np
import pdqhash
from index_helpers import near

from tantalio.index import PDQIndex


def _benign_image() -> np.ndarray:
    y, x = np.mgrid[0:256, 0:320]
    img = np.zeros((256, 320, 3), dtype=np.uint8)
    img[..., 0] = (x * 255 // 319).astype(np.uint8)
    img[..., 1] = (y * 255 // 255).astype(np.uint8)
    img[40:120, 60:200, 2] = 255  # a blue rectangle
    img[((x - 240) ** 2 + (y - 180) ** 2) < 40**2] = (250, 240, 30)  # a yellow disc
    return img


def _orientation_hashes(img: np.ndarray) -> list[str]:
    vectors, _quality = pdqhash.compute_dihedral(img)
    return [np.packbits(np.asarray(v, dtype=np.uint8)).tobytes().hex() for v in vectors]


def test_rotated_copy_found_through_an_orientation() -> None:
    img = _benign_image()
    stored = _orientation_hashes(img)[0]
    index = PDQIndex.build_from([42], [stored])
    rotated = np.ascontiguousarray(np.rot90(img))
    hits = index.search_orientations(_orientation_hashes(rotated))
    assert len(hits) == 1
    entry, distance, orientation = hits[0]
    assert entry == 42 and distance <= 31 and orientation != 0
    # The plain (identity-only) query of the rotated copy does not match: orientations matter.
    assert index.search(_orientation_hashes(rotated)[:1]) == [[]]


def test_best_orientation_per_id(rng: np.random.Generator) -> None:
    stored = rng.integers(0, 256, size=(3, 32), dtype=np.uint8)
    index = PDQIndex.build_from([1, 2, 3], stored)
    orientations = [
        near(rng, stored[0], 20),  # 0: id 1 at 20
        near(rng, stored[0], 4),  # 1: id 1 at 4 (its best)
        near(rng, stored[1], 30),  # 2: id 2 at 30
        rng.integers(0, 256, size=32, dtype=np.uint8),
    ]
    hexes = [o.tobytes().hex() for o in orientations]
    assert index.search_orientations(hexes) == [(1, 4, 1), (2, 30, 2)]
    assert index.search_orientations(hexes, max_distance=10) == [(1, 4, 1)]
    many = index.search_orientations_many([hexes, hexes[2:3], []])
    assert many == [[(1, 4, 1), (2, 30, 2)], [(2, 30, 0)], []]
