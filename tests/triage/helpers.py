"""Synthetic fingerprints and stored media for matching tests (no decoding involved)."""

from __future__ import annotations

import hashlib
import random

from tantalio.fingerprint.record import Exif, Fingerprint, VideoFrame
from tantalio.store import ingest as store_ingest
from tantalio.store import repo
from tantalio.store.workspace import Workspace


def rand_pdq(rng: random.Random) -> str:
    return f"{rng.getrandbits(256):064x}"


def flip(pdq: str, bits: list[int]) -> str:
    value = int(pdq, 16)
    for b in bits:
        value ^= 1 << b
    return f"{value:064x}"


def fingerprint(
    content: bytes,
    *,
    kind: str = "image",
    pdq: str | None = None,
    orientations: list[str] | None = None,
    quality: int = 90,
    frames: list[str] | None = None,
    exif: Exif | None = None,
    error: str | None = None,
) -> Fingerprint:
    types = {"image": "jpeg", "video": "mp4", "other": "other"}
    fp = Fingerprint(
        size=len(content),
        md5=hashlib.md5(content).hexdigest(),
        sha1=hashlib.sha1(content).hexdigest(),
        sha256=hashlib.sha256(content).hexdigest(),
        type=types[kind],
        exif=exif,
        error=error,
    )
    if pdq is not None:
        fp.pdq = pdq
        fp.pdq_quality = quality
        fp.pdq_orientations = orientations or [pdq]
    if frames is not None:
        fp.frames = [
            VideoFrame(pdq=h, quality=quality, timestamp=float(i)) for i, h in enumerate(frames)
        ]
    return fp


def store_files(
    ws: Workspace,
    case: str,
    exhibit: str,
    files: dict[str, Fingerprint | str],
) -> dict[str, int]:
    """Write files (path -> fingerprint, or path -> error text for unreadable) as ingest
    would; returns {sha256: media id} of the media inserted."""
    with ws.transaction() as s:
        c, _ = repo.ensure_case(s, case)
        ex = repo.ensure_exhibit(s, c, exhibit)
        occurrences = []
        media = []
        for path, fp in files.items():
            if isinstance(fp, str):
                occurrences.append(store_ingest.Occurrence(path, None, None, error=fp))
                continue
            occurrences.append(store_ingest.Occurrence(path, fp.size, fp.sha256))
            media.append(store_ingest.media_row(fp))
        return store_ingest.write_batch(s, ex.id, occurrences, media).inserted
