"""Geometric verification: do the descriptor matches of a query and a reference agree on one
similarity transform (scale, rotation, shift)? And what does that transform say?

Why a similarity and not a homography: the edits people make to a picture (crop, pad,
resize, caption, screenshot, a small rotation) are similarities of the picture plane; four
degrees of freedom need two point pairs, so RANSAC finds them among few keypoints, and a
random set of matches rarely agrees on one (the false-match model rests on this).

The explanation is said in the pictures' own pixels: the part of the reference the query
shows (`crop_box`), where the reference lies in the query (`query_box`, what the media page
draws), the scale (query pixels per reference pixel), the rotation and whether the query is
mirrored.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from tantalio.localfeat.record import Features

REPROJECTION = 0.012  # RANSAC inlier tolerance, a share of the reference's long feature side
MIN_SCALE, MAX_SCALE = 0.1, 10.0  # a copy is not 10 times smaller or larger than its original


@dataclass(frozen=True, slots=True)
class Verified:
    """A geometrically consistent match and its transform: `matrix` (2 x 3) maps query file
    pixels to reference file pixels; `scale` is query pixels per reference pixel;
    `rotation` the counter-clockwise degrees of the query against the reference (as PIL's
    `rotate`); `inliers` counts keypoint pairs, each keypoint once."""

    inliers: int
    matches: int
    matrix: NDArray[np.float64]
    flip: bool
    crop_box: list[int]
    query_box: list[int]
    scale: float
    rotation: float

    def transform(self) -> dict[str, Any]:
        """The `transform` of triage JSON and `/v1` answers."""
        return {
            "model": "similarity",
            "scale": round(self.scale, 4),
            "rotation_deg": round(self.rotation, 2),
            "flip": self.flip,
            "crop_box": self.crop_box,
            "query_box": self.query_box,
            "inliers": self.inliers,
        }


def _box(points: NDArray[np.float64], w: int, h: int) -> list[int]:
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return [
        int(max(0, math.floor(x0))),
        int(max(0, math.floor(y0))),
        int(min(w, math.ceil(x1))),
        int(min(h, math.ceil(y1))),
    ]


def _corners(w: float, h: float) -> NDArray[np.float64]:
    return np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float64)


def verify(
    query: Features,
    ref: Features,
    pairs: NDArray[np.intp],
    rng_seed: int = 0,
) -> Verified | None:
    """RANSAC similarity over `pairs` (k x 2: query keypoint, reference keypoint); None when
    fewer than 3 pairs agree or the transform is not a plausible copy."""
    if len(pairs) < 3:
        return None
    q = query.xy[pairs[:, 0]].astype(np.float64) * query.scale
    r = ref.xy[pairs[:, 1]].astype(np.float64) * ref.scale
    tol = REPROJECTION * max(ref.width, ref.height)
    cv2.setRNGSeed(rng_seed)
    matrix, mask = cv2.estimateAffinePartial2D(
        q, r, method=cv2.RANSAC, ransacReprojThreshold=tol, maxIters=500, confidence=0.995
    )
    if matrix is None or mask is None:
        return None
    inliers = int(mask.sum())
    if inliers < 3:
        return None
    a, b = matrix[0, 0], matrix[1, 0]
    ref_per_query = math.hypot(a, b)
    if not ref_per_query or not MIN_SCALE <= 1 / ref_per_query <= MAX_SCALE:
        return None
    rotation = math.degrees(math.atan2(b, a))
    qw, qh = query.width, query.height
    # the part of the reference the query shows: the query's corners in reference pixels
    qc = _corners(qw, qh)
    in_ref = qc @ matrix[:, :2].T + matrix[:, 2]
    crop_box = _box(in_ref, ref.width, ref.height)
    # where the reference lies in the query: the reference corners through the inverse
    inv = cv2.invertAffineTransform(matrix)
    in_query = _corners(ref.width, ref.height) @ inv[:, :2].T + inv[:, 2]
    if query.flipped:
        in_query[:, 0] = qw - in_query[:, 0]
    query_box = _box(in_query, qw, qh)
    return Verified(
        inliers,
        len(pairs),
        np.asarray(matrix, np.float64),
        query.flipped,
        crop_box,
        query_box,
        1 / ref_per_query,
        rotation,
    )
