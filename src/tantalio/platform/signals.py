"""Signal types the service accepts, their validation, and HMA's names for them.

HMA names signal types after python-threatexchange (`pdq`, `video_md5`); tantalio adds the
cryptographic hashes a bank can hold. A video's `video_md5` is the MD5 of the file, so it is
looked up in the same exact table as `md5`.
"""

from __future__ import annotations

import re

PDQ = "pdq"
MD5 = "md5"
SHA1 = "sha1"
SHA256 = "sha256"
VIDEO_MD5 = "video_md5"
VPDQ = "vpdq"

_HEX = {PDQ: 64, MD5: 32, SHA1: 40, SHA256: 64, VIDEO_MD5: 32}
SIGNAL_TYPES = (PDQ, MD5, SHA1, SHA256, VIDEO_MD5, VPDQ)
EXACT_COLUMN = {MD5: "md5", SHA1: "sha1", SHA256: "sha256", VIDEO_MD5: "md5"}
_HEXRE = re.compile(r"^[0-9a-f]+$")


class SignalError(ValueError):
    """A signal that is not of its declared type (the message never repeats the value)."""


def normalize(signal_type: str, value: str) -> str:
    """Lower-case, validated hex for hash types; vPDQ is a comma-separated list of PDQs."""
    if signal_type not in SIGNAL_TYPES:
        raise SignalError(f"no such signal type {signal_type!r}; known: {', '.join(SIGNAL_TYPES)}")
    v = value.strip().lower()
    if signal_type == VPDQ:
        frames = [f for f in (p.strip() for p in v.replace(";", ",").split(",")) if f]
        if not frames:
            raise SignalError("vpdq signal has no frames")
        for f in frames:
            _check(PDQ, f)
        return ",".join(frames)
    _check(signal_type, v)
    return v


def _check(signal_type: str, v: str) -> None:
    want = _HEX[signal_type]
    if len(v) != want or not _HEXRE.match(v):
        raise SignalError(f"invalid {signal_type} signal: expected {want} hexadecimal characters")


def vpdq_frames(value: str) -> list[str]:
    return normalize(VPDQ, value).split(",")
