"""`open_source`: one evidence source → a stream of `EvidenceFile`s, nested archives included.

Order is stable (folders and file systems by name bytes, archives in their own order) and a
container follows its members: `a.zip/x.jpg`, `a.zip/y.png`, `a.zip`. Listing a container
first would leave nowhere to record that its listing broke off halfway (corrupt, bomb), while
a container that follows its members carries that reason on its own record.

Lifetime of `open` (docs/decisions/evidence.md): valid until the iterator advances, except
for files with `local_path` (plain files of a folder source), which can be opened at any time.
`detach()` keeps a small member's bytes for later.
"""

from __future__ import annotations

import dataclasses
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from tantalio.evidence import isolated, registry
from tantalio.evidence.base import Blob, Member, SourceKind, WalkContext, utc
from tantalio.evidence.errors import (
    ContainerError,
    EvidenceError,
    EvidenceExpiredError,
    EvidenceReadError,
    EvidenceSourceError,
    LimitExceededError,
)
from tantalio.evidence.limits import EvidenceLimits
from tantalio.evidence.names import display
from tantalio.evidence.record import EvidenceFile, Verification
from tantalio.evidence.streams import (
    HEAD_SIZE,
    Opener,
    describe,
    memory_stream,
    open_local,
    read_head,
)


class _Lease:
    """`open` for a file whose bytes belong to the walk's current position."""

    __slots__ = ("_opener", "_path", "_valid")

    def __init__(self, opener: Opener, path: str) -> None:
        self._opener = opener
        self._path = path
        self._valid = True

    def expire(self) -> None:
        self._valid = False

    def __call__(self) -> BinaryIO:
        if not self._valid:
            raise EvidenceExpiredError(
                self._path,
                "the walk has moved past this file; open it while it is the current item, "
                "or detach() it",
            )
        try:
            return self._opener()
        except OSError:
            raise
        except Exception as exc:
            raise EvidenceReadError(self._path, f"{describe(exc)}") from exc


def open_source(
    path: str | os.PathLike[str], limits: EvidenceLimits | None = None
) -> Iterator[EvidenceFile]:
    """Walk a folder, archive, or disk image read-only and yield every file in it.

    Raises `EvidenceSourceError` at once when `path` does not exist or cannot be read;
    everything found inside is yielded, unreadable files with `open=None` and `error`.
    """
    name, real = _check(path)
    return _run(name, real, limits or EvidenceLimits())


def _check(path: str | os.PathLike[str]) -> tuple[str, str]:
    """The source's name (first component of member paths) and its real path.

    A source given through a symlink is read at its target (every open inside refuses to
    follow links) but keeps the name it was given.
    """
    src = os.fspath(path)
    real = os.path.realpath(src)
    try:
        os.stat(real)
    except OSError as exc:
        raise EvidenceSourceError(src, f"{exc.strerror or exc}") from exc
    if not (os.path.isdir(real) or os.path.isfile(real)):
        raise EvidenceSourceError(src, "neither a folder nor a regular file")
    if os.path.isfile(real):
        try:
            with open_local(real):
                pass
        except OSError as exc:
            raise EvidenceSourceError(src, f"{exc.strerror or exc}") from exc
    return display(os.path.basename(os.path.normpath(src))), real


@dataclasses.dataclass(frozen=True, slots=True)
class SourceInfo:
    """What an exhibit is, before walking it: for the exhibit record.

    `kind` is a registered kind name (`folder`, `zip`, `tar`, `gzip`, `7z`, `raw`, `ewf`...)
    or `file` for a single plain file; `name` is the first component of member paths of a
    file source; `acquisition` holds what an imaging tool recorded (E01 `md5`, `sha1`,
    `case_number`, `examiner_name`...), empty for other kinds.
    """

    kind: str
    name: str
    size: int
    acquisition: dict[str, str]
    verifiable: bool = False  # `verify_source` reads it against stored hashes (E01)


def describe_source(path: str | os.PathLike[str]) -> SourceInfo:
    """Recognise a source without walking it; raises `EvidenceSourceError` as `open_source`."""
    name, src = _check(path)
    if os.path.isdir(src):
        return SourceInfo("folder", name, 0, {})
    with open_local(src) as f:
        head = read_head(f, HEAD_SIZE)
    kind = registry.detect(head, name, top_level=True)
    if kind is None:
        return SourceInfo("file", name, os.path.getsize(src), {})
    try:
        acquisition = kind.acquisition(src)
    except Exception:  # unreadable metadata is reported by the walk itself
        acquisition = {}
    verifiable = type(kind).verify is not SourceKind.verify
    return SourceInfo(kind.name, name, os.path.getsize(src), acquisition, verifiable)


def verify_source(path: str | os.PathLike[str]) -> Verification | None:
    """Read a disk image whole against the acquisition hashes it stores (E01: MD5, SHA-1),
    checking every chunk; None for a source that is not an image recording hashes."""
    name, src = _check(path)
    if os.path.isdir(src):
        return None
    with open_local(src) as f:
        head = read_head(f, HEAD_SIZE)
    kind = registry.detect(head, name, top_level=True)
    return kind.verify(src) if kind is not None else None


def _run(name: str, src: str, limits: EvidenceLimits) -> Iterator[EvidenceFile]:
    ctx = WalkContext(limits)
    try:
        for member in _top(name, src, ctx):
            record = member.record
            lease = None
            if record.open is not None and not member.durable:
                lease = _Lease(record.open, record.path)
                record.open = lease
            yield record
            if lease is not None:
                lease.expire()
    finally:
        ctx.close()


