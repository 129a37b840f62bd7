"""tantalio's own Ed25519-signed distribution list as an importable format (signed.py).

Reading it needs the keys the caller trusts: pass `trusted_keys=[...]` (key objects, PEM
bytes or PEM file paths) to the reader — `import_entries(path, "tantalio-signed",
trusted_keys=[...])` — or set `TANTALIO_TRUSTED_KEYS` to PEM file paths separated by
`os.pathsep`. A list that is unsigned, tampered with or signed by an untrusted key raises
a `SignedListError` (a `HashSetFormatError`); `allow_unsigned=True` admits unsigned lists
only, never badly signed ones. The whole document is read (the signature covers it all).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from tantalio.hashsets.base import HashSetFormat
from tantalio.hashsets.record import HashEntry, ParseWarning
from tantalio.hashsets.signed import FORMAT_ID, PublicKeyLike, verify_and_read

TRUSTED_KEYS_ENV = "TANTALIO_TRUSTED_KEYS"


class SignedListFormat(HashSetFormat):
    name = "tantalio-signed"
    description = "tantalio Ed25519-signed distribution list (needs trusted keys)"

    def __init__(
        self,
        trusted_keys: Iterable[PublicKeyLike] | None = None,
        allow_unsigned: bool = False,
    ) -> None:
        if trusted_keys is None:
            paths = os.environ.get(TRUSTED_KEYS_ENV, "")
            trusted_keys = [p for p in paths.split(os.pathsep) if p]
        self.trusted_keys = list(trusted_keys)
        self.allow_unsigned = allow_unsigned

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        marker = f'"{FORMAT_ID}"'.encode()
        return text.startswith(b"{") and marker in text[:200]

    def read(self, stream: BinaryIO, source: str) -> Iterator[HashEntry | ParseWarning]:
        signed = verify_and_read(stream.read(), self.trusted_keys, self.allow_unsigned, source)
        yield from signed.warnings
        yield from signed.entries
