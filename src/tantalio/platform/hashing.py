"""Bytes in, signals out: uploads are hashed by tantalio's fingerprint engine.

`signals_of(fp)` gives what HMA's hasher would return for the content type (photo: `pdq`;
video: `video_md5` and `vpdq`) and `all_signals(fp)` adds the cryptographic hashes that
tantalio banks also hold.
"""

from __future__ import annotations

from typing import Any

from tantalio.fingerprint import fingerprint_bytes
from tantalio.fingerprint.record import Fingerprint
from tantalio.platform import signals as sig


class HashingError(ValueError):
    pass


def fingerprint(data: bytes, name: str | None = None, local_features: str = "") -> Fingerprint:
    """Hash an upload (image or video) with tantalio's engine; never raises for bad media:
    the record then carries the cryptographic hashes and `error`. `local_features`:
    "reference" for content being banked, "query" for content looked up while some bank
    holds local features (issue 13), "" for neither."""
    if local_features:
        from tantalio.fingerprint.config import FingerprintConfig

        return fingerprint_bytes(
            data, name=name, config=FingerprintConfig(local_features=local_features)
        )
    return fingerprint_bytes(data, name=name)


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


def extra_signals(fp: Fingerprint) -> dict[str, str]:
    """The signals HMA has no name for (issue 13), under HMA-style names: the PDQ of the
    picture inside its frame (`pdq_trimmed`, when it has one) and its local features
    (`local_features`, when they were extracted)."""
    out: dict[str, str] = {}
    trimmed = fp.extra.get("pdq_trimmed")
    if isinstance(trimmed, str) and trimmed:
        out[sig.HMA_PDQ_TRIMMED] = trimmed
    local = fp.extra.get("local_features")
    if isinstance(local, str) and local:
        out[sig.HMA_LOCAL_FEATURES] = local
    return out


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
