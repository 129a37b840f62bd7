"""Classifier scores of media (issue 16): one row per media, classifier and label.

A score is stored with its classifier's name and version; when a classifier's version
changes its older scores are replaced on the next run. The bonus that feeds the ranking of
new media is the sum of a media's score bonuses, each classifier's bounded on its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text, delete, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tantalio.store.base import Base
from tantalio.store.bulk import chunks
from tantalio.store.cases import Exhibit, File
from tantalio.store.media import Media
from tantalio.store.timeutil import utcnow


class MediaScore(Base):
    __tablename__ = "media_score"
    __table_args__ = (Index("ix_media_score_media", "media_id", "classifier"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"))
    classifier: Mapped[str] = mapped_column(String(100))
    version: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(100))
    score: Mapped[float] = mapped_column(Float)
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


@dataclass(frozen=True, slots=True)
class ScoreRow:
    media_id: int
    classifier: str
    version: str
    label: str
    score: float
    priority: float
    reason: str | None


def media_to_classify(
    session: Session, case_id: int | None, classifier: str, version: str, rerun: bool = False
) -> list[Media]:
    """Media of a case (or of the workspace) without a score of this classifier version."""
    q = select(Media).order_by(Media.id)
    if case_id is not None:
        in_case = (
            select(File.media_id)
            .join(Exhibit, Exhibit.id == File.exhibit_id)
            .where(Exhibit.case_id == case_id, File.media_id.is_not(None))
        )
        q = q.where(Media.id.in_(in_case))
    if not rerun:
        done = select(MediaScore.media_id).where(
            MediaScore.classifier == classifier, MediaScore.version == version
        )
        q = q.where(Media.id.not_in(done))
    return list(session.scalars(q))


def replace_scores(
    session: Session, classifier: str, media_id: int, rows: Sequence[ScoreRow]
) -> None:
    session.execute(
        delete(MediaScore).where(
            MediaScore.media_id == media_id, MediaScore.classifier == classifier
        )
    )
    session.add_all(
        MediaScore(
            media_id=r.media_id,
            classifier=r.classifier,
            version=r.version,
            label=r.label,
            score=r.score,
            priority=r.priority,
            reason=r.reason,
        )
        for r in rows
    )


def scores_of(session: Session, media_ids: Iterable[int]) -> dict[int, list[ScoreRow]]:
    out: dict[int, list[ScoreRow]] = defaultdict(list)
    for batch in chunks(media_ids):
        q = (
            select(MediaScore)
            .where(MediaScore.media_id.in_(batch))
            .order_by(MediaScore.media_id, MediaScore.classifier, MediaScore.id)
        )
        for s in session.scalars(q):
            out[s.media_id].append(
                ScoreRow(
                    s.media_id, s.classifier, s.version, s.label, s.score, s.priority, s.reason
                )
            )
    return dict(out)
