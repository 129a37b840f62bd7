"""Videos: vPDQ frames at 1 fps with timestamps, keyframes, duration, bad files."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import av
import numpy as np
import pytest

from tantalio.fingerprint import (
    FingerprintConfig,
    fingerprint_bytes,
    fingerprint_file,
    fingerprint_stream,
    hamming,
    luma_from_rgb,
    pdq_from_luma,
)


def moving_gradient(fmt: str, codec: str, seconds: int = 4, fps: int = 10) -> bytes:
    """A benign clip: colour gradients drifting, a band that changes every second."""
    w, h = 80, 48
    buf = io.BytesIO()
    with av.open(buf, "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"g": str(fps)}  # a keyframe every second
        y, x = np.mgrid[0:h, 0:w]
        for i in range(seconds * fps):
            frame = np.zeros((h, w, 3), np.uint8)
            frame[..., 0] = (x * 3 + i * 7) % 256
            frame[..., 1] = (y * 5 + (i // fps) * 70) % 256
            frame[..., 2] = (x + y) % 256
            frame[(i // fps) * 10 : (i // fps) * 10 + 8] = 240
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def test_committed_clip_gets_one_frame_per_second(data_dir: Path) -> None:
    fp = fingerprint_file(data_dir / "clip.mp4")
    assert fp.error is None and (fp.type, fp.mime) == ("mp4", "video/mp4")
    assert (fp.width, fp.height) == (96, 64)
    assert fp.duration == pytest.approx(3.0, abs=0.15)
    assert fp.frames is not None
    assert [f.timestamp for f in fp.frames] == [0.0, 1.0, 2.0]
    assert all(len(f.pdq) == 64 and 0 <= f.quality <= 100 for f in fp.frames)
    assert len({f.pdq for f in fp.frames}) == 3
    assert fp.keyframes and fp.keyframes[0] == 0.0
    assert fp.pdq is None and fp.kind == "video"


@pytest.mark.parametrize(("fmt", "codec", "kind"), [("matroska", "mpeg4", "mkv")])
def test_encoded_clip_frames_are_pdq_of_the_decoded_frames(fmt: str, codec: str, kind: str) -> None:
    data = moving_gradient(fmt, codec)
    fp = fingerprint_bytes(data, name="clip")
    assert fp.type == kind and fp.error is None
    assert fp.frames is not None
    assert [f.timestamp for f in fp.frames] == [0.0, 1.0, 2.0, 3.0]
    assert fp.keyframes == [0.0, 1.0, 2.0, 3.0]
    # frame k is the PDQ (RGB → luma, as vpdq hashes) of the frame shown at k seconds
    with av.open(io.BytesIO(data)) as container:
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    for k, frame in enumerate(fp.frames):
        want = pdq_from_luma(luma_from_rgb(decoded[k * 10]), orientations=False)
        assert (frame.pdq, frame.quality) == (want.hash, want.quality)
    assert hamming(fp.frames[0].pdq, fp.frames[3].pdq) > 31


def test_sampling_rate_is_configurable() -> None:
    data = moving_gradient("matroska", "mpeg4", seconds=3)
    fp = fingerprint_bytes(data, config=FingerprintConfig(video_fps=2.0))
    assert fp.frames is not None
    assert [f.timestamp for f in fp.frames] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]


def test_video_file_is_read_once_and_hashed_right(tmp_path: Path, data_dir: Path) -> None:
    data = (data_dir / "clip.mp4").read_bytes()
    path = tmp_path / "v.bin"
    path.write_bytes(data)
    fp = fingerprint_file(path)
    assert fp.type == "mp4" and fp.frames
    assert fp.sha256 == hashlib.sha256(data).hexdigest() and fp.size == len(data)
    assert fp.md5 == hashlib.md5(data).hexdigest()


def test_stream_spools_large_videos_to_disk(data_dir: Path) -> None:
    data = (data_dir / "clip.mp4").read_bytes()
    small_spool = FingerprintConfig(spool_bytes=1024)
    fp = fingerprint_stream(io.BufferedReader(io.BytesIO(data)), "c.mp4", config=small_spool)
    assert fp == fingerprint_bytes(data, "c.mp4")


def test_truncated_video_keeps_frames_hashed_so_far() -> None:
    data = moving_gradient("matroska", "mpeg4", seconds=6)
    cut = data[: int(len(data) * 0.6)]
    fp = fingerprint_bytes(cut)
    assert fp.sha256 == hashlib.sha256(cut).hexdigest()
    assert fp.error and fp.error.startswith("truncated"), fp.error
    assert fp.frames and 1 <= len(fp.frames) < 6


def test_mp4_without_its_index_is_corrupt(data_dir: Path) -> None:
    data = (data_dir / "clip.mp4").read_bytes()
    fp = fingerprint_bytes(data[: len(data) // 2])
    assert fp.type == "mp4" and fp.error and fp.error.startswith("corrupt video")
    assert fp.frames is None


def test_audio_only_and_garbage_containers() -> None:
    garbage = b"\x1a\x45\xdf\xa3" + bytes(range(256)) * 8
    fp = fingerprint_bytes(garbage)
    assert fp.type == "mkv" and fp.error and "video" in fp.error


def test_video_timeout_returns_partial_frames() -> None:
    data = moving_gradient("matroska", "mpeg4", seconds=4)
    fp = fingerprint_bytes(data, config=FingerprintConfig(video_timeout_s=0.0))
    assert fp.error and fp.error.startswith("timed out")
    assert fp.frames is not None and len(fp.frames) == 1


def test_videos_can_be_skipped(data_dir: Path) -> None:
    fp = fingerprint_file(data_dir / "clip.mp4", FingerprintConfig(video=False))
    assert fp.type == "mp4" and fp.frames is None and fp.error is None and fp.md5
