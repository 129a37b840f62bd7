"""The fingerprinting worker: runs in a process pool, one chunk of files per task.

Each file is read once and hashed once: SHA-256 first, looked up in the store (content
already in the workspace is never decoded again: issue 3, "each distinct SHA-256
fingerprinted once"); only new content goes to the engine, which is handed that SHA-256
and adds MD5 and SHA-1, and gets its thumbnail (the engine's preview) written to the
workspace.
Folder files are read here by path; archive and disk-image members arrive as bytes, or as
a private temp file when large.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tantalio.fingerprint.config import FingerprintConfig
from tantalio.fingerprint.record import Fingerprint
from tantalio.signals.rules import DEFAULT_MIN_QUALITY
from tantalio.triage import thumbs

INLINE_MAX = 256 << 20  # files up to this size are read once into memory
_state: dict[str, Any] = {}


@dataclass(slots=True)
class Job:
    seq: int
    name: str  # file name, a hint for type detection
    path: str | None = None  # a file on disk to read (folder member or private temp file)
    data: bytes | None = None
    temp: bool = False  # `path` is ours to delete afterwards
    # Known from a fast pass (`ingest --fast`): the content is stored, only its perceptual
    # work (decode, PDQ/vPDQ, thumbnail) is wanted; no digest is computed again (with md5
    # and sha1 given, the three stored digests are handed to the engine).
    sha256: str | None = None
    md5: str | None = None
    sha1: str | None = None


@dataclass(slots=True)
class JobResult:
    seq: int
    sha256: str | None = None
    size: int | None = None
    fingerprint: Fingerprint | None = None  # None: content already stored, or read failed
    thumbnail: str | None = None
    error: str | None = None  # the bytes could not be read
    # PDQ matches against the hash-entry index snapshot: (entry id, distance, orientation)
    entry_hits: list[tuple[int, int, int]] | None = None
    # The thumbnail's bytes, from a worker that cannot see the workspace (Dask, remote):
    # the client writes it and sets `thumbnail`.
    thumbnail_data: bytes | None = None
    # Where a disk filled up while this job wrote (a thumbnail, a temp file): not a fault
    # of the evidence, so the run stops instead of recording the file as unreadable.
    disk_full: str | None = None


PRELOAD = ("tantalio.triage.worker", "tantalio.fingerprint.engine", "tantalio.store.probe")


def init_worker(
    db_url: str,
    workspace_dir: str | None,
    thumbnails: bool,
    entry_index: str | None = None,
    min_quality: int = DEFAULT_MIN_QUALITY,
    ship_thumbnails: bool = False,
    fast: bool = False,
    local_features: bool = False,
) -> None:
    """Process-pool initializer: a light database probe for the "already stored?" check,
    and the hash-entry PDQ index (memory-mapped, so every worker shares its pages) to
    search each new image's 8 orientations here, in parallel, rather than in the parent."""
    from tantalio.store.probe import MediaProbe

    _state.clear()
    _state["probe"] = MediaProbe(db_url)
    _state["dir"] = Path(workspace_dir) if workspace_dir else None
    _state["thumbnails"] = thumbnails and (workspace_dir is not None or ship_thumbnails)
    # With thumbnails, the engine hands back a preview made from its own decode, so a
    # picture is decoded once (docs/perf/ingest.md); videos still get a contact sheet here.
    _state["config"] = FingerprintConfig(preview_px=thumbs.SIZE if _state["thumbnails"] else 0)
    _state["entry_index_path"] = entry_index
    _state["min_quality"] = min_quality
    _state["fast"] = fast
    # The workspace holds reference files' local features and the run wants them (issue 13).
    _state["local_features"] = local_features


def _entry_index() -> Any:
    if "entry_index" not in _state:
        path = _state.get("entry_index_path")
        index = None
        if path:
            from tantalio.index import PDQIndex

            index = PDQIndex.load(path, mmap=True)
        _state["entry_index"] = index if index is not None and len(index) else None
    return _state["entry_index"]


def _entry_hits(fp: Fingerprint) -> list[tuple[int, int, int]] | None:
    """None when this worker has no entry index (the parent then searches itself)."""
    if _state.get("entry_index_path") is None:
        return None
    index = _entry_index()
    if index is None or not fp.pdq or (fp.pdq_quality or 0) < _state["min_quality"]:
        return []
    hits = index.search_orientations(fp.pdq_orientations or [fp.pdq])
    return [(int(e), int(d), int(k)) for e, d, k in hits]


def _stored(sha256: str) -> bool:
    probe = _state.get("probe")
    return probe is not None and bool(probe.stored(sha256))


def run_chunk(jobs: list[Job]) -> list[JobResult]:
    return [run_job(job) for job in jobs]


