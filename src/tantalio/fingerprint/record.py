"""The fingerprint of one file: what every later stage (matching, triage, linking) rests on.

Field names are an interface: `tantalio hash` prints them as JSON keys, the store keeps them
per media row, and the platform service hashes uploads into the same record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Keys `tantalio hash` prints, in this order, where they apply (issue: fingerprinting engine).
JSON_KEYS = (
    "path",
    "size",
    "md5",
    "sha1",
    "sha256",
    "type",
    "mime",
    "width",
    "height",
    "pdq",
    "pdq_quality",
    "pdq_orientations",
    "exif",
    "duration",
    "frames",
    "error",
)

# The eight dihedral orientations, in the order `pdq_orientations` lists them.
ORIENTATIONS = (
    "identity",
    "rot90",
    "rot180",
    "rot270",
    "flip_h",
    "flip_v",
    "transpose",
    "transverse",
)


@dataclass(frozen=True, slots=True)
class VideoFrame:
    """One vPDQ frame: PDQ of the frame sampled at `timestamp` seconds (1 per second)."""

    pdq: str
    quality: int
    timestamp: float


@dataclass(slots=True)
class Exif:
    """The EXIF fields an investigator links media by (camera, place, time)."""

    make: str | None = None
    model: str | None = None
    serial: str | None = None
    lens: str | None = None
    datetime_original: str | None = None  # ISO 8601, as recorded (no time zone assumed)
    gps_latitude: float | None = None
    gps_longitude: float | None = None
    software: str | None = None
    orientation: int | None = None

    def is_empty(self) -> bool:
        return all(v is None for v in asdict(self).values())


@dataclass(slots=True)
class Fingerprint:
    """Everything tantalio computes from one file's bytes, read once.

    `type` is detected from magic bytes: jpeg, png, gif, bmp, webp, tiff, heif, mp4, mov,
    3gp, avi, mkv, webm, asf, flv, or other. `kind` groups it as image/video/other.
    A file that could not be decoded still carries size and cryptographic hashes, with
    `error` saying what failed; one whose bytes could not be read at all has empty-string
    hashes (left out of the JSON) and the error.
    """

    size: int
    md5: str
    sha1: str
    sha256: str
    type: str = "other"
    mime: str = "application/octet-stream"
    path: str | None = None
    width: int | None = None
    height: int | None = None
    pdq: str | None = None
    pdq_quality: int | None = None
    pdq_orientations: list[str] | None = None  # ORIENTATIONS order; [0] == pdq
    exif: Exif | None = None
    duration: float | None = None
    frames: list[VideoFrame] | None = None
    keyframes: list[float] | None = None  # timestamps (s) for contact-sheet thumbnails
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # JPEG bytes of a small upright colour preview, only with FingerprintConfig.preview_px;
    # never printed (not in JSON_KEYS).
    preview: bytes | None = None

    @property
    def kind(self) -> str:
        if self.type in IMAGE_TYPES:
            return "image"
        if self.type in VIDEO_TYPES:
            return "video"
        return "other"

    def to_json_dict(self) -> dict[str, Any]:
        """The `tantalio hash` JSON object: JSON_KEYS where they apply (None values dropped,
        except `error`, which is always present so consumers can filter on it)."""
        out: dict[str, Any] = {}
        for key in JSON_KEYS:
            value = getattr(self, key)
            if key == "exif":
                value = (
                    None
                    if value is None or value.is_empty()
                    else {k: v for k, v in asdict(value).items() if v is not None}
                )
            elif key == "frames" and value is not None:
                value = [asdict(f) for f in value]
            if value is None and key != "error":
                continue
            if key in _HASH_KEYS and not value:  # unreadable file: no hashes to show
                continue
            out[key] = value
        return out


_HASH_KEYS = frozenset({"md5", "sha1", "sha256"})
IMAGE_TYPES = frozenset({"jpeg", "png", "gif", "bmp", "webp", "tiff", "heif"})
VIDEO_TYPES = frozenset({"mp4", "mov", "3gp", "avi", "mkv", "webm", "asf", "flv"})
