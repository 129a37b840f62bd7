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
# Issue 13's signal types under HMA-style names (python-threatexchange writes `video_md5`):
# HMA routes answer and accept these; the registry's `pdq-trimmed` / `local-features` are
# accepted as well.
HMA_PDQ_TRIMMED = "pdq_trimmed"
HMA_LOCAL_FEATURES = "local_features"
_TO_REGISTRY = {HMA_PDQ_TRIMMED: "pdq-trimmed", HMA_LOCAL_FEATURES: "local-features"}
_TO_HMA = {v: k for k, v in _TO_REGISTRY.items()}

SIGNAL_TYPES = registry.names()
EXACT_COLUMN = registry.exact_columns()

__all__ = [
    "EXACT_COLUMN",
    "SIGNAL_TYPES",
    "SignalError",
    "hma_name",
    "normalize",
    "registry_name",
    "vpdq_frames",
]


def registry_name(signal_type: str) -> str:
    """The registry's name of a signal type named on an HMA route (`pdq_trimmed` ->
    `pdq-trimmed`); other names unchanged."""
    return _TO_REGISTRY.get(signal_type, signal_type)


def hma_name(signal_type: str) -> str:
    """The HMA-style name of a registry signal type (`local-features` -> `local_features`)."""
    return _TO_HMA.get(signal_type, signal_type)


def normalize(signal_type: str, value: str) -> str:
    """Lower-case, validated hex for hash types; vPDQ: comma-separated frame PDQs."""
    return registry.normalize(signal_type, value)


def vpdq_frames(value: str) -> list[str]:
    """Frame PDQs of a vPDQ value in any accepted form (HMA cells included)."""
    return [f.pdq for f in parse_frames(value)]
