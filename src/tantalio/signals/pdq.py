"""PDQ: 256-bit perceptual image hash, matched by Hamming distance in 8 orientations."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from tantalio.signals.base import IndexKind, SignalType, check_hex

if TYPE_CHECKING:
    from tantalio.fingerprint.record import Fingerprint


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


class Pdq(SignalType):
    name = "pdq"
    description = "PDQ image hash (64 hex digits), Hamming distance"
    index: ClassVar[IndexKind] = "hamming"

    def normalize(self, value: str) -> str:
        return check_hex(self.name, value, 64)

    def from_fingerprint(self, fp: Fingerprint) -> str | None:
        return fp.pdq or None

    def distance(self, a: str, b: str) -> int:
        return hamming(a, b)


SIGNAL_TYPES = (Pdq(),)
