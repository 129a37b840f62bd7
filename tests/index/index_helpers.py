"""Helpers for index tests: random PDQ-like hashes, planted near neighbours, brute force."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def flip_bits(row: NDArray[np.uint8], bits: NDArray[np.int64]) -> NDArray[np.uint8]:
    """A copy of a (32,) uint8 hash with the given bit positions (0 = MSB of byte 0) flipped."""
    out = row.copy()
    for b in bits:
        out[b // 8] ^= np.uint8(0x80 >> (b % 8))
    return out


def near(rng: np.random.Generator, row: NDArray[np.uint8], distance: int) -> NDArray[np.uint8]:
    return flip_bits(row, rng.choice(256, size=distance, replace=False))


def brute_force(
    stored: NDArray[np.uint8], ids: NDArray[np.int64], queries: NDArray[np.uint8], radius: int
) -> list[list[tuple[int, int]]]:
    """The reference answer: every (id, distance) within the radius, by exhaustive scan."""
    popcount = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)
    out = []
    for q in queries:
        d = popcount[np.bitwise_xor(stored, q)].sum(axis=1)
        hit = np.flatnonzero(d <= radius)
        out.append(sorted(((int(ids[i]), int(d[i])) for i in hit), key=lambda p: (p[1], p[0])))
    return out


def to_hex(rows: NDArray[np.uint8]) -> list[str]:
    return [r.tobytes().hex() for r in rows]
