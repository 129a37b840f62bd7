"""Disk images listed and read by The Sleuth Kit in a child process with a time limit.

A damaged file system can make libtsk loop forever inside C code (fuzzing found an ext4 image
whose root folder never finishes opening: `fuzz/findings/ext4-open-dir-loop.img.gz`), which
Python cannot interrupt. So a disk kind's whole `walk` (partition table, file systems,
folders) and every read of its files' bytes run in a *listing process* (`isolated_child.py`),
and this side asks it for one thing at a time: the next member, or bytes of the current one.
Each step must be answered within `EvidenceLimits.disk_timeout` seconds (time the consumer
spends between steps never counts); the process's address space is capped at `disk_memory`.

A step that never ends, or a listing process that dies (libtsk crashing on hostile input),
costs only the part of the image it was in: the process is killed, a record names the image,
the partition and the folder or file it was at, and a fresh process carries on with the next
partition. In an image without a partition table the reason goes on the image's own record.
Nested archives found inside the image are still expanded here, by `walk.py`, reading through
the listing process; their limits and temp files stay in this process.

The child is treated as untrusted: it sends JSON and raw bytes, never pickles, and no message
may exceed one read's size.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from multiprocessing.connection import Connection
from typing import Any, BinaryIO

from tantalio.evidence.base import Blob, Member, SourceKind, WalkContext
from tantalio.evidence.errors import ContainerError, EvidenceExpiredError, EvidenceReadError
from tantalio.evidence.names import join
from tantalio.evidence.record import EvidenceFile
from tantalio.evidence.streams import CHUNK, RawReader, buffered

MAX_MESSAGE = CHUNK + 4096  # one read's bytes plus its tag; anything larger is refused
PREFETCH = 128 << 10  # a file's first bytes, sent with its record: most reads need no request
BATCH = 64  # members per answer to `next` ...
BATCH_BYTES = 8 << 20  # ... or fewer, once their first bytes reach this
START_SECONDS = 120.0  # interpreter start and imports, before any evidence is read
JSON, DATA = b"J", b"D"
_DATES = ("mtime", "ctime", "atime", "crtime")


class _Stopped(Exception):
    """The listing process stalled or died; `message` says where, `partition` which one."""

    def __init__(self, message: str, partition: int) -> None:
        super().__init__(message)
        self.message = message
        self.partition = partition


def walk_disk(kind: SourceKind, blob: Blob, ctx: WalkContext) -> Iterator[Member]:
    """`kind.walk(blob, ctx)`, run in listing processes (one, plus one more after each
    partition a stalled or dead process was stopped in). Raises `ContainerError` as the
    kind's own walk would."""
    skip = ctx.skip_partitions
    while True:
        listing = _Listing(kind, blob, ctx, skip)
        try:
            listing.start()
            yield from listing.members()
            return
        except _Stopped as stop:
            if stop.partition == 0:
                raise ContainerError(stop.message) from None
            yield Member(
                EvidenceFile(
                    path=join(blob.path, f"p{stop.partition}"),
                    size=0,
                    open=None,
                    error=stop.message,
                )
            )
            skip = stop.partition
        finally:
            listing.close()


@dataclass(slots=True)
class _Place:
    """Where the listing process last said it was."""

    step: str  # "partition table", "file system", "folder", "after" (a file), "file"
    path: str  # member path
    partition: int
    root: str  # member path of the partition's (or image's) root folder

    def describe(self, image: str) -> str:
        if self.step == "partition table":
            return f"{image}: reading its partition table"
        part = f"partition {self.partition}" if self.partition else "the file system"
        if self.step == "file system":
            return (
                f"{image}: opening {part}"
                if self.partition
                else f"{image}: opening its file system"
            )
        inside = self.path[len(self.root) :].lstrip("/") if self.path.startswith(self.root) else ""
        doing = {"file": "reading file", "after": "listing after file"}.get(
            self.step, "listing folder"
        )
        return f"{image}: {part}, {doing} /{inside}"


