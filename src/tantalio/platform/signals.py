"""HMA's names for signal types: a thin alias of `tantalio.signals.registry`.

HMA names signal types after python-threatexchange (`pdq`, `video_md5`, `vpdq`); tantalio
adds the cryptographic hashes a bank can hold. The definitions live in `tantalio.signals`.
"""

from __future__ import annotations

from tantalio.signals import registry
from tantalio.signals.base import SignalError
from tantalio.signals.vpdq import parse_frames

PDQ = "pdq"
MD5 = "md5"
SHA1 = "sha1"
SHA256 = "sha256"
VIDEO_MD5 = "video_md5"
VPDQ = "vpdq"

SIGNAL_TYPES = registry.names()
EXACT_COLUMN = registry.exact_columns()

__all__ = ["EXACT_COLUMN", "SIGNAL_TYPES", "SignalError", "normalize", "vpdq_frames"]


def normalize(signal_type: str, value: str) -> str:
    """Lower-case, validated hex for hash types; vPDQ: comma-separated frame PDQs."""
    return registry.normalize(signal_type, value)


def vpdq_frames(value: str) -> list[str]:
    """Frame PDQs of a vPDQ value in any accepted form (HMA cells included)."""
    return [f.pdq for f in parse_frames(value)]
