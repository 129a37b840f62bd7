"""Benign synthetic media for the demo, tests and benchmarks: landscapes-like gradients,
shapes, textures and short videos, generated from a seed (numpy + Pillow + PyAV).

Nothing here depicts people. "Known" material in the demo is one of these pictures
registered in a hash set as a stand-in.
"""

from __future__ import annotations

import io
import random
from fractions import Fraction
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

STYLES = ("landscape", "shapes", "texture")


def _gradient(rng: random.Random, w: int, h: int) -> np.ndarray:
    top = np.array([rng.randint(40, 200) for _ in range(3)], np.float32)
    bottom = np.array([rng.randint(40, 255) for _ in range(3)], np.float32)
    t = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    return np.broadcast_to(top * (1 - t) + bottom * t, (h, w, 3)).copy()


def landscape(rng: random.Random, w: int, h: int) -> Image.Image:
    """Sky gradient, a sun, two mountain ridges and a textured ground."""
    img = Image.fromarray(_gradient(rng, w, h).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    r = rng.randint(h // 16, h // 7)
    cx, cy = rng.randint(r, w - r), rng.randint(r, h // 3)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(255, rng.randint(180, 240), 120))
    for layer in range(2):
        base = h * (0.45 + 0.15 * layer)
        pts: list[tuple[float, float]] = [(0, h)]
        for x in range(0, w + 40, 40):
            pts.append((x, base - rng.random() * h * 0.25))
        pts.append((w, h))
        shade = rng.randint(30, 110) + 40 * layer
        draw.polygon(pts, fill=(shade // 2, shade, shade // 2 + rng.randint(0, 40)))
    noise = np.random.default_rng(rng.getrandbits(32)).normal(0, 10, (h, w, 1))
    arr = np.clip(np.asarray(img, np.float32) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(arr)


def shapes(rng: random.Random, w: int, h: int) -> Image.Image:
    img = Image.fromarray(_gradient(rng, w, h).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(rng.randint(4, 12)):
        x0, y0 = rng.randint(0, w - 10), rng.randint(0, h - 10)
        x1, y1 = rng.randint(x0 + 5, w), rng.randint(y0 + 5, h)
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        if rng.random() < 0.5:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        else:
            draw.ellipse((x0, y0, x1, y1), fill=colour)
    return img


def texture(rng: random.Random, w: int, h: int) -> Image.Image:
    gen = np.random.default_rng(rng.getrandbits(32))
    small = gen.integers(0, 255, (max(2, h // 16), max(2, w // 16), 3), dtype=np.uint8)
    img = Image.fromarray(small).resize((w, h), Image.Resampling.BICUBIC)
    return img.filter(ImageFilter.GaussianBlur(1.5))


def picture(
    rng: random.Random, w: int = 640, h: int = 480, style: str | None = None
) -> Image.Image:
    style = style or rng.choice(STYLES)
    return {"landscape": landscape, "shapes": shapes, "texture": texture}[style](rng, w, h)


def jpeg_bytes(img: Image.Image, quality: int = 90, exif: bytes | None = None) -> bytes:
    buf = io.BytesIO()
    if exif:
        img.convert("RGB").save(buf, "JPEG", quality=quality, exif=exif)
    else:
        img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def camera_exif(
    make: str, model: str, serial: str, when: str, gps: tuple[float, float] | None = None
) -> bytes:
    """EXIF of a (fictitious) camera body: make, model, body serial, time, optional GPS."""
    import piexif

    def rational(value: float) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
        d = int(value)
        m = int((value - d) * 60)
        s = round(((value - d) * 60 - m) * 60 * 100)
        return ((d, 1), (m, 1), (s, 100))

    exif: dict[str, dict[int, object]] = {
        "0th": {piexif.ImageIFD.Make: make, piexif.ImageIFD.Model: model},
        "Exif": {
            piexif.ExifIFD.DateTimeOriginal: when,
            piexif.ExifIFD.BodySerialNumber: serial,
        },
        "GPS": {},
    }
    if gps:
        lat, lon = gps
        exif["GPS"] = {
            piexif.GPSIFD.GPSLatitudeRef: "N" if lat >= 0 else "S",
            piexif.GPSIFD.GPSLatitude: rational(abs(lat)),
            piexif.GPSIFD.GPSLongitudeRef: "E" if lon >= 0 else "W",
            piexif.GPSIFD.GPSLongitude: rational(abs(lon)),
        }
    return piexif.dump(exif)


# ---- near-copies --------------------------------------------------------------------


def resized(img: Image.Image, factor: float = 0.6) -> Image.Image:
    return img.resize((max(8, int(img.width * factor)), max(8, int(img.height * factor))))


def rotated(img: Image.Image, quarter_turns: int = 1) -> Image.Image:
    ops = {
        1: Image.Transpose.ROTATE_90,
        2: Image.Transpose.ROTATE_180,
        3: Image.Transpose.ROTATE_270,
    }
    return img.transpose(ops[quarter_turns % 4]) if quarter_turns % 4 else img.copy()


def mirrored(img: Image.Image) -> Image.Image:
    return img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)


# ---- video --------------------------------------------------------------------------


def video_bytes(
    rng: random.Random,
    seconds: int = 4,
    size: tuple[int, int] = (320, 240),
    fps: int = 10,
    bit_rate: int | None = None,
) -> bytes:
    """A short MP4 (MPEG-4 part 2): a landscape panning slowly, scene changes each 2 s;
    `bit_rate` (bits/s) where a camera's size of file matters (the ingest benchmark)."""
    import av

    w, h = size
    scenes = [landscape(rng, w * 2, h) for _ in range(max(1, seconds // 2 + 1))]
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        if bit_rate is not None:
            stream.bit_rate = bit_rate
        stream.time_base = Fraction(1, fps)
        for i in range(seconds * fps):
            scene = scenes[i // (2 * fps)]
            x = int((i % (2 * fps)) / (2 * fps) * w)
            frame = av.VideoFrame.from_image(scene.crop((x, 0, x + w, h)))
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def video_recut(
    data: bytes,
    start_s: float = 0.0,
    end_s: float | None = None,
    size: tuple[int, int] | None = None,
    bit_rate: int = 200_000,
) -> bytes:
    """A benign video decoded and encoded again (H.264): optionally cut to
    [start_s, end_s) and resized. New bytes; the same pictures, as a re-upload has."""
    import av

    with av.open(io.BytesIO(data), mode="r") as src:
        vin = src.streams.video[0]
        fps = int(vin.average_rate or 10)
        images = [
            f.to_image()
            for f in src.decode(vin)
            if f.time is None or (f.time >= start_s and (end_s is None or f.time < end_s))
        ]
    w, h = size or images[0].size
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.time_base = Fraction(1, fps)
        stream.bit_rate = bit_rate
        for i, image in enumerate(images):
            frame = av.VideoFrame.from_image(image.resize((w, h)) if size else image)
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def video_showing(
    rng: random.Random, picture: Image.Image, seconds: int = 10, fps: int = 2
) -> bytes:
    """A benign video whose middle seconds show `picture` still (the rest: a landscape)."""
    import av

    w, h = picture.size
    w, h = w - w % 2, h - h % 2
    scene = landscape(rng, w * 2, h)
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.time_base = Fraction(1, fps)
        for i in range(seconds * fps):
            t = i / fps
            if seconds / 3 <= t < 2 * seconds / 3:
                img = picture.crop((0, 0, w, h))
            else:
                x = int(i / (seconds * fps) * w)
                img = scene.crop((x, 0, x + w, h))
            frame = av.VideoFrame.from_image(img.convert("RGB"))
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return buf.getvalue()


def video_frame_jpeg(data: bytes, at_s: float) -> bytes:
    """The frame of a video shown at `at_s` seconds, saved as a JPEG picture."""
    import av

    with av.open(io.BytesIO(data), mode="r") as src:
        vin = src.streams.video[0]
        for f in src.decode(vin):
            if f.time is not None and f.time >= at_s:
                return jpeg_bytes(f.to_image(), 90)
    raise ValueError(f"the video is shorter than {at_s} s")


def video_cases(seed: int = 7, seconds: int = 60) -> dict[str, bytes]:
    """Benign media for the video matching rules: a known video (`known`, 60 s) and a known
    picture (`picture`, JPEG); copies that must match them (`excerpt`: 10 s of it,
    `reencoded`, `resized`, `frame`: one frame saved as a JPEG, `showing`: a video that
    shows the known picture); and `unrelated`, which must not."""
    rng = random.Random(seed)
    known = video_bytes(rng, seconds=seconds, size=(160, 120), fps=2)
    picture = landscape(rng, 160, 120)
    third = seconds // 3
    return {
        "known": known,
        "picture": jpeg_bytes(picture, 92),
        "excerpt": video_recut(known, third, third + 10),
        "reencoded": video_recut(known, bit_rate=60_000),
        "resized": video_recut(known, size=(240, 180)),
        "frame": video_frame_jpeg(known, seconds / 2),
        "showing": video_showing(rng, picture, seconds=12),
        "unrelated": video_bytes(random.Random(seed + 1000), seconds, (160, 120), 2),
    }


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
