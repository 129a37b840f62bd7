"""The matched region of a copy found by `local-features` or `pdq-trimmed` (issue 13), as the
media page draws it: the case media's thumbnail and the reference's side by side, each with
an outline of the part that matched, in the picture's own pixels (an SVG viewBox of the
file's size, so the outline sits on the blurred thumbnail at any display size).

- On the case media: where the reference lies (`query_box`), drawn as the reference's part
  (`crop_box`) at the transform's scale, turned by its rotation about that box's centre
  (a small rotation shows as a tilted outline); a trimmed-PDQ match outlines the picture
  inside its frame.
- On the reference: the part the case media shows (`crop_box`); the whole picture for a
  trimmed-PDQ match.

The reference's picture exists when the reference file is in the workspace: a set created
from a folder (`hashset create --from`, which keeps a thumbnail of each file) or media of
an earlier case with the same SHA-256. A hash-only entry has no picture; the page says so.
Both thumbnails are served blurred and grayscale per the user's settings, as every
thumbnail is (the reference has no reveal).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tantalio.triage import thumbs

DRAWN = ("local-features", "pdq-trimmed")


def reference_thumbnail(workspace_dir: Path | None, ref: dict[str, Any]) -> str | None:
    """Workspace-relative path of the reference's clear thumbnail, or None."""
    if workspace_dir is None or not ref.get("sha256"):
        return None
    media = ref.get("media") or {}
    for rel in (media.get("thumbnail"), thumbs.relative_path(ref["sha256"])):
        if rel and (workspace_dir / rel).is_file():
            return str(rel)
    return None


def _reference_size(ref: dict[str, Any]) -> tuple[int, int] | None:
    media = ref.get("media") or {}
    if media.get("width") and media.get("height"):
        return int(media["width"]), int(media["height"])
    if ref.get("features"):
        from tantalio.localfeat.record import decode
        from tantalio.signals.base import SignalError

        try:
            f = decode(ref["features"])
        except SignalError:
            return None
        return f.width, f.height
    return None


def _box(raw: Any, w: int, h: int) -> list[float] | None:
    if not isinstance(raw, list | tuple) or len(raw) != 4:
        return None
    try:
        x0, y0, x1, y1 = (float(v) for v in raw)
    except (TypeError, ValueError):
        return None
    x0, y0, x1, y1 = max(0.0, x0), max(0.0, y0), min(float(w), x1), min(float(h), y1)
    return [x0, y0, x1, y1] if x1 > x0 and y1 > y0 else None


def _outline_on_query(
    t: dict[str, Any], crop: list[float] | None, qbox: list[float]
) -> dict[str, float]:
    """The reference's matched part as it lies in the case media: a rectangle of the crop's
    size times the scale, centred on `query_box`, turned by the rotation (SVG turns
    clockwise, the transform's rotation is counter-clockwise, as PIL's `rotate`)."""
    cx, cy = (qbox[0] + qbox[2]) / 2, (qbox[1] + qbox[3]) / 2
    scale = t.get("scale")
    rot = float(t.get("rotation_deg") or 0.0) if t.get("model") == "similarity" else 0.0
    if crop is not None and isinstance(scale, int | float) and scale > 0 and abs(rot) >= 0.5:
        w, h = (crop[2] - crop[0]) * scale, (crop[3] - crop[1]) * scale
    else:
        w, h, rot = qbox[2] - qbox[0], qbox[3] - qbox[1], 0.0
    return {"x": cx - w / 2, "y": cy - h / 2, "w": w, "h": h, "cx": cx, "cy": cy,
            "rotate": round(-rot, 2)}  # fmt: skip


def regions(
    media: dict[str, Any],
    matches: list[dict[str, Any]],
    refs: dict[int, dict[str, Any]],
    workspace_dir: Path | None,
) -> list[dict[str, Any]]:
    """One drawing per match by local features or trimmed PDQ that has a transform."""
    qw, qh = media.get("width"), media.get("height")
    if media.get("kind") != "image" or not qw or not qh:
        return []
    out: list[dict[str, Any]] = []
    for x in matches:
        kind = next((a for a in x["algorithms"] if a in DRAWN), None)
        t = x.get("transform")
        if kind is None or not isinstance(t, dict):
            continue
        ref = refs.get(x["entry_id"], {})
        qbox = _box(t.get("query_box"), qw, qh) or [0.0, 0.0, float(qw), float(qh)]
        size = _reference_size(ref)
        picture = reference_thumbnail(workspace_dir, ref) if size else None
        crop = _box(t.get("crop_box"), *size) if size else None
        reference: dict[str, Any] = {"pictured": picture is not None}
        if size and picture:
            rw, rh = size
            box = crop or [0.0, 0.0, float(rw), float(rh)]
            reference |= {"w": rw, "h": rh,
                          "box": {"x": box[0], "y": box[1], "w": box[2] - box[0],
                                  "h": box[3] - box[1]}}  # fmt: skip
        out.append(
            {
                "entry_id": x["entry_id"],
                "hash_set": x["hash_set"],
                "algorithm": kind,
                "how": x["how"],
                "query": {"w": qw, "h": qh, "outline": _outline_on_query(t, crop, qbox)},
                "reference": reference,
            }
        )
    return out
