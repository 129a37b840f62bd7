"""The signal-type interface: what every kind of hash (MD5, PDQ, vPDQ, ...) must provide.

A signal type is one module in `signals/` with one `SignalType` subclass, listed in
`registry.SIGNAL_MODULES` (docs/howto-add-a-signal-type.md). Everything that matches
(triage, the web query, the platform) asks the registry, so a new type is one place.

The index capability says which kind of index holds the signal:
- `exact`: equal values only (dictionary lookup); `distance` is 0 or 1;
- `hamming`: radius search by Hamming distance (PDQ, multi-index hashing);
- `frames`: a list of frame hashes searched one by one in a Hamming index, scored by the
  share of frames matched (vPDQ);
- `local`: keypoint descriptors voted per reference and verified geometrically (local
  features, issue 13); an `Indexes` answers it through an optional `local_features` method.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar, Literal

if TYPE_CHECKING:
    from tantalio.fingerprint.record import Fingerprint

IndexKind = Literal["exact", "hamming", "frames", "local"]
INDEX_KINDS: tuple[IndexKind, ...] = ("exact", "hamming", "frames", "local")
HEX = re.compile(r"^[0-9a-f]+$")


class SignalError(ValueError):
    """A value that is not a valid signal of its type (the message never repeats the value)."""


class SignalType:
    """One kind of signal. Subclasses set the class attributes and implement the methods."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    index: ClassVar[IndexKind]
    # Exact types: the column of the exact index they are looked up in (`video_md5` is the
    # MD5 of the file, so it shares the `md5` column).
    column: ClassVar[str | None] = None

    def normalize(self, value: str) -> str:
        """The canonical text form (lower-case hex, ...); raises `SignalError` when invalid."""
        raise NotImplementedError

    def from_fingerprint(self, fp: Fingerprint) -> str | None:
        """The signal of a fingerprinted file, or None when the file has none."""
        raise NotImplementedError

    def distance(self, a: str, b: str) -> int:
        """Distance between two normalized values (0 = identical)."""
        raise NotImplementedError


def check_hex(name: str, value: str, digits: int) -> str:
    v = value.strip().lower()
    if len(v) != digits or not HEX.match(v):
        raise SignalError(f"invalid {name} signal: expected {digits} hexadecimal characters")
    return v
