"""Fingerprinting engine: bytes → `Fingerprint` (size, MD5/SHA-1/SHA-256 from one read, type
by magic bytes, PDQ + quality + 8 orientations, EXIF, vPDQ frames for videos).

    fingerprint_file(path, config=None)                     one file on disk
    fingerprint_bytes(data, name=None, config=None)         bytes in memory (uploads)
    fingerprint_stream(stream, name=None, size=None, ...)   archive members, disk-image files
    fingerprint_many(paths, jobs=None, config=None)         all cores, input order, isolated
    pdq_from_image(image) / pdq_from_luma(luma)             PDQ of a PIL image or array
    hamming(a_hex, b_hex), pdq_hex_to_bits(hex)             for matchers
"""

from __future__ import annotations

from tantalio.fingerprint.config import DEFAULT_CONFIG, FingerprintConfig
from tantalio.fingerprint.engine import (
    fingerprint_bytes,
    fingerprint_file,
    fingerprint_stream,
    hash_only_file,
)
from tantalio.fingerprint.magic import sniff
from tantalio.fingerprint.pdq import (
    PdqResult,
    hamming,
    luma_from_rgb,
    pdq_bits_to_hex,
    pdq_from_image,
    pdq_from_luma,
    pdq_hex_to_bits,
    pdq_reference,
)
from tantalio.fingerprint.pool import available_cpus, fingerprint_many
from tantalio.fingerprint.record import (
    IMAGE_TYPES,
    JSON_KEYS,
    ORIENTATIONS,
    VIDEO_TYPES,
    Exif,
    Fingerprint,
    VideoFrame,
)

__all__ = [
    "DEFAULT_CONFIG",
    "IMAGE_TYPES",
    "JSON_KEYS",
    "ORIENTATIONS",
    "VIDEO_TYPES",
    "Exif",
    "Fingerprint",
    "FingerprintConfig",
    "PdqResult",
    "VideoFrame",
    "available_cpus",
    "fingerprint_bytes",
    "fingerprint_file",
    "fingerprint_many",
    "fingerprint_stream",
    "hamming",
    "hash_only_file",
    "luma_from_rgb",
    "pdq_bits_to_hex",
    "pdq_from_image",
    "pdq_from_luma",
    "pdq_hex_to_bits",
    "pdq_reference",
    "sniff",
]
