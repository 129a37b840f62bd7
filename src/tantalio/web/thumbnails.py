"""Safe viewing: each user's blurred/grayscale variant of a media's thumbnail.

Ingest writes one clear 256 px thumbnail per media (`tantalio.triage.thumbs`; a 2 x 3
contact sheet of keyframes for videos). The browser never receives that clear image unless
the user reveals the item (an audited click): the grid and detail pages get a variant with
the user's blur radius and grayscale baked into the pixels, so switching off CSS or saving
the image shows nothing more. Variants are cached under the web cache directory, keyed by
media and setting; a missing thumbnail is made lazily when the file's bytes are reachable
on disk (a folder exhibit), else a neutral placeholder is served.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from PIL import Image, ImageFilter, ImageOps

from tantalio.triage import thumbs

PLACEHOLDER_SIZE = 256


def variant_path(cache_dir: Path, sha256: str, blur: int, grayscale: bool) -> Path:
    return cache_dir / "v" / sha256[:2] / f"{sha256}.b{blur}{'g' if grayscale else 'c'}.jpg"


def make_variant(clear: bytes, blur: int, grayscale: bool) -> bytes:
    """Blur and grayscale baked into the pixels (blur radius in px of the 256 px thumbnail)."""
    with Image.open(io.BytesIO(clear)) as src:
        im = src.convert("RGB")
    if grayscale:
        im = ImageOps.grayscale(im)
    if blur > 0:
        # Blur at reduced size, then scale back: the same look, a fraction of the work.
        factor = 4 if blur >= 8 else 2 if blur >= 4 else 1
        small = im.reduce(factor) if factor > 1 else im
        small = small.filter(ImageFilter.GaussianBlur(blur / factor))
        im = small.resize(im.size, Image.Resampling.BILINEAR) if factor > 1 else small
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=70)
    return buf.getvalue()


def placeholder(kind: str) -> bytes:
    """A flat tile for media without a thumbnail (undecodable, or bytes not on disk)."""
    im = Image.new(
        "RGB",
        (PLACEHOLDER_SIZE, PLACEHOLDER_SIZE),
        (52, 58, 66) if kind == "video" else (44, 50, 56),
    )
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=60)
    return buf.getvalue()


def clear_thumbnail(workspace_dir: Path | None, sha256: str, stored: str | None) -> bytes | None:
    """The clear thumbnail bytes ingest stored, or None."""
    if workspace_dir is None or not stored:
        return None
    path = (workspace_dir / stored).resolve()
    if workspace_dir.resolve() not in path.parents or not path.is_file():
        return None
    return path.read_bytes()


def lazy_thumbnail(
    workspace_dir: Path | None,
    sha256: str,
    kind: str,
    source_files: list[Path],
    keyframes: list[float] | None,
) -> str | None:
    """Make and store a thumbnail from the first readable file on disk; its relative path."""
    if workspace_dir is None:
        return None
    for path in source_files:
        if not path.is_file() or not os.access(path, os.R_OK):
            continue
        if kind == "video":
            data = thumbs.video_thumbnail(str(path), keyframes)
        else:
            data = thumbs.image_thumbnail(path.read_bytes())
        if data:
            return thumbs.save(workspace_dir, sha256, data)
    return None


def cached_variant(cache_dir: Path, sha256: str, clear: bytes, blur: int, grayscale: bool) -> bytes:
    target = variant_path(cache_dir, sha256, blur, grayscale)
    if target.is_file():
        return target.read_bytes()
    data = make_variant(clear, blur, grayscale)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.{id(data)}.tmp")
    tmp.write_bytes(data)
    tmp.replace(target)
    return data