def run_fast_chunk(jobs: list[Job]) -> list[JobResult]:
    """The fast pass in a thread of the ingest process (`executors.HashThreads`): hashes
    and type of every file, no store lookup (the batched insert skips stored content)."""
    out = []
    for job in jobs:
        try:
            out.append(_run_fast(job, probe=False))
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                out.append(JobResult(job.seq, disk_full=str(exc.filename or "a temp file")))
            else:
                out.append(JobResult(job.seq, error=f"read failed: {exc.strerror or exc}"))
        finally:
            if job.temp and job.path:
                with contextlib.suppress(OSError):
                    os.unlink(job.path)
    return out


def run_job(job: Job) -> JobResult:
    try:
        return _run(job)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            where = exc.filename or _state.get("dir") or "the worker's temp area"
            return JobResult(job.seq, disk_full=str(where))
        return JobResult(job.seq, error=f"read failed: {exc.strerror or exc}")
    finally:
        if job.temp and job.path:
            with contextlib.suppress(OSError):
                os.unlink(job.path)


def _run(job: Job) -> JobResult:
    """Read once, hash once: SHA-256 first (the store lookup key); only new content goes on
    to the engine, which is handed that SHA-256 and computes just MD5 and SHA-1."""
    from tantalio.fingerprint.engine import fingerprint_bytes

    if _state.get("fast"):
        return _run_fast(job)
    if job.sha256 is not None:
        return _run_pending(job)
    config = _state.get("config")
    data = job.data
    if data is None:
        assert job.path is not None
        if os.stat(job.path).st_size > INLINE_MAX:
            return _run_large(job, config)
        with open(job.path, "rb") as fh:
            data = fh.read()
    sha256 = hashlib.sha256(data).hexdigest()
    if _stored(sha256):
        return JobResult(job.seq, sha256, len(data))
    fp = fingerprint_bytes(data, name=job.name, config=config, sha256=sha256)
    thumb, thumb_data = _thumbnail(fp, data, job.path)
    hits = _entry_hits(fp)
    _query_features(fp, data, hits)
    return JobResult(job.seq, sha256, fp.size, fp, thumb, None, hits, thumb_data)


def _query_features(fp: Fingerprint, data: bytes, hits: list[tuple[int, int, int]] | None) -> None:
    """Local features of a picture its PDQ did not match (issue 13), only when the
    workspace holds reference features: the parent verifies them against the references
    when exact hashes did not settle the file either."""
    if not _state.get("local_features") or fp.kind != "image" or fp.error or hits:
        return
    from tantalio.fingerprint.engine import add_query_features

    add_query_features(fp, data, _state.get("config") or FingerprintConfig())


def local_variants(fp: Fingerprint) -> list[str] | None:
    """The `lf1:` texts a picture is searched with (plain, mirror, trimmed), if any."""
    extra = fp.extra
    out = [extra["local_features"]] if extra.get("local_features") else []
    out += extra.get("local_features_variants") or []
    return out or None


def _run_large(job: Job, config: FingerprintConfig | None) -> JobResult:
    """A file too large to hold in memory. Content that needs no decoding is fingerprinted
    straight away (one read: hashing is all the engine does) and looked up afterwards. A
    large video or image is hashed first and decoded only when new: decoding a duplicate
    costs far more than the second read, which hashes nothing again (the engine is given
    the SHA-256)."""
    from tantalio.fingerprint.engine import fingerprint_file
    from tantalio.fingerprint.magic import HEAD_BYTES, sniff
    from tantalio.fingerprint.record import IMAGE_TYPES, VIDEO_TYPES

    path = job.path or ""
    with open(path, "rb") as fh:
        type_, _ = sniff(fh.read(HEAD_BYTES))
    if type_ not in VIDEO_TYPES and type_ not in IMAGE_TYPES:
        fp = fingerprint_file(path, config=config)
        if not fp.sha256:  # read failed inside the engine
            return JobResult(job.seq, error=fp.error or "read failed")
        if _stored(fp.sha256):
            return JobResult(job.seq, fp.sha256, fp.size)
        return JobResult(job.seq, fp.sha256, fp.size, fp)
    sha256 = _sha256_file(path)
    if _stored(sha256):
        return JobResult(job.seq, sha256, os.stat(path).st_size)
    fp = fingerprint_file(path, config=config, sha256=sha256)
    if not fp.sha256:
        return JobResult(job.seq, error=fp.error or "read failed")
    thumb, thumb_data = _thumbnail(fp, None, path)
    return JobResult(job.seq, fp.sha256, fp.size, fp, thumb, None, _entry_hits(fp), thumb_data)