def _top(name: str, src: str, ctx: WalkContext) -> Iterator[Member]:
    if os.path.isdir(src):
        blob = Blob("", name, 0, _no_open, seekable=True, local_path=src)
        with _closing(registry.folder_kind().walk(blob, ctx)) as members:
            for member in members:
                yield from _emit(member, ctx, 0)
        return
    st = os.stat(src)
    with open_local(src) as f:
        head = read_head(f, HEAD_SIZE)
    kind = registry.detect(head, name, top_level=True)
    if kind is not None and kind.disk:
        yield from _disk(kind, src, name, st, ctx)
        return
    record = EvidenceFile(
        path=name,
        size=st.st_size,
        open=lambda: open_local(src),
        mtime=utc(st.st_mtime),
        ctime=utc(st.st_ctime),
        atime=utc(st.st_atime),
        local_path=src,
    )
    yield from _emit(Member(record, seekable=True, durable=True, head=lambda: head), ctx, 0)


@contextmanager
def _closing(members: Iterator[Member]) -> Iterator[Iterator[Member]]:
    """Close a kind's generator even when the consumer abandons the walk midway, so
    archive handles and extraction threads end with it."""
    try:
        yield members
    finally:
        close = getattr(members, "close", None)
        if close is not None:
            close()


def _disk(
    kind: SourceKind, src: str, name: str, st: os.stat_result, ctx: WalkContext
) -> Iterator[Member]:
    """A disk image's files. The image is the exhibit, not a file in it, so it gets a record
    of its own only when it cannot be walked (to the end): then the reason is on that record.
    TSK runs in a listing process with a time limit (evidence/isolated.py): a hostile file
    system that makes it loop costs the partition it is in, not the run."""
    blob = Blob(name, name, st.st_size, lambda: open_local(src), True, src)
    error = None
    walk = isolated.walk_disk(kind, blob, ctx) if ctx.limits.isolate_disks else kind.walk(blob, ctx)
    try:
        with _closing(walk) as members:
            for member in members:
                yield from _emit(member, ctx, 0)
    except ContainerError as exc:
        error = str(exc)
    except Exception as exc:  # a damaged image fails inside TSK or libewf
        error = f"{kind.name} image could not be read to the end: {describe(exc)}"
    if error is not None:
        record = EvidenceFile(
            path=name,
            size=st.st_size,
            open=lambda: open_local(src),
            mtime=utc(st.st_mtime),
            local_path=src,
            container=kind.name,
            error=error,
        )
        yield Member(record, seekable=True, durable=True)


def _no_open() -> BinaryIO:
    raise IsADirectoryError("a folder has no bytes of its own")


def _emit(member: Member, ctx: WalkContext, depth: int) -> Iterator[Member]:
    """Yield a member, first expanding it when it is an archive within the depth limit."""
    record = member.record
    if record.open is None or not ctx.limits.expand_archives or record.size == 0:
        yield member
        return
    try:
        head = member.head() if member.head is not None else _read_head(record.open)
    except OSError:
        yield member  # unreadable from the first byte: the consumer records why
        return
    kind = registry.detect(head, record.path.rsplit("/", 1)[-1], top_level=False)
    if kind is None:
        yield member
        return
    record.container = kind.name
    if depth >= ctx.limits.max_depth:
        record.error = (
            f"nested archive depth limit ({ctx.limits.max_depth}) reached: "
            f"{kind.name} contents not expanded (raise it with --max-archive-depth)"
        )
        yield member
        return
    yield from _expand(member, kind, ctx, depth + 1)


def _read_head(opener: Opener) -> bytes:
    with opener() as f:
        raw = getattr(f, "raw", None)
        if isinstance(raw, io.FileIO):
            # A file on disk: its first 512 bytes, not the buffer's whole first MiB (a photo
            # would be read here and again by the hashing or decoding worker; cold, this
            # read blocks the walk).
            return read_head(raw, HEAD_SIZE)
        return read_head(f, HEAD_SIZE)


def _expand(member: Member, kind: SourceKind, ctx: WalkContext, depth: int) -> Iterator[Member]:
    record = member.record
    assert record.open is not None
    name = record.path.rsplit("/", 1)[-1]
    blob = Blob(record.path, name, record.size, record.open, member.seekable, record.local_path)
    scope = ctx.scope()
    try:
        error = None
        try:
            if kind.needs_seek and not blob.seekable:
                blob = ctx.materialize(blob, scope)
                record.open = blob.open  # the container's own bytes, from the copy
            with _closing(kind.walk(blob, ctx)) as members:
                for child in members:
                    yield from _emit(child, ctx, depth)
        except ContainerError as exc:
            error = str(exc)
        except LimitExceededError as exc:
            error = exc.reason
        except EvidenceError as exc:
            error = f"corrupt {kind.name} archive: {exc.reason}"
        except Exception as exc:  # a corrupt archive fails in library-specific ways
            error = f"corrupt {kind.name} archive: {describe(exc)}"
        if error:
            record.error = f"{record.error}; {error}" if record.error else error
        yield member
    finally:
        scope.close()


def detach(record: EvidenceFile, max_bytes: int | None = None) -> EvidenceFile:
    """A copy of `record` whose `open` stays valid after the walk moves on.

    Reads the bytes into memory now (while `record` is current); returns `record` itself
    when it needs no detaching (`local_path` set or unreadable). Raises `EvidenceReadError`
    when the file is larger than `max_bytes`.
    """
    if record.open is None or record.local_path is not None:
        return record
    if max_bytes is not None and record.size > max_bytes:
        raise EvidenceReadError(record.path, f"{record.size:,} bytes exceed {max_bytes:,}")
    with record.open() as f:
        data = f.read() if max_bytes is None else f.read(max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:
        raise EvidenceReadError(record.path, f"more than {max_bytes:,} bytes")
    return dataclasses.replace(record, open=lambda: memory_stream(data))
