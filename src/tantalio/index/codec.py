"""PDQ hash encodings and exact Hamming distance, vectorised with numpy.

A PDQ hash is 256 bits, written as 64 hex characters (most significant bit first, as
pdqhash and ThreatExchange write it). Internally the index keeps each hash as four
native uint64 words, big-endian order (word 0 holds bits 0..63 of the hex string), so a
Hamming distance is four XORs and four popcounts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

from tantalio.signals.rules import DEFAULT_MIN_QUALITY

PDQ_BITS = 256
PDQ_BYTES = 32
PDQ_HEX_CHARS = 64
# Callers skip hashes below this PDQ quality (DESIGN.md); `quality_mask` applies it.
MIN_QUALITY = DEFAULT_MIN_QUALITY  # the quality gate's default (signals.rules)

Words = NDArray[np.uint64]

HashInput = Sequence[str] | NDArray[np.uint8] | Iterable[str]


# Hex strings parsed per block, so a 10M-hash build never holds one giant joined string.
_PARSE_BLOCK = 1 << 16


def hex_to_bytes(hashes: Iterable[str], first: int = 0) -> NDArray[np.uint8]:
    """Hex strings -> uint8 array of shape (n, 32); a clear error names the bad entry
    (numbered from `first`)."""
    items = hashes if isinstance(hashes, Sequence) else list(hashes)
    out = np.empty((len(items), PDQ_BYTES), dtype=np.uint8)
    for start in range(0, len(items), _PARSE_BLOCK):
        block = items[start : start + _PARSE_BLOCK]
        try:
            joined = "".join(block)
            raw = bytes.fromhex(joined)
        except (TypeError, ValueError):
            joined, raw = "", b""
        if len(raw) != PDQ_BYTES * len(block) or len(joined) != PDQ_HEX_CHARS * len(block):
            for i, h in enumerate(block):
                _check_hex(h, first + start + i)
        out[start : start + len(block)] = np.frombuffer(raw, dtype=np.uint8).reshape(-1, PDQ_BYTES)
    return out


def _check_hex(value: object, position: int) -> None:
    if not isinstance(value, str) or len(value) != PDQ_HEX_CHARS:
        raise ValueError(f"PDQ hash #{position} is not 64 hex characters: {_short(value)}")
    try:
        bytes.fromhex(value)
    except ValueError:
        raise ValueError(f"PDQ hash #{position} is not hexadecimal: {_short(value)}") from None


def _short(value: object) -> str:
    # Hash values are sensitive: never echo one whole into an error or a log.
    text = repr(value)
    return text if len(text) <= 12 else text[:10] + "…"


def to_bytes(hashes: HashInput) -> NDArray[np.uint8]:
    """Accept hex strings or a uint8 array (n, 32); return a C-contiguous uint8 (n, 32)."""
    if isinstance(hashes, np.ndarray):
        arr = np.asarray(hashes)
        if arr.dtype != np.uint8 or arr.ndim != 2 or arr.shape[1] != PDQ_BYTES:
            raise ValueError(
                f"PDQ hash array must be uint8 of shape (n, 32), got {arr.dtype} {arr.shape}"
            )
        return np.ascontiguousarray(arr)
    if isinstance(hashes, str):
        raise TypeError("pass a sequence of PDQ hashes, not a single string")
    return hex_to_bytes(hashes)


def bytes_to_words(data: NDArray[np.uint8]) -> Words:
    """uint8 (n, 32) -> native uint64 (n, 4), word 0 = first 8 bytes read big-endian."""
    return np.ascontiguousarray(data).view(">u8").astype(np.uint64)


def to_words(hashes: HashInput) -> Words:
    """Hex strings or uint8 (n, 32) -> native uint64 words (n, 4)."""
    if isinstance(hashes, np.ndarray):
        return bytes_to_words(to_bytes(hashes))
    if isinstance(hashes, str):
        raise TypeError("pass a sequence of PDQ hashes, not a single string")
    items = hashes if isinstance(hashes, Sequence) else list(hashes)
    out = np.empty((len(items), 4), dtype=np.uint64)
    for start in range(0, len(items), _PARSE_BLOCK):
        out[start : start + _PARSE_BLOCK] = bytes_to_words(
            hex_to_bytes(items[start : start + _PARSE_BLOCK], first=start)
        )
    return out


def words_to_bytes(words: Words) -> NDArray[np.uint8]:
    return np.ascontiguousarray(words.astype(">u8")).view(np.uint8).reshape(-1, PDQ_BYTES)


def words_to_hex(words: Words) -> list[str]:
    data = words_to_bytes(words)
    return [row.tobytes().hex() for row in data]


def hamming(a: Words, b: Words) -> NDArray[np.int64]:
    """Row-wise exact Hamming distance of two (n, 4) word arrays (broadcasting allowed)."""
    return np.bitwise_count(np.bitwise_xor(a, b)).sum(axis=-1, dtype=np.int64)


def pdq_distance(a: str, b: str) -> int:
    """Hamming distance of two hex PDQ hashes."""
    return int(hamming(to_words([a]), to_words([b]))[0])


def quality_mask(
    qualities: Sequence[int | None] | NDArray[np.integer], minimum: int = MIN_QUALITY
) -> NDArray[np.bool_]:
    """True where a hash is good enough to match (quality >= minimum; None counts as 0).

    The quality gate belongs to callers (a hash set entry has no quality, an upload does):
    low-quality hashes of near-uniform images match far too much to be evidence.
    """
    values = np.array([0 if q is None else int(q) for q in qualities], dtype=np.int64)
    return values >= minimum


def filter_quality(
    hashes: Sequence[str], qualities: Sequence[int | None], minimum: int = MIN_QUALITY
) -> list[str]:
    """The hashes whose quality passes the gate, in their original order."""
    if len(hashes) != len(qualities):
        raise ValueError("hashes and qualities differ in length")
    keep = quality_mask(qualities, minimum)
    return [h for h, ok in zip(hashes, keep, strict=True) if ok]
