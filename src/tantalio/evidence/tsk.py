"""Files of a disk image through The Sleuth Kit (pytsk3): partitions, file systems, deleted
files. Shared by the raw (dd) and E01 kinds, which differ only in how bytes reach TSK.

Paths: `disk.dd/p1/DCIM/a.jpg` for the first allocated partition of a partitioned image, and
`fat.img/DCIM/a.jpg` for an image that is one file system without a partition table.
Deleted files (name or metadata unallocated) are listed with `deleted=True`; TSK reads what
their metadata still points at, and a file whose metadata or data is gone gets an `error`.
TSK's virtual entries ($MBR, $FAT1...) are file-system structures, not files, and are skipped;
`$OrphanFiles` (deleted files no folder names any more) is walked.

NTFS (docs/decisions/evidence.md): the metadata files (MFT entries 0-23: `$MFT`, `$LogFile`,
`$Bitmap`... and the whole `$Extend` folder) are skipped like the virtual entries above.
Alternate data streams (named `$DATA` attributes) are files of their own, listed right after
the file or folder that carries them as `name:stream` (`notes.txt:Zone.Identifier`): a
picture can hide in one. A deleted name whose MFT entry was freed (which moves the entry's
sequence number on by one, so TSK no longer pairs them) is paired with that entry again
when the entry is still free and exactly one sequence number on: its size and content are
then read like any deleted file's.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytsk3

from tantalio.evidence.base import Blob, Member, WalkContext, utc
from tantalio.evidence.errors import ContainerError
from tantalio.evidence.names import UniqueNames, display, join
from tantalio.evidence.record import EvidenceFile
from tantalio.evidence.streams import RawReader, buffered, describe

_NAME_UNALLOC = int(pytsk3.TSK_FS_NAME_FLAG_UNALLOC)
_META_UNALLOC = int(pytsk3.TSK_FS_META_FLAG_UNALLOC)
_PART_ALLOC = int(pytsk3.TSK_VS_PART_FLAG_ALLOC)
_REG = int(pytsk3.TSK_FS_META_TYPE_REG)
_DIRS = {int(pytsk3.TSK_FS_META_TYPE_DIR), int(pytsk3.TSK_FS_META_TYPE_VIRT_DIR)}
_VIRT = int(pytsk3.TSK_FS_META_TYPE_VIRT)
_LNK = int(pytsk3.TSK_FS_META_TYPE_LNK)
_NAME_DIR = int(pytsk3.TSK_FS_NAME_TYPE_DIR)
_NAME_REG = int(pytsk3.TSK_FS_NAME_TYPE_REG)
_NTFS = int(pytsk3.TSK_FS_TYPE_NTFS_DETECT)
_NTFS_DATA = int(pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA)
_RUN_SKIP = int(pytsk3.TSK_FS_ATTR_RUN_FLAG_SPARSE) | int(pytsk3.TSK_FS_ATTR_RUN_FLAG_FILLER)
_NONRES = int(pytsk3.TSK_FS_ATTR_NONRES)
_NTFS_FIRST_USER_ENTRY = 24  # 0-15 metadata files, 16-23 reserved (never a user's file)
_PROBE = 4096


class TskStream(RawReader):
    """A file in a file system, read through TSK: seekable, read-only."""

    def __init__(self, file: Any, size: int, label: str, stream: tuple[int, int] | None = None):
        super().__init__()
        self._file = file
        self._size = size
        self._pos = 0
        self._stream = stream  # (attribute type, id) of an NTFS alternate data stream
        self.label = label

    def _read(self, size: int) -> bytes:
        size = min(size, self._size - self._pos)
        if size <= 0:
            return b""
        data = self._file.read_random(self._pos, size, *(self._stream or ()))
        self._pos += len(data)
        return bytes(data)

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos


class DataCheck:
    """Where a file's data lies in the image, checked before the file is read: an image that
    knows its damaged ranges (E01 chunks, evidence/ewf1.py) has `check(start, end)`, which
    gives the reason bytes there cannot be trusted. TSK reads a damaged range as zeros (so
    the file systems around it are still listed); a file with data there must not be hashed
    as if whole. Resident data (small NTFS files inside their MFT entry) has no run: it is
    as sound as the entry TSK parsed it from."""

    def __init__(self, check: Any, fs: Any, offset: int) -> None:
        self.check = check
        self.offset = offset
        self.block = int(fs.info.block_size)
        self.ntfs = bool(int(fs.info.ftype) & _NTFS)

    def problem(self, f: Any, size: int, stream: tuple[int, int] | None) -> str | None:
        try:
            attrs = [a for a in f if self._wanted(a, stream)]
            for attr in attrs:
                for run in attr:
                    if int(run.flags) & _RUN_SKIP:
                        continue
                    first = int(run.offset) * self.block
                    if first >= size:
                        continue
                    length = min(int(run.len) * self.block, size - first)
                    media = self.offset + int(run.addr) * self.block
                    reason = self.check(media, media + length)
                    if reason:
                        return f"file bytes {first:,}-{first + length - 1:,} lie in {reason}"
        except OSError as exc:
            return f"where its data lies could not be read ({describe(exc)})"
        return None

    def _wanted(self, attr: Any, stream: tuple[int, int] | None) -> bool:
        info = attr.info
        if not int(info.flags) & _NONRES:
            return False
        if stream is not None:
            return (int(info.type), int(info.id)) == stream
        if self.ntfs:
            return int(info.type) == _NTFS_DATA and not info.name
        return True


def walk_image(img: Any, blob: Blob, ctx: WalkContext) -> Iterator[Member]:
    """Every file of every recognised file system in the image. Before each call into TSK
    that may not return on a hostile image (reading the partition table, opening a file
    system, listing a folder) the walk says where it is (`ctx.at`); partitions numbered up
    to `ctx.skip_partitions` are passed over (a listing process stopped in one of them)."""
    check = getattr(img, "check", None)
    ctx.at(blob.path, 0, blob.path, "partition table")
    try:
        volume = pytsk3.Volume_Info(img)
    except OSError:
        volume = None
    if volume is None:
        ctx.at(blob.path, 0, blob.path, "file system")
        try:
            fs = pytsk3.FS_Info(img, offset=0)
        except OSError as exc:
            raise ContainerError(
                f"no partition table or file system recognised ({describe(exc)})"
            ) from None
        yield from walk_fs(fs, blob.path, DataCheck(check, fs, 0) if check else None, ctx, 0)
        return
    block = volume.info.block_size
    number = 0
    for part in volume:
        if not int(part.flags) & _PART_ALLOC:
            continue
        number += 1
        if number <= ctx.skip_partitions:
            continue
        prefix = join(blob.path, f"p{number}")
        ctx.at(prefix, number, prefix, "file system")
        try:
            fs = pytsk3.FS_Info(img, offset=part.start * block)
        except OSError:
            desc = display(part.desc)
            yield Member(
                EvidenceFile(
                    path=prefix,
                    size=part.len * block,
                    open=None,
                    error=f"partition {number} ({desc}): no file system recognised; not walked",
                )
            )
            continue
        offset = part.start * block
        yield from walk_fs(fs, prefix, DataCheck(check, fs, offset) if check else None, ctx, number)


@dataclass(slots=True)
class _FsWalk:
    """One file system's walk: `ntfs` is the file system when it is NTFS (metadata files,
    streams, freed entries); `data` checks where a file's data lies before it is read
    (damaged E01 chunks); `visited` holds the folders listed (a damaged file system can
    name one twice); `at` says which folder TSK is about to list."""

    ntfs: Any
    data: DataCheck | None
    visited: set[int]
    at: Callable[[str], None]


def walk_fs(
    fs: Any,
    prefix: str,
    data: DataCheck | None = None,
    ctx: WalkContext | None = None,
    partition: int = 0,
) -> Iterator[Member]:
    def at(where: str) -> None:
        if ctx is not None:
            ctx.at(where, partition, prefix)

    at(prefix)
    root = fs.open_dir(path="/")
    ntfs = fs if int(fs.info.ftype) & _NTFS else None
    yield from _walk_dir(root, prefix, False, _FsWalk(ntfs, data, {fs.info.root_inum}, at))


def _walk_dir(directory: Any, prefix: str, in_deleted: bool, walk: _FsWalk) -> Iterator[Member]:
    ntfs, data = walk.ntfs, walk.data
    entries = []
    try:
        for f in directory:
            name = f.info.name.name
            if name not in (b".", b".."):
                entries.append((name, f))
    except OSError as exc:  # a damaged folder: list what was read, say why the rest is not
        yield Member(
            EvidenceFile(
                path=prefix,
                size=0,
                open=None,
                deleted=in_deleted,
                error=f"folder could not be read to the end: {describe(exc)}",
            )
        )
    entries.sort(key=lambda item: item[0])
    names = UniqueNames()
    for raw_name, f in entries:
        info = f.info
        meta = info.meta
        if ntfs is not None:
            if (meta.addr if meta is not None else info.name.meta_addr) < _NTFS_FIRST_USER_ENTRY:
                continue  # $MFT, $LogFile, $Extend...: file-system structures
            if meta is None and (freed := _freed_entry(ntfs, info.name)) is not None:
                f, meta = freed, freed.info.meta
        path = names.add(join(prefix, display(raw_name)))
        deleted = in_deleted or bool(int(info.name.flags) & _NAME_UNALLOC)
        if meta is not None and int(meta.flags) & _META_UNALLOC:
            deleted = True
        kind = int(meta.type) if meta is not None else _from_name_type(int(info.name.type))
        if kind == _VIRT or _is_volume_label(raw_name, meta):
            continue
        if kind in _DIRS:
            addr = meta.addr if meta is not None else None
            if addr is None or addr in walk.visited:
                continue
            walk.visited.add(addr)
            if ntfs is not None:
                yield from _streams(f, meta, path, deleted, names, data)
            walk.at(path)
            try:
                sub = f.as_directory()
            except OSError:
                continue  # a deleted folder whose entries are gone: nothing to list
            yield from _walk_dir(sub, path, deleted, walk)
            continue
        member = _file(f, meta, path, deleted, kind, data)
        yield member
        if ntfs is not None and meta is not None and kind == _REG:
            yield from _streams(f, meta, path, deleted, names, data)


def _freed_entry(fs: Any, name: Any) -> Any | None:
    """The MFT entry a deleted NTFS name pointed at, when freeing it is the only change since:
    the entry is unallocated and its sequence number is the name's plus one (NTFS moves it on
    when the entry is freed, skipping 0). Any other number means the entry was used again."""
    if not int(name.flags) & _NAME_UNALLOC or not name.meta_addr:
        return None
    try:
        f = fs.open_meta(inode=name.meta_addr)
    except OSError:
        return None
    meta = f.info.meta
    following = int(name.meta_seq) % 0xFFFF + 1
    if meta is None or not int(meta.flags) & _META_UNALLOC or int(meta.seq) != following:
        return None
    if (int(meta.type) in _DIRS) != (int(name.type) == _NAME_DIR):
        return None
    return f


def _streams(
    f: Any, meta: Any, path: str, deleted: bool, names: UniqueNames, data: DataCheck | None
) -> Iterator[Member]:
    """An NTFS file's or folder's alternate data streams (named `$DATA` attributes), each as a
    file `path:name`, in attribute order."""
    try:
        attrs = [
            (a.info.name, int(a.info.id), max(int(a.info.size), 0))
            for a in f
            if int(a.info.type) == _NTFS_DATA and a.info.name
        ]
    except OSError:
        return
    for stream_name, attr_id, size in attrs:
        record = EvidenceFile(
            path=names.add(f"{path}:{display(stream_name)}"),
            size=size,
            open=None,
            deleted=deleted,
            mtime=utc(meta.mtime),
            atime=utc(meta.atime),
            ctime=utc(meta.ctime),
            crtime=utc(meta.crtime),
        )
        yield _readable(record, f, (_NTFS_DATA, attr_id), data)


def _is_volume_label(name: bytes, meta: Any) -> bool:
    """TSK lists a FAT volume label as an empty regular file named `LABEL (Volume Label
    Entry)`; it is a file-system field, not a file."""
    return name.endswith(b"(Volume Label Entry)") and (meta is None or int(meta.size) == 0)


def _from_name_type(name_type: int) -> int:
    if name_type == _NAME_DIR:
        return next(iter(_DIRS))
    return _REG if name_type == _NAME_REG else -1


def _file(f: Any, meta: Any, path: str, deleted: bool, kind: int, data: DataCheck | None) -> Member:
    record = EvidenceFile(path=path, size=0, open=None, deleted=deleted)
    if meta is None:
        record.error = "deleted file: no metadata left, content not recoverable"
        return Member(record)
    record.size = max(int(meta.size), 0)
    record.mtime = utc(meta.mtime)
    record.atime = utc(meta.atime)
    record.ctime = utc(meta.ctime)
    record.crtime = utc(meta.crtime)
    if kind == _LNK:
        record.error = "symbolic link; not followed"
        return Member(record)
    if kind != _REG:
        record.error = "not a regular file; not opened"
        return Member(record)
    return _readable(record, f, None, data)


def _readable(
    record: EvidenceFile, f: Any, stream: tuple[int, int] | None, data: DataCheck | None
) -> Member:
    """Give `record` its `open` (the file's data, or one of its NTFS streams); a deleted file
    whose first bytes cannot be read any more, or a file with data in a damaged part of the
    image, gets an error instead."""
    size, path = record.size, record.path
    if data is not None and size and (problem := data.problem(f, size, stream)):
        record.error = f"unreadable: {problem}; not hashed"
        return Member(record)
    if record.deleted and size:
        try:
            data = f.read_random(0, min(size, _PROBE), *(stream or ()))
            if not data:
                raise OSError("no data")
        except OSError as exc:
            record.error = f"deleted file: content not recoverable ({describe(exc)})"
            return Member(record)

    def opener() -> Any:
        return buffered(TskStream(f, size, path, stream))

    record.open = opener
    return Member(record, seekable=True)
