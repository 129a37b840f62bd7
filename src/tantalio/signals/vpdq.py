"""vPDQ: a video as the PDQ hashes of its frames (one a second), as HMA and
python-threatexchange define it.

Frames are compared one by one within the frame distance; both sides are first reduced to
their unique frame hashes of sufficient quality. Two shares describe a comparison:
- query share: the fraction of the query video's unique frames that match some frame of the
  reference (threatexchange's `query_match_percent`);
- index share: the fraction of the reference's unique frames that match some frame of the
  query (threatexchange's `compared_match_percent`).
`MatchRules.vpdq_verdict` says whether the shares make a match (docs/decisions/signals.md).

Text forms: the canonical value is a comma-separated list of frame PDQs; frames given as
HMA cells `pdq,quality,timestamp` (a JSON list or `;`-separated) are accepted too, and
frames whose quality is known and below the gate are dropped when matching.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from tantalio.signals.base import IndexKind, SignalError, SignalType, check_hex
from tantalio.signals.pdq import hamming

if TYPE_CHECKING:
    from tantalio.fingerprint.record import Fingerprint


@dataclass(frozen=True, slots=True)
class Frame:
    pdq: str
    quality: int | None = None
    timestamp: float | None = None


def parse_frame(value: object) -> Frame:
    """One frame: a bare PDQ, `pdq,quality,timestamp` (HMA), or [pdq, quality, t]."""
    if isinstance(value, (list, tuple)):
        parts = [str(p) for p in value]
    elif isinstance(value, str):
        parts = [p.strip() for p in value.split(",")]
    else:
        raise SignalError("vpdq frame must be a string 'pdq[,quality,timestamp]'")
    if not parts or len(parts) > 3:
        raise SignalError("vpdq frame must be 'pdq[,quality,timestamp]'")
    pdq = check_hex("vpdq frame", parts[0], 64)
    quality = timestamp = None
    try:
        if len(parts) >= 2 and parts[1] != "":
            quality = int(float(parts[1]))
        if len(parts) == 3 and parts[2] != "":
            timestamp = float(parts[2])
    except ValueError:
        raise SignalError("vpdq frame quality/timestamp are not numbers") from None
    if quality is not None and not 0 <= quality <= 100:
        raise SignalError("vpdq frame quality is outside 0..100")
    return Frame(pdq, quality, timestamp)


def parse_frames(value: str | Sequence[Any]) -> list[Frame]:
    """Frames of a vPDQ signal in any accepted text form; raises `SignalError`."""
    items: Sequence[Any]
    if isinstance(value, str):
        v = value.strip()
        if v.startswith("["):
            try:
                items = json.loads(v)
            except ValueError:
                raise SignalError("vpdq signal is not a JSON list of frames") from None
            if not isinstance(items, list):
                raise SignalError("vpdq signal is not a JSON list of frames")
        elif ";" in v or "\n" in v:
            items = [p for p in v.replace("\n", ";").split(";") if p.strip()]
        else:
            cells = [p.strip() for p in v.split(",") if p.strip()]
            # "pdq,pdq,..." (canonical) or one HMA frame "pdq,quality,timestamp"
            items = [v] if len(cells) >= 2 and len(cells[1]) < 64 else cells
    else:
        items = value
    frames = [parse_frame(f) for f in items]
    if not frames:
        raise SignalError("vpdq signal has no frames")
    return frames


def unique_pdqs(frames: Iterable[Frame | str | Sequence[Any]], min_quality: int) -> list[str]:
    """Unique frame PDQs in order, frames of known quality below `min_quality` left out."""
    out: dict[str, None] = {}
    for f in frames:
        frame = f if isinstance(f, Frame) else parse_frame(f)
        if frame.quality is not None and frame.quality < min_quality:
            continue
        out.setdefault(frame.pdq, None)
    return list(out)


@dataclass(frozen=True, slots=True)
class Shares:
    """One query video against one reference video."""

    query_share: float  # query's unique frames matched / query's unique frames
    index_share: float  # reference's unique frames matched / reference's unique frames
    distance: int  # mean distance of the matched query frames (rounded)


def shares(query_total: int, reference_total: int, closest: dict[tuple[int, int], int]) -> Shares:
    """From the closest distance per matched (query frame, reference frame) pair."""
    q: dict[int, int] = {}
    r: set[int] = set()
    for (qi, ri), d in closest.items():
        q[qi] = min(d, q.get(qi, d))
        r.add(ri)
    if not q or not query_total or not reference_total:
        return Shares(0.0, 0.0, 0)
    return Shares(len(q) / query_total, len(r) / reference_total, round(sum(q.values()) / len(q)))


class Vpdq(SignalType):
    name = "vpdq"
    description = "vPDQ video hash: frame PDQs ('pdq,pdq,...' or HMA's pdq,quality,timestamp)"
    index: ClassVar[IndexKind] = "frames"

    def normalize(self, value: str) -> str:
        return ",".join(f.pdq for f in parse_frames(value))

    def from_fingerprint(self, fp: Fingerprint) -> str | None:
        return ",".join(f.pdq for f in fp.frames) if fp.frames else None

    def distance(self, a: str, b: str) -> int:
        """Mean distance from each frame of `a` to the closest frame of `b`."""
        fa, fb = a.split(","), b.split(",")
        return round(sum(min(hamming(x, y) for y in fb) for x in fa) / len(fa))


SIGNAL_TYPES = (Vpdq(),)
