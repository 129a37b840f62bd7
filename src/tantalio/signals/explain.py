"""A match's `transform` in words, for the media page (issue 13): an examiner reads how a
copy relates to the reference without decoding JSON."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

KINDS = {
    "md5": "same file (MD5)",
    "sha1": "same file (SHA-1)",
    "sha256": "same file (SHA-256)",
    "pdq": "similar picture (PDQ)",
    "vpdq": "similar video (vPDQ)",
    "pdq-trimmed": "picture inside a frame (trimmed PDQ)",
    "local-features": "part of the picture (local features)",
}


def _box(box: Sequence[int] | None) -> str | None:
    if not box or len(box) != 4:
        return None
    x0, y0, x1, y1 = (int(v) for v in box)
    return f"{x1 - x0}×{y1 - y0} px at ({x0}, {y0})"


def describe(kind: str | None, transform: Mapping[str, Any] | None) -> str:
    """One sentence: how the match was found and what the copy did to the reference."""
    words = [KINDS.get(kind or "", kind or "")]
    t = transform or {}
    if t.get("model") == "trim":
        where = _box(t.get("query_box"))
        if where:
            words.append(f"the picture is the {where} of this file, the rest is frame")
    elif t:
        crop = _box(t.get("crop_box"))
        if crop:
            words.append(f"shows the reference's {crop}")
        scale = t.get("scale")
        if isinstance(scale, (int, float)) and abs(scale - 1) >= 0.02:
            words.append(f"scaled ×{scale:.2f}")
    rotation = t.get("rotation_deg")
    if isinstance(rotation, (int, float)) and abs(rotation) >= 0.5:
        words.append(f"rotated {rotation:.1f}°")
    if t.get("flip"):
        words.append("mirrored")
    if isinstance(t.get("inliers"), int):
        words.append(f"{t['inliers']} keypoints agree")
    p = t.get("false_match_probability")
    if isinstance(p, (int, float)):
        words.append(f"chance of a false match {p:.1e}")
    return "; ".join(w for w in words if w)
