"""EXIF fields investigators link media by: camera, body serial, lens, time, place, software.

exifread parses the TIFF structure; MakerNotes are skipped (`details=False`): they are
vendor-specific, slow, and the standard tags already carry what we keep. The orientation tag
is recorded, never applied: the PDQ is of the pixels as stored.
"""

from __future__ import annotations

import io
import logging
import re
from fractions import Fraction
from typing import Any

from tantalio.fingerprint.record import Exif

# exifread reports damaged tags through logging; without a handler Python would print them
# on stderr (the `tantalio hash` progress bar's place). They are not errors of ours.
logging.getLogger("exifread").addHandler(logging.NullHandler())

_DATE = re.compile(r"^(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"^[+\-]\d{2}:\d{2}$")


def has_exif(type_: str, data: bytes) -> bool:
    """Cheap check before parsing: does this file carry an EXIF block at all?"""
    if type_ == "jpeg":  # APP1 comes right after SOI (a JFIF APP0 may precede it)
        return data.find(b"Exif\x00\x00", 0, 1 << 17) != -1
    if type_ == "tiff":
        return True
    if type_ == "png":
        return data.find(b"eXIf") != -1
    if type_ == "webp":
        return data.find(b"EXIF", 0, 1 << 20) != -1
    if type_ == "heif":
        return data.find(b"Exif", 0, 1 << 20) != -1
    return False


def read_exif(data: bytes) -> Exif | None:
    """The EXIF record of an image file's bytes, or None when it has no usable tags.
    Raises on a structure exifread cannot parse at all (the caller records a warning)."""
    import exifread

    tags = exifread.process_file(
        io.BytesIO(data), details=False, extract_thumbnail=False, strict=False
    )
    if not tags:
        return None
    exif = Exif(
        make=_text(tags, "Image Make"),
        model=_text(tags, "Image Model"),
        serial=_text(tags, "EXIF BodySerialNumber") or _text(tags, "Image CameraSerialNumber"),
        lens=_lens(_text(tags, "EXIF LensMake"), _text(tags, "EXIF LensModel")),
        datetime_original=_datetime(
            _text(tags, "EXIF DateTimeOriginal"), _text(tags, "EXIF OffsetTimeOriginal")
        ),
        gps_latitude=_coordinate(tags, "GPS GPSLatitude", "GPS GPSLatitudeRef", "S", 90.0),
        gps_longitude=_coordinate(tags, "GPS GPSLongitude", "GPS GPSLongitudeRef", "W", 180.0),
        software=_text(tags, "Image Software"),
        orientation=_orientation(tags),
    )
    return None if exif.is_empty() else exif


def _values(tags: dict[str, Any], key: str) -> Any:
    tag = tags.get(key)
    return None if tag is None else getattr(tag, "values", tag)


def _text(tags: dict[str, Any], key: str) -> str | None:
    value = _values(tags, key)
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, list):
        if not value or not all(isinstance(v, int) for v in value):
            return None
        value = bytes(v & 0xFF for v in value).decode("utf-8", "replace")
    text = str(value).replace("\x00", " ").strip()
    return text or None


def _lens(make: str | None, model: str | None) -> str | None:
    if model and make and not model.lower().startswith(make.lower()):
        return f"{make} {model}"
    return model


def _datetime(value: str | None, offset: str | None) -> str | None:
    if not value:
        return None
    m = _DATE.match(value)
    if not m:
        return None
    year, month, day, hour, minute, second = m.groups()
    if year == "0000" or month == "00" or day == "00":
        return None
    iso = f"{year}-{month}-{day}T{hour}:{minute}:{second}"
    if offset and _OFFSET.match(offset):
        iso += offset
    return iso


def _ratio(v: Any) -> float:
    if isinstance(v, (int, float)):
        return float(v)
    num, den = getattr(v, "numerator", None), getattr(v, "denominator", None)
    if num is None or den is None:
        return float(Fraction(str(v)))
    if den == 0:
        raise ZeroDivisionError("zero denominator")
    return num / den


def _coordinate(
    tags: dict[str, Any], key: str, ref_key: str, negative: str, limit: float
) -> float | None:
    value = _values(tags, key)
    if not value or len(value) < 1:
        return None
    try:
        parts = [_ratio(v) for v in list(value)[:3]] + [0.0, 0.0]
    except (ValueError, ZeroDivisionError, TypeError):
        return None
    degrees = parts[0] + parts[1] / 60.0 + parts[2] / 3600.0
    ref = (_text(tags, ref_key) or "").upper()[:1]
    if ref == negative:
        degrees = -degrees
    if not -limit <= degrees <= limit:
        return None
    return round(degrees, 7)


def _orientation(tags: dict[str, Any]) -> int | None:
    value = _values(tags, "Image Orientation")
    if isinstance(value, list) and value:
        value = value[0]
    return value if isinstance(value, int) and 1 <= value <= 8 else None
