"""What a classifier receives and returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PIL.Image import Image

MAX_BONUS = 2.0  # a classifier moves a file by at most this many priority points


@dataclass(frozen=True, slots=True)
class MediaInput:
    """A media as the workspace holds it. `thumbnail` is the stored 256 px colour
    thumbnail (None when there is none: a file that could not be decoded)."""

    media_id: int
    sha256: str
    kind: str  # image / video / other
    type: str  # jpeg, png, mp4, ...
    width: int | None
    height: int | None
    make: str | None
    model: str | None
    software: str | None
    datetime_original: str | None
    has_gps: bool
    thumbnail: Image | None


@dataclass(frozen=True, slots=True)
class Score:
    """One labelled score. `priority` (bounded to ±MAX_BONUS when applied) is added to the
    ranking of new media; `reason` is shown to the examiner beside the label."""

    label: str
    score: float  # 0..1, the classifier's confidence in `label`
    priority: float = 0.0
    reason: str = ""


class Classifier(Protocol):
    """A plug-in: `name` and `version` name the source of every score it gives; bump the
    version when its output changes, so stored scores are recomputed."""

    name: str
    version: str

    def classify(self, item: MediaInput) -> list[Score]: ...


class ClassifierError(RuntimeError):
    """A classifier that cannot be loaded or that returned something unusable."""
