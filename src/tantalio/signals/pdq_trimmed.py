"""PDQ of the picture inside its frame (issue 13): the same 256-bit PDQ, computed after
cutting uniform borders, letterbox bars and screenshot chrome (fingerprint/trim.py).

A trimmed PDQ *is* a PDQ (same bits, same Hamming distance, same threshold): a hash list
entry of this type is compared with the PDQ index like any PDQ, and a file's trimmed PDQ is
searched there as a second query. Only files that have a frame carry one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from tantalio.signals.base import IndexKind, SignalType, check_hex
from tantalio.signals.pdq import hamming

if TYPE_CHECKING:
    from tantalio.fingerprint.record import Fingerprint


class PdqTrimmed(SignalType):
    name = "pdq-trimmed"
    description = "PDQ of the picture inside borders/letterbox/screenshot chrome (64 hex digits)"
    index: ClassVar[IndexKind] = "hamming"

    def normalize(self, value: str) -> str:
        return check_hex(self.name, value, 64)

    def from_fingerprint(self, fp: Fingerprint) -> str | None:
        value = fp.extra.get("pdq_trimmed")
        return value if isinstance(value, str) and value else None

    def distance(self, a: str, b: str) -> int:
        return hamming(a, b)


SIGNAL_TYPES = (PdqTrimmed(),)
