"""Bytes in, signals out: uploads are hashed by tantalio's fingerprint engine.

`signals_of(fp)` gives what HMA's hasher would return for the content type (photo: `pdq`;
video: `video_md5` and `vpdq`) and `all_signals(fp)` adds the cryptographic hashes that
tantalio banks also hold.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any

from tantalio.fingerprint.record import Fingerprint
from tantalio.platform import signals as sig


class HashingError(ValueError):
    pass


def fingerprint(data: bytes, name: str | None = None) -> Fingerprint:
    try:
        from tantalio.fingerprint import fingerprint_bytes  # type: ignore[attr-defined]
    except ImportError:  # the engine not installed in this tree yet: images only
        return _fallback(data, name)
    return fingerprint_bytes(data, name=name)


def _fallback(data: bytes, name: str | None) -> Fingerprint:
    fp = Fingerprint(
        size=len(data),
        md5=hashlib.md5(data).hexdigest(),
        sha1=hashlib.sha1(data).hexdigest(),
        sha256=hashlib.sha256(data).hexdigest(),
        path=name,
    )
    try:
        import numpy as np
        import pdqhash
        from PIL import Image

        with Image.open(io.BytesIO(data)) as im:
            fp.type = (im.format or "other").lower()
            fp.width, fp.height = im.size
            rgb = np.asarray(im.convert("RGB"))
        # The 8 orientations of the image itself (ORIENTATIONS order), not the DCT shortcut.
        views = [
            rgb,
            np.rot90(rgb, 1),
            np.rot90(rgb, 2),
            np.rot90(rgb, 3),
            rgb[:, ::-1],
            rgb[::-1],
            rgb.transpose(1, 0, 2),
            np.rot90(rgb, 2).transpose(1, 0, 2),
        ]
        hexes, quality = [], 0
        for k, view in enumerate(views):
            vec, q = pdqhash.compute(np.ascontiguousarray(view))
            hexes.append(np.packbits(vec.astype(np.uint8)).tobytes().hex())
            quality = int(q) if k == 0 else quality
        fp.pdq, fp.pdq_quality, fp.pdq_orientations = hexes[0], quality, hexes
    except Exception as exc:  # not an image we can decode
        fp.error = f"not decodable as an image: {type(exc).__name__}"
    return fp


def signals_of(fp: Fingerprint) -> dict[str, str]:
    """HMA's view: the perceptual signals of the content type (and `video_md5`)."""
    if fp.kind == "video" or fp.frames:
        out = {sig.VIDEO_MD5: fp.md5}
        if fp.frames:
            out[sig.VPDQ] = ",".join(f.pdq for f in fp.frames)
        return out
    if fp.pdq:
        return {sig.PDQ: fp.pdq}
    return {}


def all_signals(fp: Fingerprint) -> dict[str, str]:
    out = {sig.MD5: fp.md5, sig.SHA1: fp.sha1, sig.SHA256: fp.sha256}
    if fp.pdq:
        out[sig.PDQ] = fp.pdq
    if fp.frames:
        out[sig.VPDQ] = ",".join(f.pdq for f in fp.frames)
    return out


def describe(fp: Fingerprint) -> dict[str, Any]:
    """The hashes a report lists for a file (never the bytes)."""
    d: dict[str, Any] = {"md5": fp.md5, "sha1": fp.sha1, "sha256": fp.sha256, "size": fp.size}
    if fp.pdq:
        d["pdq"] = fp.pdq
        d["pdq_quality"] = fp.pdq_quality
    if fp.type:
        d["type"] = fp.type
    return d
