"""The one place hash-set formats are registered, by their `--format` name.

Adding a format: write `formats/<name>.py` with a `HashSetFormat` subclass and add the class
to `_FORMATS` below (docs/howto-add-a-hashset-format.md). `tests/hashsets/test_registry.py`
fails when a format class exists but is not listed here.
"""

from __future__ import annotations

from typing import Any

from tantalio.hashsets.base import HashSetFormat, HashSetFormatError
from tantalio.hashsets.formats.checksums import Md5sumFormat, Sha1sumFormat, Sha256sumFormat
from tantalio.hashsets.formats.hma import HmaFormat
from tantalio.hashsets.formats.icse import IcseFormat
from tantalio.hashsets.formats.nsrl import NsrlFormat
from tantalio.hashsets.formats.tantalio_signed import SignedListFormat
from tantalio.hashsets.formats.vics import VicsFormat

# Order is the order `detect_format` tries them: the most specific signatures first.
_FORMATS: tuple[type[HashSetFormat], ...] = (
    SignedListFormat,
    VicsFormat,
    NsrlFormat,
    HmaFormat,
    IcseFormat,
    Md5sumFormat,
    Sha1sumFormat,
    Sha256sumFormat,
)
FORMATS: dict[str, type[HashSetFormat]] = {cls.name: cls for cls in _FORMATS}


def format_names() -> list[str]:
    """Every `--format` value, in detection order."""
    return list(FORMATS)


def get_format(name: str) -> type[HashSetFormat]:
    try:
        return FORMATS[name]
    except KeyError:
        known = ", ".join(FORMATS)
        raise HashSetFormatError(name, f"unknown hash-set format; known: {known}") from None


def open_format(name: str, **options: Any) -> HashSetFormat:
    """An instance of format `name` configured with its options (see each format class)."""
    return get_format(name)(**options)


def detect_format(head: bytes) -> str | None:
    """The name of the first format whose `sniff` accepts `head`, or None."""
    for cls in _FORMATS:
        if cls.sniff(head):
            return cls.name
    return None
