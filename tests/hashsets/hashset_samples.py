"""Expected values for the samples in tests/data/hashsets: digests of benign labels, derived
here independently of the files (make_samples.py writes them the same way)."""

from __future__ import annotations

import hashlib
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "hashsets"


def md5(label: str) -> str:
    return hashlib.md5(label.encode()).hexdigest()


def sha1(label: str) -> str:
    return hashlib.sha1(label.encode()).hexdigest()


def sha256(label: str) -> str:
    return hashlib.sha256(label.encode()).hexdigest()


def pdq(label: str) -> str:
    """The 256-bit stand-in PDQ values of the samples."""
    return hashlib.sha256(("pdq:" + label).encode()).hexdigest()


def where_suffixes(warnings: list) -> list[tuple[str, str | None]]:
    """(location after the file name, field) of each warning, for compact assertions."""
    return [(w.where.split(":", 1)[1], w.field) for w in warnings]
