"""The contract every hash-set format module fulfils, and the error a bad file raises.

A format is a small class: `name` (the `--format` value), `sniff(head)` (does the start of a
file look like this format), and `read(stream, source)`, a generator of `HashEntry` records
and `ParseWarning`s. Readers never touch the database (STYLE.md rule 3): the caller persists.

Error policy (docs/decisions/hashsets.md):
- a record that parses but is invalid (bad hash, no hash, wrong column count) is skipped and
  reported as a `ParseWarning` naming file, line/record and field; the valid rest is kept;
- a descriptive value that cannot be interpreted (flag, date, unknown category code) leaves
  that field empty, keeps the record, and is reported too ("value ignored");
- a file that is not the format at all (not JSON, no header, truncated JSON) raises
  `HashSetFormatError`, possibly after some entries were yielded: the caller discards the
  import (the store imports a set in one transaction);
- `strict=True` (in `importer`) turns the first warning into a `HashSetFormatError`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar

from tantalio.hashsets.record import HashEntry, ParseWarning

# How many bytes of a file `sniff` is given.
SNIFF_BYTES = 4096


class HashSetFormatError(ValueError):
    """A hash-set file that cannot be read as its format, or a record rejected in strict mode.

    `where` is `file`, `file:line` or `file:record N`; `field` the field at fault, if any.
    """

    def __init__(self, where: str, message: str, field: str | None = None) -> None:
        self.where = where
        self.field = field
        self.message = message
        what = f" field {field!r}:" if field else ""
        super().__init__(f"{where}:{what} {message}")

    @classmethod
    def from_warning(cls, warning: ParseWarning) -> HashSetFormatError:
        return cls(warning.where, warning.message, warning.field)


class HashSetFormat:
    """Base class of one hash-set format. Subclasses set `name`, `kind`, and `read`.

    Options a format needs (the trusted keys of a signed list, a category map) are keyword
    arguments of its constructor; `importer.import_entries(..., **options)` passes them on.
    """

    name: ClassVar[str] = ""
    # The hash-set kind a list of this format usually is (NSRL is known-good).
    default_kind: ClassVar[str] = "known-bad"
    description: ClassVar[str] = ""

    def __init__(self, **options: Any) -> None:
        if options:
            raise TypeError(f"format {self.name!r} takes no options, got {sorted(options)}")

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        """True when `head` (the first SNIFF_BYTES of a file) looks like this format."""
        return False

    def read(self, stream: BinaryIO, source: str) -> Iterator[HashEntry | ParseWarning]:
        """Yield every valid entry of `stream` and a warning for every bad record.

        `source` names the file in warnings and errors. Raises `HashSetFormatError` when
        the stream is not this format at all.
        """
        raise NotImplementedError
