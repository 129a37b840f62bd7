"""One file → one `Fingerprint`, reading its bytes once.

Images are read whole into memory (one read), hashed, then decoded from the same buffer.
Videos are decoded through a `HashingReader`, which feeds the digests from the decoder's own
reads. Other files are hashed in 1 MiB chunks. Nothing here raises for a bad file: every
failure becomes the fingerprint's `error`, next to the size and hashes that could be computed.
Evidence is opened read-only (and with O_NOATIME where the OS allows, so access times stay).
"""

from __future__ import annotations

import io
import os
import stat
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, BinaryIO

from tantalio.fingerprint import exif as exif_mod
from tantalio.fingerprint import image as image_mod
from tantalio.fingerprint import preview as preview_mod
from tantalio.fingerprint import video as video_mod
from tantalio.fingerprint.config import DEFAULT_CONFIG, FingerprintConfig
from tantalio.fingerprint.crypto import (
    CHUNK,
    Digests,
    HashingReader,
    MultiHasher,
    hash_bytes,
    hash_stream,
)
from tantalio.fingerprint.errors import why as _why
from tantalio.fingerprint.magic import HEAD_BYTES, sniff
from tantalio.fingerprint.pdq import pdq_from_luma
from tantalio.fingerprint.record import IMAGE_TYPES, VIDEO_TYPES, Fingerprint
from tantalio.fingerprint.trim import TrimBox, find_picture

# Set by a `fingerprint_many` worker: called when a file turns out to be a video, so the
# pool gives it `video_timeout_s` instead of `timeout_s`.
on_video_start: Callable[[], None] | None = None


def fingerprint_file(
    path: str | os.PathLike[str],
    config: FingerprintConfig | None = None,
    *,
    sha256: str | None = None,
    digests: Digests | None = None,
) -> Fingerprint:
    """Fingerprint a file on disk. Never raises for a bad or unreadable file.

    `sha256`: the caller's SHA-256 of this file (computed to look it up), trusted: only MD5
    and SHA-1 are computed here, so no digest is computed twice. `digests`: (md5, sha1,
    sha256) already stored (the decoding pass after `ingest --fast`): nothing is hashed.

    A single call does not enforce `timeout_s` on an image decode (only the video frame loop
    checks its deadline); `fingerprint_many` enforces both by replacing stuck workers.
    """
    cfg = config or DEFAULT_CONFIG
    name = os.fspath(path)
    started = time.monotonic()
    try:
        fd = _open_readonly(name)
    except OSError as exc:
        return _failed(name, 0, f"cannot open: {exc.strerror or exc}")
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        return _failed(name, 0, "not a regular file")
    with open(fd, "rb", buffering=0, closefd=True) as f:
        try:
            head = f.read(HEAD_BYTES)
            type_, mime = sniff(head)
            f.seek(0)
            if type_ in VIDEO_TYPES and cfg.video:
                return _video_file(name, f, st.st_size, type_, mime, cfg, started, sha256, digests)
            if type_ in IMAGE_TYPES and st.st_size <= cfg.max_image_bytes:
                data = f.read()
                fp = _new(name, hash_bytes(data, sha256, digests), type_, mime)
                _image(fp, data, cfg)
                return fp
            if digests is not None:  # nothing to decode and nothing to hash: no read
                hasher = MultiHasher(digests=digests)
                hasher.size = st.st_size
            else:
                hasher = hash_stream(f, MultiHasher(sha256))
            fp = _new(name, hasher, type_, mime)
            if type_ in IMAGE_TYPES:
                fp.error = _too_big(fp.size, cfg)
            return fp
        except OSError as exc:
            return _failed(name, st.st_size, f"read error: {exc.strerror or exc}")


def fingerprint_bytes(
    data: bytes,
    name: str | None = None,
    config: FingerprintConfig | None = None,
    *,
    sha256: str | None = None,
    digests: Digests | None = None,
) -> Fingerprint:
    """Fingerprint bytes already in memory (an upload, a small archive member).

    `sha256`, `digests`: known digests, trusted (see `fingerprint_file`)."""
    cfg = config or DEFAULT_CONFIG
    started = time.monotonic()
    type_, mime = sniff(bytes(data[:HEAD_BYTES]))
    fp = _new(name, hash_bytes(data, sha256, digests), type_, mime)
    if type_ in IMAGE_TYPES:
        if len(data) > cfg.max_image_bytes:
            fp.error = _too_big(len(data), cfg)
        else:
            _image(fp, bytes(data), cfg)
    elif type_ in VIDEO_TYPES and cfg.video:
        _video(fp, io.BytesIO(data), cfg, started)
    return fp


