"""Expert Witness (E01/Ex01) images through libewf (pyewf), handed to TSK.

All segments (`x.E01`, `x.E02`, ...) are found with `pyewf.glob` and opened by us read-only
(access time kept, as for every source) and handed to libewf as file objects;
TSK reads the media through an `Img_Info` subclass, so compressed chunks are decoded on
demand and nothing is converted to a raw copy.

A set is opened by its first segment. Before libewf reads anything, the set is checked from
the EWF1 segment headers and trailers: each file's stored segment number must match its place,
and the last one found must end in a `done` section (every other one ends in `next`), so a
missing or renamed segment is reported by name instead of as a read error deep inside libewf
when TSK first reaches the missing offsets. A later segment given as the source is refused
with the name of the first.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import Any

import pyewf
import pytsk3

from tantalio.evidence import ewf1
from tantalio.evidence.base import Blob, Member, SourceKind, WalkContext
from tantalio.evidence.errors import ContainerError
from tantalio.evidence.streams import describe, open_local
from tantalio.evidence.tsk import walk_image


class EwfKind(SourceKind):
    name = "ewf"
    magic = ((0, b"EVF\x09\x0d\x0a\xff\x00"), (0, b"EVF2\x0d\x0a\x81\x00"))
    suffixes = (".e01", ".ex01")
    disk = True

    def walk(self, blob: Blob, ctx: WalkContext) -> Iterator[Member]:
        assert blob.local_path is not None
        handle = None
        segments = []
        layout = None
        try:
            paths = pyewf.glob(blob.local_path)
            segments = [open_local(p) for p in paths]
            check_segments(blob.local_path, paths, segments)
            layout = ewf1.read_layout(segments)
            if layout is None or not layout.chunks:
                handle = pyewf.handle()
                handle.open_file_objects(segments, "r")
        except Exception as exc:
            for f in segments:
                f.close()
            if isinstance(exc, ContainerError):
                raise
            raise ContainerError(f"cannot open EWF image: {describe(exc)}") from None
        try:
            if handle is None:
                assert layout is not None
                reader = ewf1.Ewf1Reader(layout, segments, blob.path)
                yield from walk_image(CheckedImgInfo(reader), blob, ctx)
                if problems := reader.problems():  # on the image's own record (walk._disk)
                    raise ContainerError(
                        "; ".join(problems) + " (read as zeros while listing the file "
                        "systems; files with data there are unreadable)"
                    )
            else:
                yield from walk_image(EwfImgInfo(handle), blob, ctx)
        finally:
            if handle is not None:
                handle.close()
            for f in segments:
                f.close()

    def verify(self, path: str) -> ewf1.Verification:
        """Read the whole image against the hashes its acquisition stored (EWF1 chunks
        checked one by one; other EWF formats: `not verified`)."""
        stored = {k: v for k, v in self.acquisition(path).items() if k in ("md5", "sha1")}
        segments = [open_local(p) for p in pyewf.glob(path)]
        try:
            layout = ewf1.read_layout(segments)
            if layout is None:
                return ewf1.Verification(
                    "not verified", stored, {}, ["not an EWF1 (E01) image: not checked here"]
                )
            return ewf1.verify(layout, segments, stored)
        finally:
            for f in segments:
                f.close()

    def acquisition(self, path: str) -> dict[str, str]:
        """Stored hashes (`md5`, `sha1`) and header values (`case_number`,
        `evidence_number`, `examiner_name`, `description`, `acquiry_date`, ...), as the
        acquisition record of an exhibit; keys absent when the image does not record them."""
        handle = pyewf.handle()
        segments = [open_local(p) for p in pyewf.glob(path)]
        try:
            try:
                handle.open_file_objects(segments, "r")
            except OSError:  # cut short: libewf cannot open it, the hashes are lost with it
                layout = ewf1.read_layout(segments)
                return {} if layout is None else {"media_size": str(layout.media_size)}
            out = {"media_size": str(handle.get_media_size())}
            for algorithm in ("MD5", "SHA1"):
                value = handle.get_hash_value(algorithm)
                if value:
                    out[algorithm.lower()] = value
            for key, value in (handle.get_header_values() or {}).items():
                if value:
                    out[key] = value
            handle.close()
            return out
        finally:
            for f in segments:
                f.close()


_EVF1 = b"EVF\x09\x0d\x0a\xff\x00"
_SECTION = 76  # EWF1 section descriptor: type (16 bytes), next, size, padding, checksum


def check_segments(source: str, paths: list[str], files: list[Any]) -> None:
    """Raise `ContainerError` naming the problem when an EWF1 set is not whole: `source` is not
    its first segment, a segment holds another number than its name says, or the last segment
    found does not close the set (the next one is missing). EWF2 (Ex01) sets are left to
    libewf."""
    numbers = []
    for f in files:
        head = f.read(13)
        f.seek(0)
        if head[:8] != _EVF1:
            return
        numbers.append(struct.unpack_from("<H", head, 9)[0])
    name = os.path.basename
    names = [name(p) for p in paths]
    given = names.index(name(source)) if name(source) in names else 0
    if given != 0 or numbers[0] != 1:
        raise ContainerError(
            f"{name(source)} is segment {numbers[given]} of an EWF set, not its first: "
            f"give the first segment ({name(paths[0])}) as the source; not walked"
        )
    for i, (path, number) in enumerate(zip(paths, numbers, strict=True), start=1):
        if number != i:
            raise ContainerError(
                f"EWF segment file {name(path)} holds segment {number}, not {i}: "
                "a segment of another set or renamed; not walked"
            )
    last = files[-1]
    size = last.seek(0, os.SEEK_END)
    trailer = b""
    if size >= 13 + _SECTION:
        last.seek(size - _SECTION)
        trailer = last.read(16).rstrip(b"\0")
    last.seek(0)
    if trailer == b"next":
        missing = _segment_name(paths[-1], len(paths) + 1)
        raise ContainerError(
            f"EWF segment file {missing} is missing: {name(paths[-1])} ends in a 'next' "
            f"section, so the set continues after its {len(paths)} segment(s) found; not walked"
        )


def _segment_name(path: str, number: int) -> str:
    """The file name libewf looks for as segment `number` of the set `path` belongs to
    (E01..E99, then EAA..EZZ, FAA...), keeping the case of the given extension."""
    base, ext = os.path.splitext(os.path.basename(path))
    first = ext[1] if len(ext) == 4 else "E"
    if number < 100:
        suffix = f"{first}{number:02d}"
    else:
        n = number - 100
        letter = chr(ord(first.upper()) + n // 676)
        suffix = letter + chr(ord("A") + n // 26 % 26) + chr(ord("A") + n % 26)
        if first.islower():
            suffix = suffix.lower()
    return f"{base}.{suffix}"


class CheckedImgInfo(pytsk3.Img_Info):  # type: ignore[misc]
    """TSK image over EWF1 chunks that tantalio reads and checks (evidence/ewf1.py): a read
    over a damaged or missing chunk fails instead of returning zeros."""

    def __init__(self, reader: ewf1.Ewf1Reader) -> None:
        self._reader = reader
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def read(self, offset: int, size: int) -> bytes:
        return self._reader.read(offset, size)

    def check(self, start: int, end: int) -> str | None:
        return self._reader.check(start, end)

    def get_size(self) -> int:
        return self._reader.layout.media_size

    def close(self) -> None:
        pass


class EwfImgInfo(pytsk3.Img_Info):  # type: ignore[misc]
    """TSK image backed by an open pyewf handle (media bytes, not the segment files)."""

    def __init__(self, handle: Any) -> None:
        self._handle = handle
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def read(self, offset: int, size: int) -> Any:
        return self._handle.read_buffer_at_offset(size, offset)

    def get_size(self) -> int:
        return int(self._handle.get_media_size())

    def close(self) -> None:
        pass  # the kind closes the handle once the walk is over
