"""7z archives via py7zr, one member at a time.

py7zr pushes decompressed bytes into writer objects instead of letting us pull a stream, and
a solid archive can only be decompressed front to back. So extraction runs in one helper
thread that writes each member into memory (or, above `buffer_size`, a spool file in the
private temp area) and then waits until the walk has moved past that member: at most one
member's bytes are held at a time, and nothing is written anywhere else (no path is given
to py7zr, so it creates no directories).

Encrypted content (7zAES coder, per folder) and encrypted names (the whole header) are
reported without any password attempt. Bomb checks use each folder's packed and unpacked
sizes: in a solid folder the members cannot be separated, so the folder is judged as a whole.
"""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

import py7zr
import py7zr.exceptions
import py7zr.helpers
import py7zr.io

from tantalio.evidence.base import Blob, Member, Scope, SourceKind, WalkContext, utc
from tantalio.evidence.errors import ContainerError, LimitExceededError
from tantalio.evidence.names import UniqueNames, join, member_path
from tantalio.evidence.record import EvidenceFile
from tantalio.evidence.streams import describe, memory_stream, open_local

_AES = b"\x06\xf1\x07\x01"


class SevenZipKind(SourceKind):
    name = "7z"
    magic = ((0, b"7z\xbc\xaf\x27\x1c"),)
    suffixes = (".7z",)
    needs_seek = True

    def walk(self, blob: Blob, ctx: WalkContext) -> Iterator[Member]:
        with blob.open() as f:
            raw = getattr(f, "raw", None)
            if isinstance(raw, io.FileIO) and not isinstance(raw.name, str):
                # py7zr names a member stored without a name (`7z a -si`) after the archive
                # file, taking `name` for a path; a stream opened from a descriptor has an int
                raw.name = blob.name
            try:
                archive = py7zr.SevenZipFile(f, mode="r")
            except py7zr.exceptions.PasswordRequired:
                raise ContainerError(
                    "encrypted 7z archive: file names are encrypted too (password required); "
                    "not expanded"
                ) from None
            with archive:
                yield from self._members(archive, blob, ctx)

    def _members(
        self, archive: py7zr.SevenZipFile, blob: Blob, ctx: WalkContext
    ) -> Iterator[Member]:
        files = [f for f in archive.files if not f.is_directory]
        if len(files) > ctx.limits.max_members:
            raise ContainerError(
                f"7z lists {len(files):,} members, above the member-count limit "
                f"{ctx.limits.max_members:,}; not expanded"
            )
        folder_error = _folder_errors(files, ctx)
        names = UniqueNames()
        wanted: dict[str, list[EvidenceFile]] = {}
        targets: list[str] = []
        seen_outnames: dict[str, int] = {}
        for f in files:
            rel = member_path(f.filename)
            _extractable_name(f, rel)
            path = names.add(join(blob.path, rel))
            when = f.lastwritetime
            record = EvidenceFile(
                path=path,
                size=f.uncompressed or 0,
                open=None,
                mtime=utc(when.totimestamp()) if when is not None else None,
                crtime=_time(f, "creationtime"),
                atime=_time(f, "lastaccesstime"),
            )
            if f.is_symlink or f.is_junction:
                record.error = "symbolic link; not followed"
            elif f.folder is not None and any(c["method"] == _AES for c in f.folder.coders):
                record.error = "encrypted member (password required); not opened"
            elif (f.is_socket or not f.is_file) and (f.emptystream or not record.size):
                # `7z a -si` from a pipe records the pipe's mode (a FIFO) on a member that
                # holds data: bytes are read whatever the mode says; a special file without
                # data is listed only
                record.error = "not a regular file; not opened"
            else:
                record.error = folder_error.get(id(f.folder)) or ctx.member_error(record.size, None)
            if record.error is not None:
                yield Member(record)
                continue
            key = _output_key(f.filename, seen_outnames)
            wanted.setdefault(key, []).append(record)
            targets.append(f.filename)
        if targets:
            yield from _extract(archive, sorted(set(targets)), wanted, ctx)


def _extractable_name(f: Any, safe: str) -> None:
    """py7zr refuses to extract a member whose name escapes (`../x`, `/x`) even into a writer
    factory, where nothing touches the disk; such a member is renamed to its safe path in
    the archive's in-memory listing (the file info dict py7zr extracts from), so its bytes
    are read and hashed like any other's (issue 14)."""
    try:
        py7zr.helpers.get_sanitized_output_path(f.filename, None)
    except py7zr.exceptions.Bad7zFile:
        f._file_info["filename"] = safe


def _time(f: Any, key: str) -> datetime | None:
    value = f.file_properties().get(key)
    return utc(value.totimestamp()) if value is not None else None


