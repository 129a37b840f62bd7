"""`media-kind`: camera photo, screenshot, or document/graphic — from EXIF, dimensions and
colour statistics of the thumbnail.

Why it helps: victim identification works from originals. A camera photo (EXIF make/model)
is likelier an original than a screenshot of a chat or a page; a document or graphic
(few colours, flat areas) is rarely what an examiner must see first. The rules are plain and
explainable; every score says which facts it came from.
"""

from __future__ import annotations

from tantalio.classify.base import MediaInput, Score

# Portrait and landscape screen sizes of common phones, tablets and desktops (pixels).
SCREEN_SIZES = {
    (720, 1280), (750, 1334), (828, 1792), (1080, 1920), (1080, 2340), (1080, 2400),
    (1125, 2436), (1170, 2532), (1179, 2556), (1242, 2208), (1242, 2688), (1284, 2778),
    (1290, 2796), (1440, 2560), (1440, 3040), (1440, 3200), (1536, 2048), (1620, 2160),
    (1668, 2388), (2048, 2732), (1366, 768), (1280, 800), (1440, 900), (1536, 864),
    (1600, 900), (1680, 1050), (1920, 1080), (1920, 1200), (2560, 1440), (2560, 1600),
    (2880, 1800), (3840, 2160),
}  # fmt: skip
SCREENSHOT_WORDS = ("screenshot", "screen shot", "captura", "capture", "bildschirmfoto")


def _is_screen_size(w: int | None, h: int | None) -> bool:
    if not w or not h:
        return False
    return (w, h) in SCREEN_SIZES or (h, w) in SCREEN_SIZES


def _colour_stats(item: MediaInput) -> tuple[int, float, float] | None:
    """(distinct colours at 5 bits per channel, share of the most common colour, share of
    near-white pixels) of the thumbnail."""
    if item.thumbnail is None:
        return None
    import numpy as np

    rgb = np.asarray(item.thumbnail.convert("RGB").resize((96, 96)), dtype=np.uint8)
    quant = (rgb >> 3).reshape(-1, 3).astype(np.int32)
    codes = quant[:, 0] << 10 | quant[:, 1] << 5 | quant[:, 2]
    _, counts = np.unique(codes, return_counts=True)
    white = float(np.mean(rgb.min(axis=2) >= 235))
    return len(counts), float(counts.max() / codes.size), white


class MediaKind:
    """Camera photo, screenshot or document/graphic, from EXIF, dimensions and colours."""

    name = "media-kind"
    version = "1"

    def classify(self, item: MediaInput) -> list[Score]:
        if item.kind != "image":
            return []
        software = (item.software or "").lower()
        if any(w in software for w in SCREENSHOT_WORDS):
            return [Score("screenshot", 0.95, -0.5, f"EXIF software {item.software!r}")]
        if item.make or item.model:
            camera = " ".join(x for x in (item.make, item.model) if x)
            return [Score("camera-photo", 0.9, 0.5, f"camera EXIF ({camera})")]
        stats = _colour_stats(item)
        if stats is not None:
            colours, top, white = stats
            if colours < 64 or top > 0.5 or white > 0.6:
                reason = f"{colours} colours, {top:.0%} one colour, {white:.0%} near-white"
                return [Score("document-graphic", 0.8, -1.0, reason)]
        if _is_screen_size(item.width, item.height) and item.type == "png":
            return [
                Score("screenshot", 0.7, -0.5, f"PNG at screen size {item.width}×{item.height}")
            ]
        if _is_screen_size(item.width, item.height):
            return [Score("screenshot", 0.5, -0.25, f"screen size {item.width}×{item.height}")]
        return [Score("photo-no-exif", 0.5, 0.0, "photographic colours, no camera EXIF")]


CLASSIFIER = MediaKind()