class _Listing:
    """One listing process and the conversation with it."""

    def __init__(self, kind: SourceKind, blob: Blob, ctx: WalkContext, skip: int) -> None:
        self.kind = kind
        self.image = blob.path
        self.timeout = ctx.limits.disk_timeout
        self.place = _Place("partition table", blob.path, 0, blob.path)
        self.seq = 0  # the current member
        self.first = 1  # the first member of the current batch: its files are still readable
        self._heads: dict[int, bytes] = {}  # first bytes of the batch's files
        self._places: dict[int, _Place] = {}  # where each file of the batch lies
        self.dead: _Stopped | None = None
        self.closed = False
        self._cache: tuple[int, int, bytes] = (0, 0, b"")  # (member, offset, bytes) last read
        self._lock = threading.Lock()
        ours, theirs = socket.socketpair()
        self._scope = ctx.scope()
        self._stderr, err = ctx.new_spool(self._scope)  # a crash's last words, for its record
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tantalio.evidence.isolated_child", str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                pass_fds=(theirs.fileno(),),
                close_fds=True,
            )
        finally:
            theirs.close()
            err.close()
        self.conn = Connection(ours.detach())
        self._job = {
            "op": "start",
            "kind": kind.name,
            "blob": {"path": blob.path, "name": blob.name, "size": blob.size},
            "local_path": blob.local_path,
            "limits": asdict(ctx.limits),
            "skip": skip,
            "parent": os.getpid(),
            "batch": BATCH,
            "batch_bytes": BATCH_BYTES,
            "prefetch": PREFETCH,
        }

    def start(self) -> None:
        """Hand the listing process its image; wait (generously: an interpreter starting on
        a loaded machine) until it has imported TSK and is ready."""
        self._send(self._job)
        self._expect(self._receive(START_SECONDS, starting=True), "ready")

    # -- the walk ------------------------------------------------------------------------
    def members(self) -> Iterator[Member]:
        """The kind's members, fetched `BATCH` at a time (one request), each with its first
        bytes: the files of a batch stay readable until the next batch is asked for."""
        while True:
            batch, failure, done = self._batch()
            self.first = batch[0][0] if batch else self.seq + 1
            for seq, member, place in batch:
                self.seq, self.place = seq, place
                yield member
            if failure is not None:
                raise failure
            if done:
                return

    def _batch(self) -> tuple[list[tuple[int, Member, _Place]], Exception | None, bool]:
        """(members, the failure that ended the batch or None, whether the walk is over).
        Members that arrived before a stall or an error are kept: they precede it."""
        batch: list[tuple[int, Member, _Place]] = []
        self._heads, self._places = {}, {}
        with self._lock:
            try:
                if self.dead is not None:
                    raise self.dead
                self._send({"op": "next"})
                while True:
                    reply = self._receive(self.timeout)
                    kind = reply.get("t") if isinstance(reply, dict) else None
                    if kind == "batch":
                        return batch, None, False
                    if kind == "end":
                        return batch, None, True
                    if kind == "error" and isinstance(reply, dict):
                        message = str(reply.get("message", ""))
                        if not reply.get("container"):
                            message = (
                                f"{self.kind.name} image could not be read to the end: {message}"
                            )
                        return batch, ContainerError(message), True
                    self._expect(reply, "member")
                    assert isinstance(reply, dict)
                    seq = (batch[-1][0] if batch else self.seq) + 1
                    record = _record(reply.get("record"))
                    self.place = _Place(
                        "after",
                        record.path,
                        int(reply.get("partition", 0)),
                        str(reply.get("root", "")),
                    )
                    if reply.get("openable"):
                        record.open = self._opener(seq, record.path, record.size)
                        head = self._receive(self.timeout)  # its first bytes, sent unasked
                        if not isinstance(head, bytes):
                            raise self._stop("the disk listing process sent no first bytes")
                        self._heads[seq] = head
                    member = Member(record, seekable=bool(reply.get("seekable")))
                    batch.append((seq, member, self.place))
                    self._places[seq] = self.place
            except _Stopped as stop:
                return batch, stop, True

    def _opener(self, seq: int, path: str, size: int) -> Any:
        """Opening costs no request: the listing process opens a file at its first read;
        its first `PREFETCH` bytes came with the record (a consumer reads them twice: to
        recognise archives, then to hash)."""

        def opener() -> BinaryIO:
            self._current(seq, path)
            return buffered(_RemoteStream(self, seq, path, size))

        return opener

    def read_at(self, seq: int, path: str, offset: int, size: int) -> bytes:
        """Up to `size` bytes of a file of the batch from `offset`: from its first bytes or
        the last piece read when they hold them, else asked of the listing process."""
        self._current(seq, path)
        if (place := self._places.get(seq)) is not None:
            self.place = _Place("file", place.path, place.partition, place.root)
        head = self._heads.get(seq, b"")
        if offset < len(head):
            return head[offset : offset + size]
        cached_seq, start, data = self._cache
        if cached_seq == seq and start <= offset < start + len(data):
            return data[offset - start : offset - start + size]
        try:
            data = self.read({"op": "read", "seq": seq, "offset": offset, "size": size})
        except _Stopped as stop:
            raise EvidenceReadError(path, stop.message) from None
        if len(data) > size:
            raise EvidenceReadError(path, "the disk listing process sent more than was asked")
        self._cache = (seq, offset, data)
        return data

    def _current(self, seq: int, path: str) -> None:
        if self.closed:
            raise EvidenceExpiredError(path, "the walk of its disk image is over")
        if not self.first <= seq <= self.seq:
            raise EvidenceExpiredError(path, "the walk has moved past this file")

    # -- the conversation ----------------------------------------------------------------
    def read(self, request: dict[str, Any]) -> bytes:
        with self._lock:
            if self.dead is not None:
                raise self.dead
            self._send(request)
            reply = self._receive(self.timeout)
        if isinstance(reply, bytes):
            return reply
        if reply.get("t") == "oserror":
            raise EvidenceReadError(str(reply.get("message", "")))
        raise self._stop(f"the disk listing process answered a read with {reply.get('t')!r}")

    def _send(self, request: dict[str, Any]) -> None:
        try:
            self.conn.send_bytes(json.dumps(request).encode())
        except OSError:
            raise self._died() from None

    def _receive(self, timeout: float, starting: bool = False) -> dict[str, Any] | bytes:
        """The next answer; the listing process's notes of where it is are taken on the way
        (each one restarts the clock: progress is not a stall)."""
        while True:
            try:
                ready = self.conn.poll(timeout)
                message = self.conn.recv_bytes(MAX_MESSAGE) if ready else None
            except (EOFError, OSError):
                raise self._died() from None
            if message is None:
                if starting:
                    raise self._stop(f"the disk listing process did not start within {timeout:g} s")
                raise self._stop(
                    f"libtsk gave no answer within {self.timeout:g} s, so its listing process "
                    "was stopped (a damaged or hostile file system can make it loop; on slow "
                    "storage, raise --disk-timeout)"
                )
            if message[:1] == DATA:
                return message[1:]
            try:
                reply = json.loads(message[1:]) if message[:1] == JSON else None
            except ValueError:
                reply = None
            if not isinstance(reply, dict):
                raise self._stop("the disk listing process sent a malformed message")
            if reply.get("t") != "at":
                return reply
            step = reply.get("step")
            self.place = _Place(
                step if step in ("partition table", "file system") else "folder",
                str(reply.get("where", "")),
                int(reply.get("partition", 0)),
                str(reply.get("root", "")),
            )

    def _expect(self, reply: dict[str, Any] | bytes, kind: str) -> None:
        if isinstance(reply, bytes) or reply.get("t") != kind:
            got = "bytes" if isinstance(reply, bytes) else reply.get("t")
            raise self._stop(f"the disk listing process answered {got!r} where {kind!r} was due")

    def _stop(self, why: str) -> _Stopped:
        """Kill the listing process and say where it was, for the image's record."""
        self._kill()
        rest = (
            f"the rest of partition {self.place.partition} is not listed; other partitions are"
            if self.place.partition
            else "the rest of the image is not listed"
        )
        self.dead = _Stopped(
            f"{self.place.describe(self.image)}: {why}; {rest}", self.place.partition
        )
        return self.dead

    def _died(self) -> _Stopped:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)
        code = self.proc.returncode
        if code is None or code == 0:
            detail = "closed its end"
        elif code < 0:
            detail = _signal_name(-code)
        else:
            detail = f"exit status {code}{_last_line(self._stderr)}"
        return self._stop(f"the disk listing process ended unexpectedly ({detail})")

    def _kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(10)

    def close(self) -> None:
        self.closed = True
        if self.dead is None and self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.conn.send_bytes(json.dumps({"op": "quit"}).encode())
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(5)
        self._kill()
        self.conn.close()
        self._scope.close()