FAST_READ = 8 << 20  # large reads: the fast pass is bound by hashing, not syscalls
_buffers = threading.local()  # one reused read buffer per thread (no 8 MiB per small file)


def _read_buffer() -> memoryview:
    view: memoryview | None = getattr(_buffers, "view", None)
    if view is None:
        view = _buffers.view = memoryview(bytearray(FAST_READ))
    return view


def _run_fast(job: Job, probe: bool = True) -> JobResult:
    """The fast pass (`ingest --fast`): one read, MD5/SHA-1/SHA-256 together, the type
    from the first bytes; nothing decoded. New content comes back as a hashes-only
    fingerprint (its media row is marked perceptual-pending by the writer)."""
    from tantalio.fingerprint.magic import HEAD_BYTES, sniff

    md5, sha1, sha256 = hashlib.md5(), hashlib.sha1(), hashlib.sha256()
    if job.data is not None:
        head, size = job.data[:HEAD_BYTES], len(job.data)
        for h in (md5, sha1, sha256):
            h.update(job.data)
    else:
        assert job.path is not None
        size, head = 0, b""
        view = _read_buffer()
        with open(job.path, "rb", buffering=0) as fh:
            while n := fh.readinto(view):
                chunk = view[:n]
                if not size:
                    head = bytes(chunk[:HEAD_BYTES])
                md5.update(chunk)
                sha1.update(chunk)
                sha256.update(chunk)
                size += n
    digest = sha256.hexdigest()
    if probe and _stored(digest):
        return JobResult(job.seq, digest, size)
    type_, mime = sniff(head)
    fp = Fingerprint(
        size=size,
        md5=md5.hexdigest(),
        sha1=sha1.hexdigest(),
        sha256=digest,
        type=type_,
        mime=mime,
        path=job.name,
    )
    return JobResult(job.seq, digest, size, fp)


def _run_pending(job: Job) -> JobResult:
    """The perceptual pass over content a fast pass stored: decode (PDQ/vPDQ, EXIF,
    thumbnail), handing the engine the stored digests so none is computed again."""
    from tantalio.fingerprint.engine import fingerprint_bytes, fingerprint_file

    config = _state.get("config")
    assert job.sha256 is not None
    digests = (job.md5, job.sha1, job.sha256) if job.md5 and job.sha1 else None
    if job.data is not None:
        fp = fingerprint_bytes(
            job.data, name=job.name, config=config, sha256=job.sha256, digests=digests
        )
    else:
        assert job.path is not None
        fp = fingerprint_file(job.path, config=config, sha256=job.sha256, digests=digests)
    if not fp.sha256:
        return JobResult(job.seq, error=fp.error or "read failed")
    thumb, thumb_data = _thumbnail(fp, job.data, job.path)
    return JobResult(job.seq, fp.sha256, fp.size, fp, thumb, None, _entry_hits(fp), thumb_data)


def _sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _thumbnail(
    fp: Fingerprint, data: bytes | None, path: str | None
) -> tuple[str | None, bytes | None]:
    """(workspace-relative path written, or None; or the bytes when there is no
    workspace directory here to write to)."""
    directory: Path | None = _state.get("dir")
    preview, fp.preview = fp.preview, None  # the result goes back small
    if not _state.get("thumbnails") or fp.error:
        return None, None
    if fp.kind == "image" and preview is not None:
        thumb: bytes | None = preview
    elif fp.kind == "image" and data is not None:
        thumb = thumbs.image_thumbnail(data, fp.exif.orientation if fp.exif else None)
    elif fp.kind == "video":
        thumb = thumbs.video_thumbnail(data if data is not None else str(path), fp.keyframes)
    else:
        return None, None
    if thumb is None:
        return None, None
    if directory is None:
        return None, thumb
    return thumbs.save(directory, fp.sha256, thumb), None


def hash_only(job: Job, error: str, tmp_dir: Path) -> JobResult:
    """Size, hashes and type without decoding (in the calling process): what a file whose
    decode crashed or hung its worker still gets, with `error` saying what happened."""
    from tantalio.fingerprint.engine import hash_only_file

    path = job.path
    spooled = None
    try:
        if job.data is not None:
            fd, spooled = tempfile.mkstemp(dir=tmp_dir, suffix=".hash")
            with os.fdopen(fd, "wb") as out:
                out.write(job.data)
            path = spooled
        if path is None:
            return JobResult(job.seq, error=error)
        fp = hash_only_file(path, error)
        if fp.error != error:  # could not even be read again
            return JobResult(job.seq, error=fp.error or error)
        return JobResult(job.seq, fp.sha256, fp.size, fp)
    finally:
        for p in (spooled, job.path if job.temp else None):
            if p:
                with contextlib.suppress(OSError):
                    os.unlink(p)
