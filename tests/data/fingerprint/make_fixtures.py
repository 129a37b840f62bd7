"""Regenerate the fingerprint test fixtures (synthetic, benign: gradients, shapes, noise).

    .venv/bin/python tests/data/fingerprint/make_fixtures.py

Writes small images in each supported format, a JPEG with a piexif-written EXIF block
(synthetic camera serial and GPS), a 3 s H.264 clip of a moving gradient, and
known_answers.json: size, hashes and the PDQ that the *reference* computes — threatexchange's
PdqSignal path (`pdq_from_bytes`, i.e. `pdqhash` on Pillow's full RGB decode) for RGB/gray
files, and `pdqhash` on the RGB conversion for palette GIFs. The committed files are the
truth; rerunning with another libjpeg may change the JPEG bytes (and then the answers).
"""

from __future__ import annotations

import hashlib
import io
import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import piexif
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent


def photo(width: int, height: int, seed: int) -> Image.Image:
    """A benign photo-like picture: smooth colour waves, a few shapes, sensor-like noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.zeros((height, width, 3), np.float32)
    for c in range(3):
        a, b, p = rng.uniform(-1, 1, 3)
        img[..., c] = 128 + 70 * np.sin(x / width * np.pi * (1 + 2 * a) + p) * np.cos(
            y / height * np.pi * (1 + 2 * b)
        )
    im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(im)
    for _ in range(8):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(max(2, min(width, height) // 16), max(3, min(width, height) // 4)))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse([x0 - r, y0 - r, x0 + r, y0 + r], fill=fill)
        else:
            draw.rectangle([x0 - r, y0 - r // 2, x0 + r, y0 + r // 2], fill=fill)
    arr = np.asarray(im).astype(np.int16) + rng.normal(0, 4, (height, width, 1)).astype(np.int16)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def exif_block() -> bytes:
    def dms(value: float) -> tuple[tuple[int, int], ...]:
        deg = int(value)
        minutes = int((value - deg) * 60)
        sec = Fraction((value - deg - minutes / 60) * 3600).limit_denominator(1000)
        return ((deg, 1), (minutes, 1), (sec.numerator, sec.denominator))

    return piexif.dump(
        {
            "0th": {
                piexif.ImageIFD.Make: b"ACME Optics",
                piexif.ImageIFD.Model: b"Benchcam 7",
                piexif.ImageIFD.Software: b"benchcam-fw 1.2.3",
                piexif.ImageIFD.Orientation: 6,
            },
            "Exif": {
                piexif.ExifIFD.DateTimeOriginal: b"2021:05:03 14:22:01",
                piexif.ExifIFD.OffsetTimeOriginal: b"+02:00",
                piexif.ExifIFD.BodySerialNumber: b"TST-000123",
                piexif.ExifIFD.LensModel: b"ACME 35mm f/2",
            },
            "GPS": {
                piexif.GPSIFD.GPSLatitudeRef: b"S",
                piexif.GPSIFD.GPSLatitude: dms(33.8568),
                piexif.GPSIFD.GPSLongitudeRef: b"E",
                piexif.GPSIFD.GPSLongitude: dms(151.2153),
            },
        }
    )


def clip(path: Path, seconds: int = 3, fps: int = 10) -> None:
    """A moving gradient with a travelling square: distinct content every second."""
    import av

    w, h = 96, 64
    with av.open(str(path), "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": "23", "preset": "veryfast", "g": str(fps * 2)}
        y, x = np.mgrid[0:h, 0:w]
        for i in range(seconds * fps):
            t = i / fps
            frame = np.zeros((h, w, 3), np.uint8)
            frame[..., 0] = (x * 2 + i * 9) % 256
            frame[..., 1] = (y * 3 + int(t) * 60) % 256
            frame[..., 2] = 255 - (x + y + i * 5) % 256
            sx = int((w - 20) * (t / seconds))
            frame[20:40, sx : sx + 20] = (250, 250, 30) if int(t) % 2 else (20, 20, 200)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def reference_pdq(data: bytes) -> tuple[str, int]:
    from threatexchange.signal_type.pdq.pdq_hasher import _pdq_from_numpy_array, pdq_from_bytes

    with Image.open(io.BytesIO(data)) as im:
        if im.mode in ("P", "PA", "RGBA", "CMYK"):
            return _pdq_from_numpy_array(np.asarray(im.convert("RGB")))
    return pdq_from_bytes(data)


def main() -> None:
    base = photo(320, 240, seed=7)
    files: dict[str, bytes] = {}

    def save(name: str, im: Image.Image, fmt: str, **kw: object) -> None:
        buf = io.BytesIO()
        im.save(buf, fmt, **kw)
        files[name] = buf.getvalue()

    save("photo.jpg", base, "JPEG", quality=90)
    save("exif.jpg", photo(160, 120, seed=11), "JPEG", quality=88, exif=exif_block())
    save("photo.png", base, "PNG")
    save("gray.png", base.convert("L"), "PNG")
    save("photo.bmp", base.resize((96, 72)), "BMP")
    save("photo.webp", base.resize((96, 72)), "WEBP", lossless=True)
    save("photo.tiff", base.resize((96, 72)), "TIFF")
    frames = [photo(80, 60, seed=s).convert("P", palette=Image.Palette.ADAPTIVE) for s in (1, 2, 3)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    files["anim.gif"] = buf.getvalue()
    answers: dict[str, dict[str, object]] = {}
    for name, data in sorted(files.items()):
        (HERE / name).write_bytes(data)
        pdq, quality = reference_pdq(data)
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
        answers[name] = {
            "size": len(data),
            "md5": hashlib.md5(data).hexdigest(),
            "sha1": hashlib.sha1(data).hexdigest(),
            "sha256": hashlib.sha256(data).hexdigest(),
            "width": width,
            "height": height,
            "pdq": pdq,
            "pdq_quality": quality,
        }
    clip(HERE / "clip.mp4")
    data = (HERE / "clip.mp4").read_bytes()
    answers["clip.mp4"] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    (HERE / "known_answers.json").write_text(json.dumps(answers, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