def fingerprint_stream(
    stream: BinaryIO,
    name: str | None = None,
    size: int | None = None,
    config: FingerprintConfig | None = None,
) -> Fingerprint:
    """Fingerprint a stream read once from its current position (archive members, files in
    disk images), hashing while reading. Images are buffered in memory (up to
    `max_image_bytes`); videos are kept in memory up to `spool_bytes` and spooled to a
    temporary file beyond, because the decoder needs to seek. `size` is only a hint.
    """
    cfg = config or DEFAULT_CONFIG
    started = time.monotonic()
    try:
        head = _read_upto(stream, HEAD_BYTES)
        type_, mime = sniff(head)
        hasher = MultiHasher()
        hasher.update(head)
        if type_ in VIDEO_TYPES and cfg.video:
            with tempfile.SpooledTemporaryFile(max_size=cfg.spool_bytes, dir=cfg.temp_dir) as spool:
                spool.write(head)
                _copy(stream, hasher, spool)
                spool.seek(0)
                fp = _new(name, hasher, type_, mime)
                _video(fp, spool, cfg, started)
                return fp
        if type_ in IMAGE_TYPES and (size is None or size <= cfg.max_image_bytes):
            buf = bytearray(head)
            overflow = _buffer(stream, hasher, buf, cfg.max_image_bytes)
            fp = _new(name, hasher, type_, mime)
            if overflow:
                fp.error = _too_big(fp.size, cfg)
            else:
                _image(fp, bytes(buf), cfg)
            return fp
        hash_stream(stream, hasher)
        fp = _new(name, hasher, type_, mime)
        if type_ in IMAGE_TYPES:
            fp.error = _too_big(fp.size, cfg)
        return fp
    except OSError as exc:
        return _failed(name, size or 0, f"read error: {exc.strerror or exc}")


def hash_only_file(path: str | os.PathLike[str], error: str) -> Fingerprint:
    """Size, hashes and type without decoding: the fallback for a file whose decode crashed
    or hung a worker. `error` says what happened."""
    name = os.fspath(path)
    try:
        fd = _open_readonly(name)
    except OSError as exc:
        return _failed(name, 0, f"{error}; cannot open: {exc.strerror or exc}")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return _failed(name, 0, f"{error}; not a regular file")
    with open(fd, "rb", buffering=0, closefd=True) as f:
        try:
            head = f.read(HEAD_BYTES)
            f.seek(0)
            type_, mime = sniff(head)
            fp = _new(name, hash_stream(f), type_, mime)
        except OSError as exc:
            return _failed(name, 0, f"{error}; read error: {exc.strerror or exc}")
    fp.error = error
    return fp


# ---------------------------------------------------------------- media stages


def _image(fp: Fingerprint, data: bytes, cfg: FingerprintConfig) -> None:
    if cfg.exif and exif_mod.has_exif(fp.type, data):
        try:
            fp.exif = exif_mod.read_exif(data, fp.type)
        except Exception as exc:  # a damaged EXIF block never costs the image its hashes
            fp.extra.setdefault("warnings", []).append(f"EXIF unreadable: {_why(exc)}")
    try:
        decoded = image_mod.decode(data, fp.type, cfg)
    except image_mod.ImageError as exc:
        fp.error = str(exc)
        return
    except MemoryError:
        fp.error = "refused: out of memory while decoding"
        return
    except Exception as exc:  # a decoder bug must not stop the run
        fp.error = f"decoder failed: {_why(exc)}"
        return
    fp.width, fp.height = decoded.width, decoded.height
    result = pdq_from_luma(decoded.luma, orientations=cfg.orientations)
    fp.pdq, fp.pdq_quality = result.hash, result.quality
    fp.pdq_orientations = list(result.orientations) if result.orientations else None
    if decoded.scale > 1:
        fp.extra["pdq_scale"] = decoded.scale
    box = None
    try:  # the extra signals of issue 13 never cost a file its PDQ
        if cfg.trim:
            box = _trimmed(fp, decoded.luma, decoded.width, cfg)
        if cfg.local_features:
            _local(fp, decoded.luma, cfg.local_features, box)
    except Exception as exc:
        fp.extra.setdefault("warnings", []).append(f"trimmed PDQ / local features: {_why(exc)}")
    if decoded.preview is not None:
        fp.preview = preview_mod.encode(decoded.preview, fp.exif.orientation if fp.exif else None)


def _trimmed(fp: Fingerprint, luma: Any, width: int, cfg: FingerprintConfig) -> TrimBox | None:
    """The second PDQ of a framed picture (fingerprint/trim.py), in `extra`."""
    box = find_picture(luma)
    if box is None:
        return None
    result = pdq_from_luma(luma[box.y0 : box.y1, box.x0 : box.x1], orientations=cfg.orientations)
    fp.extra["pdq_trimmed"] = result.hash
    fp.extra["pdq_trimmed_quality"] = result.quality
    if result.orientations:
        fp.extra["pdq_trimmed_orientations"] = list(result.orientations)
    fp.extra["pdq_trimmed_box"] = box.scaled(width / luma.shape[1])
    return box