class _RemoteStream(RawReader):
    """A file of the current member, read through the listing process."""

    def __init__(self, listing: _Listing, seq: int, label: str, size: int) -> None:
        super().__init__()
        self._listing = listing
        self._seq = seq
        self._size = size
        self._pos = 0
        self.label = label

    def _read(self, size: int) -> bytes:
        size = min(size, CHUNK, self._size - self._pos)
        if size <= 0:
            return b""
        data = self._listing.read_at(self._seq, self.label, self._pos, size)
        self._pos += len(data)
        return data

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos


def encode_record(record: EvidenceFile) -> dict[str, Any]:
    """An `EvidenceFile` as JSON (without `open`): what the listing process sends."""
    out: dict[str, Any] = {}
    for f in fields(EvidenceFile):
        value = getattr(record, f.name)
        if f.name == "open":
            continue
        out[f.name] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _record(data: Any) -> EvidenceFile:
    """The listing process's record, checked field by field (it read hostile input)."""
    if not isinstance(data, dict) or not isinstance(data.get("path"), str):
        raise ContainerError("the disk listing process sent a malformed record")
    size = data.get("size")
    record = EvidenceFile(path=data["path"], size=size if isinstance(size, int) else 0, open=None)
    for name in _DATES:
        value = data.get(name)
        if isinstance(value, str):
            with contextlib.suppress(ValueError):
                setattr(record, name, datetime.fromisoformat(value))
    record.deleted = bool(data.get("deleted"))
    for name in ("error", "container"):
        value = data.get(name)
        setattr(record, name, value if isinstance(value, str) else None)
    return record


def _last_line(path: str) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, os.path.getsize(path) - 2048))
            lines = f.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    return f": {lines[-1][:300]}" if lines else ""


def _signal_name(number: int) -> str:
    try:
        return f"killed by {signal.Signals(number).name}"
    except ValueError:
        return f"killed by signal {number}"
