"""Reported uploads (issue 16): who uploaded a reported file, from where and when.

A platform's law-enforcement report package names, for each reported file, the account that
uploaded it and the upload events (IP address, port, time). Ingesting the package keeps them
as rows linked to the file and its media, so the media page and the case report can say who
uploaded it, from which address, when. `time_given` is the time exactly as the platform wrote
it; `uploaded_at` is that instant in naive UTC, and NULL when the platform stated no time zone
(a local time of an unknown zone is not an instant: it is shown as given, flagged).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tantalio.store.base import Base
from tantalio.store.bulk import chunks
from tantalio.store.cases import Exhibit, File
from tantalio.store.ingest import path_key
from tantalio.store.types import Json


class ReportedUpload(Base):
    __tablename__ = "reported_upload"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exhibit_id: Mapped[int] = mapped_column(
        ForeignKey("exhibit.id", ondelete="CASCADE"), index=True
    )
    file_id: Mapped[int] = mapped_column(ForeignKey("file.id", ondelete="CASCADE"), index=True)
    media_id: Mapped[int | None] = mapped_column(
        ForeignKey("media.id", ondelete="SET NULL"), index=True, default=None
    )
    report_id: Mapped[str] = mapped_column(String(100))
    reporter: Mapped[str | None] = mapped_column(String(200), default=None)  # the platform
    service: Mapped[str | None] = mapped_column(String(200), default=None)
    account_id: Mapped[str] = mapped_column(String(255), index=True)
    # username, display_name, email, phone, profile_url, extra: as the package gives them
    account: Mapped[dict[str, Any] | None] = mapped_column(Json, default=None)
    ip: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    port: Mapped[int | None] = mapped_column(Integer, default=None)
    time_given: Mapped[str | None] = mapped_column(String(64), default=None)
    uploaded_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    source: Mapped[str | None] = mapped_column(Text, default=None)  # report.json: files[2]


@dataclass(frozen=True, slots=True)
class UploadFact:
    """One reported upload as pages and reports show it."""

    media_id: int | None
    path: str
    exhibit: str
    report_id: str
    reporter: str | None
    service: str | None
    account_id: str
    account: dict[str, Any]
    ip: str | None
    port: int | None
    time_given: str | None
    uploaded_at: datetime | None  # naive UTC; None when no zone was stated

    @property
    def zone_stated(self) -> bool:
        return self.uploaded_at is not None or not self.time_given


def record_uploads(session: Session, exhibit_id: int, rows: Sequence[dict[str, Any]]) -> int:
    """Store an exhibit's reported uploads once (a rerun adds nothing). Each row names its
    file by `path` (inside the exhibit); rows whose file is not stored are skipped."""
    if session.scalar(
        select(ReportedUpload.id).where(ReportedUpload.exhibit_id == exhibit_id).limit(1)
    ):
        return 0
    keys = {path_key(r["path"]): r["path"] for r in rows}
    files: dict[str, tuple[int, int | None]] = {}
    for batch in chunks(keys):
        q = select(File.path_key, File.id, File.media_id).where(
            File.exhibit_id == exhibit_id, File.path_key.in_(batch)
        )
        files.update((keys[k], (fid, mid)) for k, fid, mid in session.execute(q))
    added = 0
    for r in rows:
        hit = files.get(r["path"])
        if hit is None:
            continue
        fields = {k: v for k, v in r.items() if k != "path"}
        session.add(
            ReportedUpload(exhibit_id=exhibit_id, file_id=hit[0], media_id=hit[1], **fields)
        )
        added += 1
    session.flush()
    return added


def uploads_of_media(
    session: Session, media_ids: Iterable[int], case_ids: Iterable[int] | None = None
) -> dict[int, list[UploadFact]]:
    """Reported uploads of each media, earliest first (limited to `case_ids` when given)."""
    out: dict[int, list[UploadFact]] = {}
    cases = None if case_ids is None else sorted(set(case_ids))
    for batch in chunks(sorted(set(media_ids))):
        q = (
            select(ReportedUpload, File.path, Exhibit.label)
            .join(File, File.id == ReportedUpload.file_id)
            .join(Exhibit, Exhibit.id == ReportedUpload.exhibit_id)
            .where(ReportedUpload.media_id.in_(batch))
        )
        if cases is not None:
            q = q.where(Exhibit.case_id.in_(cases))
        for up, path, label in session.execute(q):
            if up.media_id is not None:
                out.setdefault(up.media_id, []).append(_fact(up, path, label))
    for facts in out.values():
        facts.sort(key=lambda f: (f.uploaded_at is None, f.uploaded_at or datetime.min))
    return out


def _fact(up: ReportedUpload, path: str, label: str) -> UploadFact:
    return UploadFact(
        media_id=up.media_id,
        path=path,
        exhibit=label,
        report_id=up.report_id,
        reporter=up.reporter,
        service=up.service,
        account_id=up.account_id,
        account=dict(up.account or {}),
        ip=up.ip,
        port=up.port,
        time_given=up.time_given,
        uploaded_at=up.uploaded_at,
    )
