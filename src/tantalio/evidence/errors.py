"""Errors a consumer of `open_source` may see, all `OSError`s so one `except OSError` records
the file as unreadable with `str(exc)` and moves on (one bad file never stops a run)."""

from __future__ import annotations


class EvidenceError(OSError):
    """Base of every error raised while walking or reading evidence.

    `str(exc)` is `"<path>: <reason>"`; `reason` alone suits a record about that path.
    """

    def __init__(self, label: str, reason: str | None = None) -> None:
        if reason is None:
            label, reason = "", label
        super().__init__(f"{label}: {reason}" if label else reason)
        self.label = label
        self.reason = reason


class EvidenceSourceError(EvidenceError):
    """The source itself cannot be walked: missing, unreadable, or not a kind we know."""


class EvidenceReadError(EvidenceError):
    """Reading a file's bytes failed: corrupt data, CRC mismatch, unreadable sectors."""


class LimitExceededError(EvidenceReadError):
    """Decompression tripped an `EvidenceLimits` bound (ratio or size): a likely bomb."""


class EvidenceExpiredError(EvidenceError):
    """`open()` was called after the walk moved past an archive or disk-image file.

    Such files can be opened only while they are the iterator's current item; call
    `tantalio.evidence.detach()` first to keep the bytes for later.
    """


class ContainerError(Exception):
    """Raised by a source kind when a container's contents cannot be (fully) listed.

    The walk records the message as the container file's `error` and carries on with the
    rest of the source; it never reaches the consumer as an exception.
    """
