"""Cryptographic file hashes: exact matches only."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from tantalio.signals.base import IndexKind, SignalType, check_hex

if TYPE_CHECKING:
    from tantalio.fingerprint.record import Fingerprint


class _Crypto(SignalType):
    index: ClassVar[IndexKind] = "exact"
    digits: ClassVar[int] = 0

    def normalize(self, value: str) -> str:
        return check_hex(self.name, value, self.digits)

    def from_fingerprint(self, fp: Fingerprint) -> str | None:
        return getattr(fp, self.column or self.name, None) or None

    def distance(self, a: str, b: str) -> int:
        return 0 if a.lower() == b.lower() else 1


class Md5(_Crypto):
    name = "md5"
    description = "MD5 of the file"
    column = "md5"
    digits = 32


class Sha1(_Crypto):
    name = "sha1"
    description = "SHA-1 of the file"
    column = "sha1"
    digits = 40


class Sha256(_Crypto):
    name = "sha256"
    description = "SHA-256 of the file"
    column = "sha256"
    digits = 64


class VideoMd5(_Crypto):
    """HMA's name for the MD5 of a video file (python-threatexchange `video_md5`)."""

    name = "video_md5"
    description = "MD5 of a video file (HMA's name)"
    column = "md5"
    digits = 32

    def from_fingerprint(self, fp: Fingerprint) -> str | None:
        return fp.md5 if (fp.kind == "video" or fp.frames) else None


SIGNAL_TYPES = (Md5(), Sha1(), Sha256(), VideoMd5())
