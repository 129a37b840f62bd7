"""ORB keypoints of a picture, on the reduced luma the PDQ decode already made.

Why ORB: its 256-bit binary descriptors are compared by Hamming distance (the kind of index
tantalio already runs), it is patent-free, rotation-invariant and fast (a few milliseconds
on a 512-pixel picture), and it ships with `opencv-python-headless`.

Why few keypoints, spread out: a reference costs memory for every keypoint it keeps (1M
references must fit 4 GB: docs/decisions/local-features.md), and a crop keeps only the part
of the picture it shows, so the kept keypoints are the strongest of each cell of a grid, not
the strongest overall (those cluster on one textured spot). A query keeps more: its count
costs time, not memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from tantalio.localfeat.record import Features
from tantalio.signals.local_features import FULL

FEATURE_SIDE = 512  # long side of the feature image
REFERENCE_KEYPOINTS = FULL  # the local-features signal's distance counts from it
QUERY_KEYPOINTS = 400
GRID = 4  # keypoints are chosen per cell of a GRID x GRID grid
_EDGE = 16  # ORB's edge threshold and patch size: keypoints closer to the border are dropped

cv2.setNumThreads(1)  # one picture per worker; tantalio parallelises across pictures


def _feature_image(luma: NDArray[Any]) -> tuple[NDArray[np.uint8], float]:
    """The luma reduced to FEATURE_SIDE (never enlarged), as uint8; and the reduction."""
    img: NDArray[np.uint8] = (
        luma if luma.dtype == np.uint8 else np.clip(luma, 0, 255).astype(np.uint8)
    )
    h, w = img.shape[:2]
    f = FEATURE_SIDE / max(h, w)
    if f < 1.0:
        size = (max(1, round(w * f)), max(1, round(h * f)))
        return np.asarray(cv2.resize(img, size, interpolation=cv2.INTER_AREA)), f
    return np.ascontiguousarray(img), 1.0


def _spread(
    xy: NDArray[np.float32], response: NDArray[np.float32], w: float, h: float, n: int
) -> NDArray[np.intp]:
    """Indices of at most n keypoints: the strongest of each grid cell in turn."""
    if len(response) <= n:
        return np.argsort(-response, kind="stable")
    cx = np.minimum((xy[:, 0] * GRID / w).astype(np.intp), GRID - 1)
    cy = np.minimum((xy[:, 1] * GRID / h).astype(np.intp), GRID - 1)
    cell = cy * GRID + cx
    order = np.lexsort((-response, cell))  # by cell, strongest first within a cell
    sorted_cells = cell[order]
    first = np.searchsorted(sorted_cells, sorted_cells, side="left")
    rank = np.arange(len(order)) - first  # rank of each keypoint within its cell
    key = rank * 1.0 - response[order] / (response.max() + 1e-9)  # round robin over cells
    return order[np.argsort(key, kind="stable")[:n]]


def features(
    luma: NDArray[Any],
    width: int,
    height: int,
    n: int = REFERENCE_KEYPOINTS,
    flip: bool = False,
    box: tuple[int, int, int, int] | None = None,
) -> Features:
    """The local features of a picture whose luma (maybe a reduced decode) is given and
    whose file is width x height pixels. `flip`: of its left-right mirror image. `box`
    (x0, y0, x1, y1 in luma pixels): of that part only (the picture inside a screenshot's
    chrome, fingerprint/trim.py), at full feature resolution; positions stay the file's
    (never with `flip`)."""
    if box is not None:
        x0, y0, x1, y1 = box
        part = features(luma[y0:y1, x0:x1], x1 - x0, y1 - y0, n)  # scale: luma px / feature px
        per_luma = width / luma.shape[1]
        xy = part.xy + np.array([x0, y0], np.float32) / part.scale
        return Features(width, height, part.scale * per_luma, xy, part.descriptors)
    img, _f = _feature_image(luma)
    if flip:
        img = np.ascontiguousarray(img[:, ::-1])
    kps, desc = _orb(n).detectAndCompute(img, None)
    return _kept(img, kps, desc, width, height, n, flip)


def with_mirror(luma: NDArray[Any], width: int, height: int, n: int) -> list[Features]:
    """The features of a picture and of its left-right mirror image, for the price of one
    detection and two descriptions: FAST corners and their Harris scores are the same on the
    mirror image, mirrored, and a keypoint's angle a becomes 180 - a; ORB then describes the
    given keypoints on the mirrored pixels (measured: 12 ms instead of 16 for both)."""
    img, _f = _feature_image(luma)
    orb = _orb(n)
    kps, desc = orb.detectAndCompute(img, None)
    out = [_kept(img, kps, desc, width, height, n, False)]
    mirror = np.ascontiguousarray(img[:, ::-1])
    w1 = img.shape[1] - 1
    mkps = [
        cv2.KeyPoint(w1 - k.pt[0], k.pt[1], k.size, (180.0 - k.angle) % 360.0, k.response, k.octave)
        for k in kps
    ]
    if mkps:
        mkps, mdesc = orb.compute(mirror, mkps)
    else:
        mdesc = None
    out.append(_kept(mirror, mkps, mdesc, width, height, n, True))
    return out


def _orb(n: int) -> Any:
    return cv2.ORB_create(  # type: ignore[attr-defined]
        nfeatures=max(n * 2, 500),
        scaleFactor=1.2,
        nlevels=8,
        edgeThreshold=_EDGE,
        patchSize=_EDGE * 2 - 1,
        fastThreshold=12,
    )


def _kept(
    img: NDArray[np.uint8],
    kps: Sequence[Any],
    desc: NDArray[np.uint8] | None,
    width: int,
    height: int,
    n: int,
    flip: bool,
) -> Features:
    """The n keypoints kept (spread over the grid), positions in feature pixels."""
    fh, fw = img.shape[:2]
    scale = width / fw if fw else 1.0
    if desc is None or not kps:
        empty_xy, empty_d = np.zeros((0, 2), np.float32), np.zeros((0, 32), np.uint8)
        return Features(width, height, scale, empty_xy, empty_d, flip)
    xy = np.array([k.pt for k in kps], np.float32)
    response = np.array([k.response for k in kps], np.float32)
    keep = _spread(xy, response, fw, fh, n)
    return Features(width, height, scale, xy[keep], desc[keep], flip)
