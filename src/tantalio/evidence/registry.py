"""Every evidence source kind, registered in one place (STYLE.md 2).

Recognition is by magic bytes, so a zip renamed `.jpg` is still expanded, and a photo renamed
`.zip` stays a photo (it is fingerprinted, not reported as a corrupt archive). File names count
only for disk images given as the source (`x.dd`, `x.img`: raw images have no magic of their
own). Disk images are recognised only as the source itself: pass each image as its own source
(docs/decisions/evidence.md).
"""

from __future__ import annotations

from tantalio.evidence.base import SourceKind
from tantalio.evidence.kinds.compressed import Bzip2Kind, GzipKind, XzKind, ZstdKind
from tantalio.evidence.kinds.ewf import EwfKind
from tantalio.evidence.kinds.folder import FolderKind
from tantalio.evidence.kinds.raw import RawDiskKind
from tantalio.evidence.kinds.sevenzip import SevenZipKind
from tantalio.evidence.kinds.tar import TarKind
from tantalio.evidence.kinds.zip import ZipKind

_FOLDER = FolderKind()

# Strongest signatures first; the raw-disk boot signature is the weakest.
KINDS: tuple[SourceKind, ...] = (
    _FOLDER,
    EwfKind(),
    ZipKind(),
    SevenZipKind(),
    TarKind(),
    GzipKind(),
    Bzip2Kind(),
    XzKind(),
    ZstdKind(),
    RawDiskKind(),
)


def folder_kind() -> SourceKind:
    return _FOLDER


def by_name(name: str) -> SourceKind:
    for kind in KINDS:
        if kind.name == name:
            return kind
    raise KeyError(name)


def detect(head: bytes, name: str, *, top_level: bool) -> SourceKind | None:
    """The kind of a file from its first bytes and its name; None for a plain file."""
    candidates = [k for k in KINDS if k is not _FOLDER and (top_level or not k.disk)]
    for kind in candidates:
        if kind.matches_magic(head):
            return kind
    for kind in candidates:
        if kind.disk and kind.matches_name(name):
            return kind
    return None
