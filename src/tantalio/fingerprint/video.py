"""Videos → duration, size, vPDQ frames (PDQ + quality + timestamp at `video_fps`) and the
keyframe timestamps later used for contact-sheet thumbnails, with PyAV (FFmpeg).

As Meta's vpdq does, every frame is decoded and the frames at each 1/fps step are hashed from
RGB at full resolution; timestamps are presentation times in seconds from the stream start,
so variable-frame-rate phone videos are sampled by time, not by frame count.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tantalio.fingerprint.config import FingerprintConfig
from tantalio.fingerprint.errors import why as _why
from tantalio.fingerprint.pdq import luma_from_rgb, pdq_from_luma
from tantalio.fingerprint.record import VideoFrame

_TRUNCATION_S = 2.0  # frames ending this long before the declared duration: a cut file
_TRUNCATION_SHARE = 0.05


class VideoError(Exception):
    """A video that cannot be fingerprinted (partial results may be in `partial`)."""

    def __init__(self, message: str, partial: VideoInfo | None = None) -> None:
        super().__init__(message)
        self.partial = partial


@dataclass(slots=True)
class VideoInfo:
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    frames: list[VideoFrame] = field(default_factory=list)
    keyframes: list[float] = field(default_factory=list)


def analyse(
    source: Any,
    cfg: FingerprintConfig,
    deadline: float,
    on_start: Callable[[], None] | None = None,
) -> VideoInfo:
    """Decode `source` (a path or a seekable binary file object) and hash frames.

    Raises VideoError; when decoding fails part-way (truncated file, timeout) the frames
    hashed so far travel in `VideoError.partial`.
    """
    import av

    if on_start is not None:
        on_start()
    try:
        options: dict[str, Any] = {} if isinstance(source, str) else {"buffer_size": 1 << 20}
        container = av.open(source, mode="r", metadata_errors="ignore", **options)
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise VideoError(f"corrupt video: cannot open the container ({_why(exc)})") from exc
    with container:
        if not container.streams.video:
            raise VideoError("unsupported: no video stream")
        stream = container.streams.video[0]
        info = VideoInfo()
        ctx = stream.codec_context
        info.width, info.height = (ctx.width or None), (ctx.height or None)
        if info.width and info.height and info.width * info.height > cfg.max_pixels:
            raise VideoError(
                f"refused: {info.width}x{info.height} video frames exceed max_pixels "
                f"{cfg.max_pixels}"
            )
        info.duration = _duration(container, stream)
        if cfg.video_threads != 1:
            stream.thread_type = "AUTO"
            if cfg.video_threads > 1:
                ctx.thread_count = cfg.video_threads
        sampler = _Sampler(stream, cfg, deadline)
        try:
            sampler.run(container, stream, info)
        except VideoError as exc:
            exc.partial = info
            raise
        except (av.FFmpegError, OSError, ValueError, MemoryError) as exc:
            if not info.frames:
                raise VideoError(f"corrupt video: {_why(exc)}", info) from exc
            raise VideoError(
                f"truncated or corrupt video: decoding stopped after "
                f"{info.frames[-1].timestamp:.1f}s ({_why(exc)})",
                info,
            ) from exc
        if not info.frames:
            raise VideoError("corrupt video: no frame could be decoded", info)
        last = sampler.last_t if sampler.last_t is not None else info.frames[-1].timestamp
        if info.duration is None:
            info.duration = round(last, 3)
        elif info.duration - last > max(_TRUNCATION_S, _TRUNCATION_SHARE * info.duration):
            # demuxers end quietly at a cut; the declared duration tells a cut from an end
            raise VideoError(
                f"truncated or corrupt video: frames end at {last:.1f}s of the "
                f"{info.duration:.1f}s declared",
                info,
            )
        return info


class _Sampler:
    """Walks the packets once: keyframe times from the demuxer, a hashed frame each step."""

    def __init__(self, stream: Any, cfg: FingerprintConfig, deadline: float) -> None:
        self.cfg = cfg
        self.deadline = deadline
        self.tb = float(stream.time_base) if stream.time_base else None
        self.rate = float(stream.average_rate) if stream.average_rate else 0.0
        self.step = 1.0 / cfg.video_fps
        self.origin: float | None = None  # pts (s) of the first frame: timestamps count from it
        self.next_t = 0.0
        self.index = 0
        self.keyframes: list[float] = []
        self.last_t: float | None = None  # time of the last decoded frame

    def run(self, container: Any, stream: Any, info: VideoInfo) -> None:
        try:
            for packet in container.demux(stream):
                if packet.is_keyframe and packet.pts is not None and self.tb is not None:
                    self.keyframes.append(packet.pts * self.tb)
                for frame in packet.decode():
                    self._frame(frame, info)
        finally:
            origin = self.origin or 0.0
            info.keyframes = sorted(round(k - origin, 3) for k in self.keyframes)

    def _frame(self, frame: Any, info: VideoInfo) -> None:
        if frame.pts is not None and self.tb is not None:
            t = frame.pts * self.tb
        else:
            t = self.index / self.rate if self.rate else float(self.index)
        self.index += 1
        if self.origin is None:
            self.origin = t
        t -= self.origin
        self.last_t = t
        if t + 1e-6 >= self.next_t:
            luma = luma_from_rgb(frame.to_ndarray(format="rgb24"))
            result = pdq_from_luma(luma, orientations=False)
            info.frames.append(VideoFrame(result.hash, result.quality, round(t, 3)))
            self.next_t = (math.floor(t / self.step + 1e-6) + 1) * self.step
        if time.monotonic() > self.deadline:
            raise VideoError(
                f"timed out after {self.cfg.video_timeout_s:g}s: "
                f"{len(info.frames)} frames hashed up to {t:.1f}s"
            )


def _duration(container: Any, stream: Any) -> float | None:
    if stream.duration is not None and stream.time_base:
        return round(float(stream.duration * stream.time_base), 3)
    if container.duration is not None:
        return round(container.duration / 1_000_000, 3)
    return None