def _folder_errors(files: list[Any], ctx: WalkContext) -> dict[int, str]:
    """Ratio check per folder (a solid block): packed size vs all its members' sizes."""
    packed: dict[int, int] = {}
    unpacked: dict[int, int] = {}
    for f in files:
        if f.folder is None:
            continue
        key = id(f.folder)
        packed[key] = packed.get(key, 0) + (f.compressed or 0)
        unpacked[key] = unpacked.get(key, 0) + (f.uncompressed or 0)
    errors = {}
    for key, size in unpacked.items():
        reason = ctx.limits.ratio_error(size, packed[key] or None)
        if reason:
            errors[key] = f"{reason}; not expanded"
    return errors


def _output_key(filename: str, seen: dict[str, int]) -> str:
    """The name py7zr hands to a writer factory for this member (it suffixes duplicates)."""
    if filename not in seen:
        seen[filename] = 0
        outname = filename
    else:
        outname = f"{filename}_{seen[filename]}"
        seen[filename] += 1
    return py7zr.helpers.get_sanitized_output_path(outname, None).as_posix()


class _Aborted(Exception):
    """The walk was closed early: stop the extraction thread."""


@dataclass
class _Writer:
    """One member's bytes as py7zr writes them: memory, then a spool file when large."""

    key: str
    ctx: WalkContext
    scope: Scope
    limit: int
    buf: io.BytesIO | None = field(default_factory=io.BytesIO)
    spool_path: str | None = None
    spool: BinaryIO | None = None
    written: int = 0

    def write(self, data: bytes | bytearray) -> int:
        self.written += len(data)
        if self.written > self.limit:
            raise LimitExceededError(f"member grew past its recorded size {self.limit:,} bytes")
        if self.buf is not None and self.buf.tell() + len(data) > self.ctx.limits.buffer_size:
            self.spool_path, self.spool = self.ctx.new_spool(self.scope)
            self.spool.write(self.buf.getbuffer())
            self.buf = None
        target = self.buf if self.buf is not None else self.spool
        assert target is not None
        target.write(data)
        return len(data)

    def read(self, size: int | None = None) -> bytes:
        return b""

    def seek(self, offset: int, whence: int = 0) -> int:
        return 0  # py7zr rewinds before close; the bytes are read back through opener()

    def flush(self) -> None:
        pass

    def size(self) -> int:
        return self.written

    def close(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None

    def opener(self) -> Any:
        if self.buf is not None:
            data = self.buf.getvalue()
            return lambda: memory_stream(data)
        path = self.spool_path
        assert path is not None
        return lambda: open_local(path)


class _Factory(py7zr.io.WriterFactory):
    """Hands each finished member to the walk and waits until the walk is done with it."""

    def __init__(self, ctx: WalkContext, sizes: dict[str, int]) -> None:
        self.ctx = ctx
        self.sizes = sizes
        self.items: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.released = threading.Event()
        self.abort = threading.Event()
        self.pending: _Writer | None = None
        self.scope: Scope | None = None

    def create(self, filename: str) -> py7zr.io.Py7zIO:
        self.hand_off()
        self.scope = self.ctx.scope()
        self.pending = _Writer(filename, self.ctx, self.scope, self.sizes.get(filename, 0))
        return self.pending  # type: ignore[return-value]

    def hand_off(self) -> None:
        """Give the previous member (its CRC now checked) to the walk; wait for release."""
        if self.pending is None:
            return
        writer, self.pending = self.pending, None
        self.released.clear()
        self.items.put(("file", writer))
        while not self.released.wait(0.5):
            if self.abort.is_set():
                break
        assert self.scope is not None
        self.scope.close()
        if self.abort.is_set():
            raise _Aborted()


def _extract(
    archive: py7zr.SevenZipFile,
    targets: list[str],
    wanted: dict[str, list[EvidenceFile]],
    ctx: WalkContext,
) -> Iterator[Member]:
    sizes = {key: records[0].size for key, records in wanted.items()}
    factory = _Factory(ctx, sizes)

    def run() -> None:
        try:
            archive.extract(targets=targets, factory=factory)
            factory.hand_off()
            factory.items.put(("done", None))
        except _Aborted:
            factory.items.put(("done", None))
        except BaseException as exc:  # reported on the member being written and the archive
            factory.items.put(("error", exc))

    thread = threading.Thread(target=run, name="tantalio-7z", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = factory.items.get()
            if kind == "done":
                break
            if kind == "error":
                pending = factory.pending
                if pending is not None and wanted.get(pending.key):
                    record = wanted[pending.key].pop(0)
                    record.error = f"cannot extract: {describe(value)}"
                    yield Member(record)
                raise value
            writer: _Writer = value
            records = wanted.get(writer.key)
            if not records:
                factory.released.set()
                continue
            record = records.pop(0)
            if writer.written != record.size:
                record.error = (
                    f"extracted {writer.written:,} bytes, the archive records {record.size:,}"
                )
            else:
                record.open = writer.opener()
            yield Member(record, seekable=True)
            factory.released.set()
        for records in wanted.values():  # members py7zr never delivered
            for record in records:
                record.error = "not found in the archive's data; not extracted"
                yield Member(record)
    finally:
        factory.abort.set()
        factory.released.set()
        thread.join(timeout=30)
        if factory.scope is not None:
            factory.scope.close()
