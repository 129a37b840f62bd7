"""What the audit log says about one case: how many events, of which kinds, and the head of
the chain the report was made against (issue 16: the report carries an audit summary)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from tantalio.store.auth import AuditEvent, AuditHead
from tantalio.store.cases import Exhibit, File


@dataclass(slots=True)
class AuditSummary:
    events: int = 0
    by_action: dict[str, int] = field(default_factory=dict)
    people: list[str] = field(default_factory=list)
    first_at: str | None = None
    last_at: str | None = None
    head_seq: int = 0
    head_hash: str = ""


def case_audit_summary(session: Session, case_id: int) -> AuditSummary:
    media_ids = (
        select(cast(File.media_id, String))
        .join(Exhibit, Exhibit.id == File.exhibit_id)
        .where(Exhibit.case_id == case_id, File.media_id.is_not(None))
    )
    about_case = or_(
        (AuditEvent.object_type == "case") & (AuditEvent.object_id == str(case_id)),
        (AuditEvent.object_type == "media") & AuditEvent.object_id.in_(media_ids),
    )
    out = AuditSummary()
    rows = session.execute(
        select(AuditEvent.action, func.count(), func.min(AuditEvent.at), func.max(AuditEvent.at))
        .where(about_case)
        .group_by(AuditEvent.action)
    ).all()
    for action, n, first, last in rows:
        out.by_action[str(action)] = int(n)
        out.events += int(n)
        if first is not None and (out.first_at is None or str(first) < out.first_at):
            out.first_at = str(first)[:19]
        if last is not None and (out.last_at is None or str(last) > out.last_at):
            out.last_at = str(last)[:19]
    out.people = sorted(
        {
            str(u)
            for (u,) in session.execute(select(AuditEvent.username).where(about_case).distinct())
            if u
        }
    )
    head = session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    if head is not None:
        out.head_seq, out.head_hash = int(head[0]), str(head[1])
    return out
