"""Subscriptions to signed list deltas (issue #11), verdict-change notices, and the queries
that apply a delta to a subscribed hash set.

A subscription ties one hash set of the workspace to a list at a source (an exchange URL or a
folder of delta files), pins the issuer's public key at subscribe time, and records where in
the list's chain the workspace is (`last_seq`, `last_digest`). A pulled delta is applied and
the state advanced in one transaction, so a crash between two deltas leaves the workspace at
a delta boundary and the next pull resumes from there.

`CaseNotice` rows are what the examiner is told when something outside the case changed its
verdicts (a pulled delta, an exchange sync): the dashboard lists unseen ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, delete, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tantalio.store.base import Base
from tantalio.store.bulk import chunks
from tantalio.store.cases import Exhibit, File
from tantalio.store.hashsets import HashEntry, HashSet
from tantalio.store.timeutil import utcnow
from tantalio.store.types import Json


class HashSetSubscription(Base):
    """One subscribed list; `hash_set_id` is the set its entries live in."""

    __tablename__ = "hashset_subscription"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hash_set_id: Mapped[int] = mapped_column(
        ForeignKey("hash_set.id", ondelete="CASCADE"), unique=True
    )
    source: Mapped[str] = mapped_column(Text)  # exchange list URL or a folder of delta files
    list_name: Mapped[str] = mapped_column(String(200))
    trusted_key: Mapped[str] = mapped_column(Text)  # PEM, pinned at subscribe time
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_digest: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_pull_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)


class CaseNotice(Base):
    """Something outside the case changed what the examiner sees: shown on the dashboard
    until dismissed. `detail` holds the changed media with their old and new verdicts."""

    __tablename__ = "case_notice"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))  # hashset-pull, exchange-sync, ...
    text: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any] | None] = mapped_column(Json, default=None)
    seen: Mapped[bool] = mapped_column(Boolean, default=False)


# -- subscriptions ----------------------------------------------------------------------
def add_subscription(
    session: Session, hash_set: HashSet, source: str, list_name: str, trusted_key_pem: str
) -> HashSetSubscription:
    sub = HashSetSubscription(
        hash_set_id=hash_set.id, source=source, list_name=list_name, trusted_key=trusted_key_pem
    )
    session.add(sub)
    session.flush()
    return sub


def list_subscriptions(session: Session) -> list[tuple[HashSetSubscription, HashSet]]:
    q = (
        select(HashSetSubscription, HashSet)
        .join(HashSet, HashSet.id == HashSetSubscription.hash_set_id)
        .order_by(HashSet.name)
    )
    return [(row[0], row[1]) for row in session.execute(q)]


def lock_subscription(session: Session, sub_id: int) -> HashSetSubscription | None:
    """The subscription row, locked for the caller's transaction on PostgreSQL, so two pulls
    of the same list cannot apply the same delta twice."""
    q = select(HashSetSubscription).where(HashSetSubscription.id == sub_id)
    return session.scalar(q.with_for_update())


def advance(session: Session, sub: HashSetSubscription, seq: int, digest: str) -> None:
    sub.last_seq, sub.last_digest = seq, digest
    sub.last_pull_at, sub.last_error = utcnow(), None
    session.flush()


# -- entries added and retracted --------------------------------------------------------
def retractable_entries(
    session: Session, hash_set_id: int, hashes: Sequence[dict[str, str]]
) -> list[int]:
    """Ids of the set's entries named by any hash of each retraction (md5/sha1/sha256/pdq)."""
    ids: set[int] = set()
    for batch in chunks(hashes, 300):
        terms = [
            getattr(HashEntry, algo) == value
            for h in batch
            for algo, value in h.items()
            if algo in ("md5", "sha1", "sha256", "pdq") and value
        ]
        if not terms:
            continue
        q = select(HashEntry.id).where(HashEntry.hash_set_id == hash_set_id, or_(*terms))
        ids.update(session.scalars(q))
    return sorted(ids)


