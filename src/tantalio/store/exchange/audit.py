"""The exchange's hash-chained audit: the workspace's chain (store/audit.py) on its own
tables. Every push, retraction, query batch, refusal and publication is one event; details
carry counts, never hash values."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tantalio.store.audit import (
    AuditVerification,
    canonical_json,
    check_head,
    event_hash,
    walk_chain,
)
from tantalio.store.auth import GENESIS_HASH
from tantalio.store.exchange.models import ExchangeAuditEvent, ExchangeAuditHead
from tantalio.store.timeutil import utcnow

__all__ = ["AuditVerification", "append", "verify"]


def append(
    session: Session,
    action: str,
    *,
    agency: str | None = None,
    key_id: int | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> ExchangeAuditEvent:
    """Append one event in the caller's transaction (it commits with what it records).
    Updating the head row first serialises writers, so the chain stays linear."""
    locked = session.execute(
        update(ExchangeAuditHead).where(ExchangeAuditHead.id == 1).values(seq=ExchangeAuditHead.seq)
    )
    if locked.rowcount == 0:  # type: ignore[attr-defined]
        session.add(ExchangeAuditHead(id=1, seq=0, hash=GENESIS_HASH))
        session.flush()
    head = session.execute(
        select(ExchangeAuditHead.seq, ExchangeAuditHead.hash).where(ExchangeAuditHead.id == 1)
    ).one()
    seq, prev = head.seq + 1, head.hash
    at = utcnow()
    oid = None if object_id is None else str(object_id)
    text = canonical_json(detail)
    digest = event_hash(prev, seq, at, key_id, agency, action, object_type, oid, text, ip)
    row = ExchangeAuditEvent(
        seq=seq,
        at=at,
        key_id=key_id,
        agency=agency,
        action=action,
        object_type=object_type,
        object_id=oid,
        detail=text,
        ip=ip,
        prev_hash=prev,
        hash=digest,
    )
    session.add(row)
    session.execute(
        update(ExchangeAuditHead).where(ExchangeAuditHead.id == 1).values(seq=seq, hash=digest)
    )
    session.flush()
    return row


def _row_digest(row: ExchangeAuditEvent) -> str:
    return event_hash(
        row.prev_hash,
        row.seq,
        row.at,
        row.key_id,
        row.agency,
        row.action,
        row.object_type,
        row.object_id,
        row.detail,
        row.ip,
    )


def verify(session: Session, batch: int = 5000) -> AuditVerification:
    """Recompute every hash in order with the workspace's walker (`store.audit.walk_chain`):
    the same checks, on the exchange's tables."""
    result = AuditVerification()
    last, prev = walk_chain(session, ExchangeAuditEvent, _row_digest, result, batch)
    head = session.get(ExchangeAuditHead, 1)
    result.head_seq = head.seq if head else 0
    result.head_hash = head.hash if head else GENESIS_HASH
    check_head(head, last, prev, result)
    return result


def events(
    session: Session, action: str | None = None, limit: int = 1000
) -> list[ExchangeAuditEvent]:
    """Newest first; `action` matches a prefix."""
    query = select(ExchangeAuditEvent).order_by(ExchangeAuditEvent.seq.desc()).limit(limit)
    if action:
        query = query.where(ExchangeAuditEvent.action.startswith(action, autoescape=True))
    return list(session.scalars(query))
