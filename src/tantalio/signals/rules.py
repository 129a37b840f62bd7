"""`MatchRules`: when a signal matches. One set of defaults, here and nowhere else.

A workspace reads its rules from `workspace.json` (`"match_rules": {...}`), the platform
from `PlatformConfig.rules` (with each bank's own PDQ threshold on top). Every matcher in
tantalio takes a `MatchRules`; no threshold is written anywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from tantalio.signals.vpdq import Shares

# python-threatexchange / HMA defaults: PDQ distance 31 and quality 50; vPDQ frame distance
# 31 and a query share of 80 %.
DEFAULT_PDQ_THRESHOLD = 31
DEFAULT_MIN_QUALITY = 50
DEFAULT_VPDQ_SHARE = 0.8
# Local features (issue 13): the operating point of docs/decisions/local-features.md.
DEFAULT_LOCAL_MIN_INLIERS = 24

RULE_EXACT = "exact"
RULE_PDQ = "pdq"
RULE_VPDQ_QUERY = "vpdq-query-share"
RULE_VPDQ_INDEX = "vpdq-index-share"
RULE_FRAME_IN_IMAGE = "video-frame-pdq"  # a video's frame near a known picture
RULE_IMAGE_IN_VIDEO = "pdq-video-frame"  # a picture near a frame of a known video
RULE_PDQ_TRIMMED = "pdq-trimmed"  # the picture inside a frame (borders, screenshot) near a PDQ
RULE_LOCAL = "local-features"  # keypoints verified on one similarity (crop, overlay, rotation)
RULES = (
    RULE_EXACT,
    RULE_PDQ,
    RULE_VPDQ_QUERY,
    RULE_VPDQ_INDEX,
    RULE_FRAME_IN_IMAGE,
    RULE_IMAGE_IN_VIDEO,
    RULE_PDQ_TRIMMED,
    RULE_LOCAL,
)


class RulesError(ValueError):
    """Match rules that cannot be used (the message names the field)."""


@dataclass(frozen=True, slots=True)
class MatchRules:
    """Thresholds and switches of matching.

    `vpdq_query_share` / `vpdq_index_share`: a video matches a reference video when the
    share of the query's unique frames matched reaches the first, or the share of the
    reference's unique frames matched reaches the second; None turns that side off
    (`vpdq_index_share=None` is threatexchange's own rule: query share >= 80 %, index share
    >= 0 %). `frames_vs_images`: a video's frames are also compared with picture hashes,
    and pictures with the frames of known videos, both ways. `local_features`: pictures are
    also matched by local features where the caller's indexes hold them, a match needing
    `local_min_inliers` verified keypoint pairs (issue 13).
    """

    pdq_threshold: int = DEFAULT_PDQ_THRESHOLD
    min_quality: int = DEFAULT_MIN_QUALITY
    orientations: bool = True
    vpdq_frame_distance: int = DEFAULT_PDQ_THRESHOLD
    vpdq_query_share: float | None = DEFAULT_VPDQ_SHARE
    vpdq_index_share: float | None = DEFAULT_VPDQ_SHARE
    frames_vs_images: bool = True
    local_features: bool = True
    local_min_inliers: int = DEFAULT_LOCAL_MIN_INLIERS

    def __post_init__(self) -> None:
        for name in ("pdq_threshold", "vpdq_frame_distance"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 128:
                raise RulesError(f"match rule {name} must be an integer 0..128")
        q = self.min_quality
        if isinstance(q, bool) or not isinstance(q, int) or not 0 <= q <= 100:
            raise RulesError("match rule min_quality must be an integer 0..100")
        for name in ("vpdq_query_share", "vpdq_index_share"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not 0.0 < float(v) <= 1.0):
                raise RulesError(f"match rule {name} must be in (0, 1] or null")
        m = self.local_min_inliers
        if isinstance(m, bool) or not isinstance(m, int) or not 3 <= m <= 64:
            raise RulesError("match rule local_min_inliers must be an integer 3..64")
        for name in ("orientations", "frames_vs_images", "local_features"):
            if not isinstance(getattr(self, name), bool):
                raise RulesError(f"match rule {name} must be true or false")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None) -> MatchRules:
        """Rules from a JSON object; unknown keys are an error (a typo must not pass)."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RulesError(f"unknown match rule(s): {', '.join(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def overridden(self, data: Mapping[str, Any] | None) -> MatchRules:
        """A copy with the keys of `data` set, None included (a bank's own rules over the
        server's: `{"vpdq_index_share": null}` turns that side off); unknown keys are an
        error."""
        if not data:
            return self
        known = {f.name for f in fields(self)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RulesError(f"unknown match rule(s): {', '.join(unknown)}")
        return replace(self, **data)

    def with_(self, **changes: Any) -> MatchRules:
        """A copy with some values changed (None values are ignored)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})

    @property
    def radius(self) -> int:
        """The widest Hamming radius any rule needs (index searches use it)."""
        return max(self.pdq_threshold, self.vpdq_frame_distance)

    def pdq_ok(self, quality: int | None) -> bool:
        """The quality gate: an unknown quality passes (hash lists rarely carry it)."""
        return quality is None or quality >= self.min_quality

    def vpdq_verdict(self, s: Shares) -> str | None:
        """Which vPDQ rule a pair of shares fires, or None."""
        if self.vpdq_query_share is not None and s.query_share >= self.vpdq_query_share:
            return RULE_VPDQ_QUERY
        if self.vpdq_index_share is not None and s.index_share >= self.vpdq_index_share:
            return RULE_VPDQ_INDEX
        return None


DEFAULT_RULES = MatchRules()