def retractable_video_entries(
    session: Session, hash_set_id: int, frame_lists: Sequence[list[str]]
) -> list[int]:
    """Ids of vPDQ-only entries whose frames equal a retraction's frames (as sets)."""
    wanted = [frozenset(f.split(",")[0] for f in frames) for frames in frame_lists if frames]
    if not wanted:
        return []
    q = select(HashEntry.id, HashEntry.vpdq).where(
        HashEntry.hash_set_id == hash_set_id, HashEntry.vpdq.is_not(None)
    )
    return [
        eid
        for eid, frames in session.execute(q)
        if frozenset(str(f).split(",")[0] for f in frames or []) in wanted
    ]


def delete_entries(session: Session, hash_set_id: int, entry_ids: Sequence[int]) -> list[int]:
    """Remove entries and their matches; returns the media that lost a match."""
    from tantalio.store.media import Match

    touched: set[int] = set()
    for batch in chunks(entry_ids):
        touched.update(
            session.scalars(select(Match.media_id).where(Match.hash_entry_id.in_(batch)))
        )
        session.execute(delete(Match).where(Match.hash_entry_id.in_(batch)))
        session.execute(delete(HashEntry).where(HashEntry.id.in_(batch)))
    _recount(session, hash_set_id)
    return sorted(touched)


def _recount(session: Session, hash_set_id: int) -> None:
    from sqlalchemy import func

    hs = session.get(HashSet, hash_set_id)
    if hs is not None:
        hs.entry_count = int(
            session.scalar(
                select(func.count(HashEntry.id)).where(HashEntry.hash_set_id == hash_set_id)
            )
            or 0
        )
    session.flush()


def max_entry_id(session: Session, hash_set_id: int) -> int:
    from sqlalchemy import func

    q = select(func.max(HashEntry.id)).where(HashEntry.hash_set_id == hash_set_id)
    return int(session.scalar(q) or 0)


def append_entries(session: Session, hash_set_id: int, entries: Iterable[Any]) -> list[int]:
    """Add `hashsets.record.HashEntry` records to a stored set; returns their new ids."""
    from tantalio.store.repo import insert_entries

    before = max_entry_id(session, hash_set_id)
    insert_entries(session, hash_set_id, entries)
    _recount(session, hash_set_id)
    q = select(HashEntry.id).where(HashEntry.hash_set_id == hash_set_id, HashEntry.id > before)
    return sorted(session.scalars(q))


# -- verdict changes and notices --------------------------------------------------------
def file_verdicts(session: Session, media_ids: Iterable[int]) -> dict[int, tuple[int, str, str]]:
    """{file id: (case id, path, verdict)} of every file holding one of these media."""
    out: dict[int, tuple[int, str, str]] = {}
    for batch in chunks(media_ids):
        q = (
            select(File.id, Exhibit.case_id, File.path, File.verdict)
            .join(Exhibit, Exhibit.id == File.exhibit_id)
            .where(File.media_id.in_(batch))
        )
        for fid, cid, path, verdict in session.execute(q):
            out[int(fid)] = (int(cid), str(path), str(verdict or "pending"))
    return out


def add_notice(
    session: Session, case_id: int, kind: str, text: str, detail: dict[str, Any] | None = None
) -> CaseNotice:
    notice = CaseNotice(case_id=case_id, kind=kind, text=text, detail=detail)
    session.add(notice)
    session.flush()
    return notice


def unseen_notices(session: Session, case_id: int, limit: int = 20) -> list[CaseNotice]:
    q = (
        select(CaseNotice)
        .where(CaseNotice.case_id == case_id, CaseNotice.seen.is_(False))
        .order_by(CaseNotice.id.desc())
        .limit(limit)
    )
    return list(session.scalars(q))


def dismiss_notices(session: Session, case_id: int) -> int:
    from sqlalchemy import update

    result = session.execute(
        update(CaseNotice)
        .where(CaseNotice.case_id == case_id, CaseNotice.seen.is_(False))
        .values(seen=True)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
