"""The local features of one picture and their text form (the `local-features` signal).

Keypoint positions are kept in the feature image's pixels (the picture reduced to
`FEATURE_SIDE` on its long side) times 16 as uint16, with `scale` = file pixels per feature
pixel, so a transform estimated between two pictures can be said in their own pixels.
Descriptors are ORB's 256 bits (32 bytes), compared by Hamming distance.

Text form: `lf1:` + base64 of a little-endian header (width, height: uint32; scale:
float32; n: uint16) followed by n (x, y) uint16 pairs and n 32-byte descriptors. About
3.5 KB of text for a 64-keypoint reference.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tantalio.signals.base import SignalError

PREFIX = "lf1:"
DESCRIPTOR_BYTES = 32
_HEADER = struct.Struct("<IIfH")
_XY_UNIT = 16.0  # sub-pixel positions, 1/16 of a feature pixel
MAX_KEYPOINTS = 4096


@dataclass(frozen=True, slots=True)
class Features:
    """Keypoints of a picture: positions `xy` (n x 2, feature pixels), `descriptors`
    (n x 32 uint8), the picture's size in its own pixels and file pixels per feature
    pixel."""

    width: int
    height: int
    scale: float
    xy: NDArray[np.float32]
    descriptors: NDArray[np.uint8]
    flipped: bool = False  # extracted from the mirror image (left-right) of the picture

    def __len__(self) -> int:
        return int(self.descriptors.shape[0])

    @property
    def feature_size(self) -> tuple[float, float]:
        """(width, height) of the feature image."""
        return self.width / self.scale, self.height / self.scale

    def encode(self) -> str:
        n = len(self)
        xy = np.clip(np.rint(self.xy * _XY_UNIT), 0, 65535).astype("<u2")
        body = _HEADER.pack(self.width, self.height, self.scale, n) + xy.tobytes()
        body += np.ascontiguousarray(self.descriptors, dtype=np.uint8).tobytes()
        return PREFIX + base64.b64encode(body).decode("ascii")


def decode(value: str) -> Features:
    """Features from their text form; `SignalError` (never echoing the value) otherwise."""
    text = value.strip()
    if not text.startswith(PREFIX):
        raise SignalError(f"invalid local-features signal: expected the {PREFIX!r} form")
    try:
        body = base64.b64decode(text[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise SignalError("invalid local-features signal: not base64") from None
    if len(body) < _HEADER.size:
        raise SignalError("invalid local-features signal: too short")
    width, height, scale, n = _HEADER.unpack_from(body)
    expected = _HEADER.size + n * (4 + DESCRIPTOR_BYTES)
    if len(body) != expected:
        raise SignalError(
            f"invalid local-features signal: {len(body)} bytes where {n} keypoints need {expected}"
        )
    if not (width and height and np.isfinite(scale) and scale > 0) or n > MAX_KEYPOINTS:
        raise SignalError("invalid local-features signal: impossible header")
    off = _HEADER.size
    xy = np.frombuffer(body, "<u2", n * 2, off).reshape(n, 2).astype(np.float32) / _XY_UNIT
    desc = np.frombuffer(body, np.uint8, n * DESCRIPTOR_BYTES, off + n * 4)
    return Features(width, height, float(scale), xy, desc.reshape(n, DESCRIPTOR_BYTES).copy())