def add_query_features(
    fp: Fingerprint, data: bytes, cfg: FingerprintConfig = DEFAULT_CONFIG
) -> None:
    """A query's local features (`extra["local_features"]` and its variants) for a picture
    fingerprinted without them: triage asks for them only where exact and PDQ matching
    settled nothing, so the picture is decoded a second time (reduced, as for PDQ) rather
    than every picture paying for keypoints. Errors become a warning, never the file's."""
    try:
        decoded = image_mod.decode(data, fp.type, replace(cfg, preview_px=0))
        box = find_picture(decoded.luma) if cfg.trim else None
        _local(fp, decoded.luma, "query", box)
    except Exception as exc:
        fp.extra.setdefault("warnings", []).append(f"local features: {_why(exc)}")


def _local(fp: Fingerprint, luma: Any, role: str, box: TrimBox | None) -> None:
    """Local features of a picture (localfeat/extract.py): a reference's, or a query's with
    its variants."""
    from tantalio.localfeat.extract import (
        QUERY_KEYPOINTS,
        REFERENCE_KEYPOINTS,
        features,
        with_mirror,
    )

    w, h = fp.width or luma.shape[1], fp.height or luma.shape[0]
    if role == "reference":
        fp.extra["local_features"] = features(luma, w, h, REFERENCE_KEYPOINTS).encode()
        return
    plain, mirror = with_mirror(luma, w, h, QUERY_KEYPOINTS)
    fp.extra["local_features"] = plain.encode()
    variants = [mirror]
    if box is not None:
        variants.append(features(luma, w, h, QUERY_KEYPOINTS, box=(box.x0, box.y0, box.x1, box.y1)))
    fp.extra["local_features_variants"] = [v.encode() for v in variants]


def _video(fp: Fingerprint, source: Any, cfg: FingerprintConfig, started: float) -> None:
    deadline = started + cfg.video_timeout_s
    info: video_mod.VideoInfo | None
    try:
        info = video_mod.analyse(source, cfg, deadline, on_start=on_video_start)
    except video_mod.VideoError as exc:
        fp.error = str(exc)
        info = exc.partial
    except MemoryError:
        fp.error = "refused: out of memory while decoding"
        info = None
    except Exception as exc:  # a decoder bug must not stop the run
        fp.error = f"decoder failed: {_why(exc)}"
        info = None
    if info is not None:
        fp.width, fp.height, fp.duration = info.width, info.height, info.duration
        fp.frames = info.frames or None
        fp.keyframes = info.keyframes or None


def _video_file(
    name: str,
    f: BinaryIO,
    size: int,
    type_: str,
    mime: str,
    cfg: FingerprintConfig,
    started: float,
    sha256: str | None = None,
    digests: Digests | None = None,
) -> Fingerprint:
    reader = HashingReader(f, size, sha256, digests)
    probe = Fingerprint(size=size, md5="", sha1="", sha256="", type=type_, mime=mime, path=name)
    _video(probe, reader, cfg, started)
    fp = _new(name, reader.finish(), type_, mime)
    for key in ("width", "height", "duration", "frames", "keyframes", "error"):
        setattr(fp, key, getattr(probe, key))
    return fp


# ---------------------------------------------------------------- helpers


def _new(name: str | None, hasher: MultiHasher, type_: str, mime: str) -> Fingerprint:
    md5, sha1, sha256 = hasher.hexdigests()
    return Fingerprint(
        size=hasher.size, md5=md5, sha1=sha1, sha256=sha256, type=type_, mime=mime, path=name
    )


def _failed(name: str | None, size: int, error: str) -> Fingerprint:
    """A file whose bytes could not be read: no hashes (empty strings), only the error."""
    return Fingerprint(size=size, md5="", sha1="", sha256="", path=name, error=error)


def _too_big(size: int, cfg: FingerprintConfig) -> str:
    return f"not decoded: {size} bytes exceeds max_image_bytes {cfg.max_image_bytes}"


def _open_readonly(name: str) -> int:
    # O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused after fstat);
    # on regular files it changes nothing.
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
    noatime = getattr(os, "O_NOATIME", 0)
    if noatime:
        try:
            return os.open(name, flags | noatime)
        except PermissionError:
            pass  # O_NOATIME needs ownership; read-only is what matters
    return os.open(name, flags)


def _read_upto(stream: BinaryIO, n: int) -> bytes:
    parts: list[bytes] = []
    got = 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            break
        parts.append(chunk)
        got += len(chunk)
    return b"".join(parts)


def _copy(stream: BinaryIO, hasher: MultiHasher, out: Any) -> None:
    while chunk := stream.read(CHUNK):
        hasher.update(chunk)
        out.write(chunk)


def _buffer(stream: BinaryIO, hasher: MultiHasher, buf: bytearray, limit: int) -> bool:
    """Read the rest into `buf` while hashing; past `limit` keep hashing only. True if cut."""
    while chunk := stream.read(CHUNK):
        hasher.update(chunk)
        if len(buf) + len(chunk) > limit:
            hash_stream(stream, hasher)
            return True
        buf += chunk
    return False
