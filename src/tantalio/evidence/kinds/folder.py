"""A folder on disk: every regular file below it, by name, never following a symlink.

Symlinks are listed as unreadable with their target, whether they point inside the tree (the
target is listed at its own path anyway) or out of it (following would read files that are not
evidence). FIFOs, sockets and devices are listed but never opened: opening a FIFO blocks.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from functools import partial

from tantalio.evidence.base import Blob, Member, SourceKind, WalkContext, utc
from tantalio.evidence.errors import EvidenceSourceError
from tantalio.evidence.names import display, join
from tantalio.evidence.record import EvidenceFile
from tantalio.evidence.streams import open_local

_SPECIAL = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


class FolderKind(SourceKind):
    name = "folder"

    def walk(self, blob: Blob, ctx: WalkContext) -> Iterator[Member]:
        root = blob.local_path
        assert root is not None
        root_real = os.path.realpath(root)
        try:
            st = os.stat(root)
        except OSError as exc:
            raise EvidenceSourceError(root, f"{exc.strerror or exc}") from exc
        yield from self._walk_dir(root, "", root_real, {(st.st_dev, st.st_ino)})

    def _walk_dir(
        self, dirpath: str, prefix: str, root_real: str, seen: set[tuple[int, int]]
    ) -> Iterator[Member]:
        try:
            with os.scandir(dirpath) as it:
                entries = sorted(it, key=lambda e: os.fsencode(e.name))
        except OSError as exc:
            if not prefix:
                raise EvidenceSourceError(dirpath, f"{exc.strerror or exc}") from exc
            yield _error(prefix, f"cannot list folder: {exc.strerror or exc}")
            return
        for entry in entries:
            rel = join(prefix, display(entry.name))
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                yield _error(rel, f"cannot stat: {exc.strerror or exc}")
                continue
            mode = st.st_mode
            if stat.S_ISDIR(mode):
                key = (st.st_dev, st.st_ino)
                if key in seen:  # a bind mount looping back into the tree
                    yield _error(rel, "folder already walked (mount loop); not followed")
                    continue
                seen.add(key)
                yield from self._walk_dir(entry.path, rel, root_real, seen)
            elif stat.S_ISREG(mode):
                yield Member(
                    EvidenceFile(
                        path=rel,
                        size=st.st_size,
                        open=partial(open_local, entry.path),
                        mtime=utc(st.st_mtime_ns / 1e9),
                        ctime=utc(st.st_ctime_ns / 1e9),
                        atime=utc(st.st_atime_ns / 1e9),
                        local_path=entry.path,
                    ),
                    seekable=True,
                    durable=True,
                )
            elif stat.S_ISLNK(mode):
                yield _error(rel, _link_reason(entry.path, dirpath, root_real), st)
            else:
                what = next((label for test, label in _SPECIAL if test(mode)), "not a file")
                yield _error(rel, f"not a regular file ({what}); not opened", st)


def _link_reason(path: str, dirpath: str, root_real: str) -> str:
    try:
        target = os.readlink(path)
    except OSError as exc:
        return f"symbolic link (unreadable: {exc.strerror}); not followed"
    resolved = os.path.realpath(os.path.join(dirpath, target))
    inside = resolved == root_real or resolved.startswith(root_real + os.sep)
    where = (
        "inside the source; its target is listed at its own path"
        if inside
        else ("points outside the source")
    )
    return f"symbolic link to {display(target)!r} ({where}); not followed"


def _error(path: str, reason: str, st: os.stat_result | None = None) -> Member:
    return Member(
        EvidenceFile(
            path=path,
            size=0,
            open=None,
            mtime=utc(st.st_mtime) if st else None,
            ctime=utc(st.st_ctime) if st else None,
            atime=utc(st.st_atime) if st else None,
            error=reason,
        ),
        durable=True,
    )
