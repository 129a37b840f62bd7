"""Error texts that are the same on every run.

Decoders put object reprs with memory addresses into their messages (Pillow's "cannot
identify image file <_io.BytesIO object at 0x7f...>"). A fingerprint's `error` is stored and
compared (the same file must store the same text, so a resumed ingest ends identical), so
addresses are taken out where the text is made.
"""

from __future__ import annotations

import re

_REPR = re.compile(r"\s*<[^<>]*\bat 0x[0-9a-fA-F]+>")  # a whole `<... at 0x...>` repr
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")  # an address anywhere else


def clean(text: str) -> str:
    """`text` without memory addresses (a repr carrying one is dropped whole)."""
    return _ADDRESS.sub("", _REPR.sub("", text)).strip()


def why(exc: BaseException) -> str:
    """`ExceptionClass: message`, deterministic (no memory addresses)."""
    text = clean(str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
