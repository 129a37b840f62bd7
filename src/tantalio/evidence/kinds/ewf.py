"""Expert Witness (E01/Ex01) images through libewf (pyewf), handed to TSK.

All segments (`x.E01`, `x.E02`, ...) are found with `pyewf.glob` and opened by us read-only
(access time kept, as for every source) and handed to libewf as file objects;
TSK reads the media through an `Img_Info` subclass, so compressed chunks are decoded on
demand and nothing is converted to a raw copy.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyewf
import pytsk3

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
        handle = pyewf.handle()
        segments = []
        try:
            segments = [open_local(p) for p in pyewf.glob(blob.local_path)]
            handle.open_file_objects(segments, "r")
        except Exception as exc:
            for f in segments:
                f.close()
            raise ContainerError(f"cannot open EWF image: {describe(exc)}") from None
        try:
            yield from walk_image(EwfImgInfo(handle), blob, ctx)
        finally:
            handle.close()
            for f in segments:
                f.close()

    def acquisition(self, path: str) -> dict[str, str]:
        """Stored hashes (`md5`, `sha1`) and header values (`case_number`,
        `evidence_number`, `examiner_name`, `description`, `acquiry_date`, ...), as the
        acquisition record of an exhibit; keys absent when the image does not record them."""
        handle = pyewf.handle()
        segments = [open_local(p) for p in pyewf.glob(path)]
        try:
            handle.open_file_objects(segments, "r")
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
