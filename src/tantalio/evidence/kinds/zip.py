"""Zip archives (also .docx, .apk, .jar...: anything a zip by its bytes), via `zipfile`.

Members are streamed from the archive (never extracted). The checks before a member is
offered: unsafe name, symlink, encryption (flag bit 0, APPNOTE 4.4.4; AES is method 99),
unsupported method, then size, ratio and total budget from the central directory's sizes —
which `zipfile` enforces while reading, so a lying header cannot inflate a member.
"""

from __future__ import annotations

import stat
import struct
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime

from tantalio.evidence.base import Blob, Member, SourceKind, WalkContext, utc
from tantalio.evidence.errors import ContainerError
from tantalio.evidence.names import UniqueNames, display, join, member_path
from tantalio.evidence.record import EvidenceFile
from tantalio.evidence.streams import guarded

_SUPPORTED = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_METHODS = {9: "deflate64", 98: "PPMd", 93: "zstandard", 95: "xz", 97: "WavPack", 96: "JPEG"}
_AES = 99
_UNIX = 3


class ZipKind(SourceKind):
    name = "zip"
    magic = ((0, b"PK\x03\x04"), (0, b"PK\x05\x06"), (0, b"PK\x07\x08"))
    suffixes = (".zip",)
    needs_seek = True

    def walk(self, blob: Blob, ctx: WalkContext) -> Iterator[Member]:
        with blob.open() as f, zipfile.ZipFile(f) as zf:
            infos = zf.infolist()
            names = UniqueNames()
            limit = ctx.limits.max_members
            for info in infos[:limit]:
                if info.is_dir():
                    continue
                yield self._member(zf, info, blob, ctx, names)
            if len(infos) > limit:
                raise ContainerError(
                    f"zip lists {len(infos):,} members; only the first {limit:,} were listed "
                    "(member-count limit)"
                )

    def _member(
        self,
        zf: zipfile.ZipFile,
        info: zipfile.ZipInfo,
        blob: Blob,
        ctx: WalkContext,
        names: UniqueNames,
    ) -> Member:
        rel = member_path(info.filename)
        path = names.add(join(blob.path, rel))
        record = EvidenceFile(path=path, size=info.file_size, open=None, mtime=_mtime(info))
        encrypted = bool(info.flag_bits & 0x1) or info.compress_type == _AES
        mode = info.external_attr >> 16
        if info.create_system == _UNIX and stat.S_ISLNK(mode):
            target = "?" if encrypted else _link_target(zf, info)
            record.error = f"symbolic link to {target!r}; not followed"
        elif encrypted:
            record.error = "encrypted member (password required); not opened"
        elif info.compress_type not in _SUPPORTED:
            method = _METHODS.get(info.compress_type, "unknown")
            record.error = f"unsupported compression method {info.compress_type} ({method})"
        else:
            record.error = ctx.member_error(info.file_size, info.compress_size)
        if record.error is None:
            record.open = lambda: guarded(zf.open(info), path)
        return Member(record)


def _link_target(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> str:
    """A symlink member's bytes are its target; read at most a path's worth of them."""
    if info.file_size > 4096:
        return "?"
    try:
        with zf.open(info) as f:
            return display(f.read(4096))
    except Exception:
        return "?"


def _mtime(info: zipfile.ZipInfo) -> datetime | None:
    """UTC mtime from the extended-timestamp field (0x5455) when present; else the DOS time,
    which records no zone and is taken as UTC (docs/decisions/evidence.md)."""
    extra = info.extra
    pos = 0
    while pos + 4 <= len(extra):
        tag, size = struct.unpack_from("<HH", extra, pos)
        body = extra[pos + 4 : pos + 4 + size]
        if tag == 0x5455 and len(body) >= 5 and body[0] & 1:
            return utc(struct.unpack_from("<i", body, 1)[0])
        pos += 4 + size
    try:
        return datetime(*info.date_time, tzinfo=UTC)
    except ValueError:
        return None
