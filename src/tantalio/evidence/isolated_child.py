"""The disk listing process: runs one disk kind's walk and reads its files for the parent.

    python -m tantalio.evidence.isolated_child FD

Started by `evidence/isolated.py`, which explains why. It answers requests on the socket `FD`
one at a time: `start` (the image and limits), `next` (the next batch of members, each
followed by its first bytes; the previous batch's files are closed), `read` (bytes of a
file of the batch at an offset), `quit`. Before each TSK step that may not return it sends
a note of where it is. It caps its own address space, never outlives the parent, and sends
only JSON and raw bytes.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import signal
import sys
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any, BinaryIO

from tantalio.evidence import registry
from tantalio.evidence.base import Blob, Member, WalkContext
from tantalio.evidence.errors import ContainerError
from tantalio.evidence.isolated import DATA, JSON, encode_record
from tantalio.evidence.limits import EvidenceLimits
from tantalio.evidence.streams import CHUNK, describe, open_local

_PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> int:
    conn = Connection(int(argv[0]))
    job = json.loads(conn.recv_bytes())
    _die_with(int(job["parent"]))
    _cap(job["limits"].get("disk_memory"))
    server = _Server(conn, job)
    server.send({"t": "ready"})
    server.serve()
    return 0


class _Server:
    def __init__(self, conn: Connection, job: dict[str, Any]) -> None:
        self.conn = conn
        self.ctx = _NotingContext(EvidenceLimits(**job["limits"]), self)
        self.ctx.skip_partitions = int(job["skip"])
        local = job["local_path"]
        blob = Blob(**job["blob"], open=lambda: open_local(local), seekable=True, local_path=local)
        self.partition = 0
        self.root = blob.path
        try:
            self.members: Iterator[Member] = registry.by_name(job["kind"]).walk(blob, self.ctx)
        except Exception as exc:  # noqa: BLE001 - reported at the first `next`
            self.members = _failing(exc)
        # the members of the batch last sent, by number, and their files opened at first read
        self.held: dict[int, Member] = {}
        self.streams: dict[int, BinaryIO] = {}
        self.seq = 0
        self.sent = 0  # first bytes sent in this batch
        self.over = False
        self.batch, self.batch_bytes = int(job["batch"]), int(job["batch_bytes"])
        self.prefetch = int(job["prefetch"])

    def send(self, message: dict[str, Any]) -> None:
        self.conn.send_bytes(JSON + json.dumps(message).encode())

    def serve(self) -> None:
        try:
            while True:
                try:
                    request = json.loads(self.conn.recv_bytes())
                except EOFError:
                    return
                op = request.get("op")
                if op == "quit":
                    return
                handler = getattr(self, f"_op_{op}", None)
                if handler is None:
                    self.send({"t": "oserror", "message": f"unknown request {op!r}"})
                    continue
                handler(request)
        finally:
            self._release()
            close = getattr(self.members, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()
            self.ctx.close()

    def _op_next(self, _request: dict[str, Any]) -> None:
        """The next batch: up to `batch` members, each followed by its first bytes, then
        `batch` (more to come), `end` or `error`. The previous batch's files are released."""
        self._release()
        while not self.over and len(self.held) < self.batch and self.sent < self.batch_bytes:
            self.sent += self._one()
        if not self.over:
            self.send({"t": "batch"})

    def boundary(self) -> None:
        """The walk is about to list a folder or open a partition (a step that may never
        return): end the batch here and wait, serving reads, for the parent's next `next`,
        so a stall costs only what lies beyond this point, never the bytes of files the
        parent holds."""
        if not self.held:
            return
        self.send({"t": "batch"})
        while True:
            try:
                request = json.loads(self.conn.recv_bytes())
            except EOFError:
                raise SystemExit(0) from None  # the parent is gone
            op = request.get("op")
            if op == "next":
                self._release()
                return
            if op == "read":
                self._op_read(request)
            elif op == "quit":
                raise SystemExit(0)
            else:
                self.send({"t": "oserror", "message": f"unknown request {op!r}"})

    def _one(self) -> int:
        """Send the next member (or the end, or the error); the bytes sent with it."""
        try:
            member = next(self.members)
        except StopIteration:
            self.over = True
            self.send({"t": "end"})
            return 0
        except ContainerError as exc:
            self.over = True
            self.send({"t": "error", "container": True, "message": str(exc)})
            return 0
        except MemoryError:
            self.over = True
            cap = self.ctx.limits.disk_memory
            self.send({"t": "error", "container": True, "message": _out_of_memory(cap)})
            return 0
        except Exception as exc:  # a damaged image fails inside TSK or libewf
            self.over = True
            message = describe(exc)
            if "alloc" in message.lower() and self.ctx.limits.disk_memory:
                message += f" ({_out_of_memory(self.ctx.limits.disk_memory)}?)"
            self.send({"t": "error", "container": False, "message": message})
            return 0
        self.seq += 1
        record = member.record
        self.send(
            {
                "t": "member",
                "record": encode_record(record),
                "openable": record.open is not None,
                "seekable": member.seekable,
                "partition": self.partition,
                "root": self.root,
            }
        )
        if record.open is None:
            return 0
        self.held[self.seq] = member
        try:  # its first bytes, unasked: the parent reads them anyway
            head = (
                self._read(self.seq, 0, min(self.prefetch, record.size)) if record.size > 0 else b""
            )
        except Exception:  # noqa: BLE001 - the parent asks again and gets the error
            head = b""
        self.conn.send_bytes(DATA + head)
        return len(head)

    def _read(self, seq: int, offset: int, size: int) -> bytes:
        stream = self.streams.get(seq)
        if stream is None:
            opener = self.held[seq].record.open
            assert opener is not None
            stream = self.streams[seq] = opener()
        if stream.tell() != offset:
            stream.seek(offset)
        return stream.read(min(size, CHUNK))

    def _op_read(self, request: dict[str, Any]) -> None:
        seq = int(request.get("seq", 0))
        member = self.held.get(seq)
        if member is None:
            self.send({"t": "oserror", "message": "the walk has moved past this file"})
            return
        try:
            data = self._read(seq, int(request["offset"]), int(request["size"]))
        except OSError as exc:
            self.send({"t": "oserror", "message": str(exc)})
            return
        except MemoryError:
            self.send({"t": "oserror", "message": _out_of_memory(self.ctx.limits.disk_memory)})
            return
        except Exception as exc:
            self.send({"t": "oserror", "message": f"{member.record.path}: {describe(exc)}"})
            return
        self.conn.send_bytes(DATA + data)

    def _release(self) -> None:
        for stream in self.streams.values():
            with contextlib.suppress(Exception):
                stream.close()
        self.streams.clear()
        self.held.clear()
        self.sent = 0


class _NotingContext(WalkContext):
    """Sends each `at` note to the parent: where a step that never ends was."""

    def __init__(self, limits: EvidenceLimits, server: _Server) -> None:
        super().__init__(limits)
        self.server = server

    def at(self, where: str, partition: int, root: str, step: str = "folder") -> None:
        self.server.boundary()
        self.server.partition, self.server.root = partition, root
        self.server.send(
            {"t": "at", "where": where, "partition": partition, "root": root, "step": step}
        )


def _failing(exc: Exception) -> Iterator[Member]:
    raise exc
    yield  # a generator that fails at its first step, as the kind's walk would


def _out_of_memory(cap: int | None) -> str:
    limit = f" of {cap:,} bytes" if cap else ""
    return f"the disk listing process ran out of memory (its cap{limit})"


def _die_with(parent: int) -> None:
    """Be killed when the parent dies (Linux), so a listing stuck in C never outlives it."""
    with contextlib.suppress(Exception):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)  # the parent is already gone


def _cap(memory: int | None) -> None:
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if memory:
            resource.setrlimit(resource.RLIMIT_AS, (memory, memory))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
