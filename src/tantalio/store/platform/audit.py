"""The platform's hash-chained audit: the workspace's chain (store/audit.py: `event_hash`,
`walk_chain`, `check_head`) on the platform's own tables. Written for bank list pulls
(applied or refused), bank create/config/delete and API key create/revoke, each in the
transaction of the change it records (a refusal in the transaction that keeps its error).
Details name lists, sequence numbers, counts and errors, never hash values."""

from __future__ import annotations

import getpass
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
from tantalio.store.platform.models import PlatformAuditEvent, PlatformAuditHead
from tantalio.store.timeutil import utcnow

__all__ = ["AuditVerification", "append", "default_actor", "events", "verify"]


def default_actor() -> str:
    """Who acts when the caller names nobody: the process's OS login (`local:<login>`), the
    account a CLI command or a serving process runs under."""
    try:
        login = getpass.getuser()
    except Exception:  # no login name (a container without a passwd entry): still audited
        login = "unknown"
    return f"local:{login}"[:128]


def append(
    session: Session,
    action: str,
    *,
    actor: str | None = None,
    key_id: int | None = None,
    object_type: str | None = None,
    object_id: str | int | None = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
) -> PlatformAuditEvent:
    """Append one event in the caller's transaction (it commits with what it records).
    Updating the head row first serialises writers, so the chain stays linear."""
    locked = session.execute(
        update(PlatformAuditHead).where(PlatformAuditHead.id == 1).values(seq=PlatformAuditHead.seq)
    )
    if locked.rowcount == 0:  # type: ignore[attr-defined]
        session.add(PlatformAuditHead(id=1, seq=0, hash=GENESIS_HASH))
        session.flush()
    head = session.execute(
        select(PlatformAuditHead.seq, PlatformAuditHead.hash).where(PlatformAuditHead.id == 1)
    ).one()
    seq, prev = head.seq + 1, head.hash
    at = utcnow()
    who = (actor or default_actor())[:128]
    oid = None if object_id is None else str(object_id)[:256]
    text = canonical_json(detail)
    digest = event_hash(prev, seq, at, key_id, who, action, object_type, oid, text, ip)
    row = PlatformAuditEvent(
        seq=seq,
        at=at,
        key_id=key_id,
        actor=who,
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
        update(PlatformAuditHead).where(PlatformAuditHead.id == 1).values(seq=seq, hash=digest)
    )
    session.flush()
    return row


def _row_digest(row: PlatformAuditEvent) -> str:
    return event_hash(
        row.prev_hash,
        row.seq,
        row.at,
        row.key_id,
        row.actor,
        row.action,
        row.object_type,
        row.object_id,
        row.detail,
        row.ip,
    )


def verify(session: Session, batch: int = 5000) -> AuditVerification:
    """Recompute every hash in order with the workspace's walker: an edited row breaks its
    own hash, a deleted one the sequence and the next link, deleted newest rows the head."""
    result = AuditVerification()
    last, prev = walk_chain(session, PlatformAuditEvent, _row_digest, result, batch)
    head = session.get(PlatformAuditHead, 1)
    result.head_seq = head.seq if head else 0
    result.head_hash = head.hash if head else GENESIS_HASH
    check_head(head, last, prev, result)
    return result


def events(
    session: Session, action: str | None = None, limit: int = 50
) -> list[PlatformAuditEvent]:
    """Newest first; `action` matches a prefix ("bank." lists every bank event)."""
    query = select(PlatformAuditEvent).order_by(PlatformAuditEvent.seq.desc()).limit(limit)
    if action:
        query = query.where(PlatformAuditEvent.action.startswith(action, autoescape=True))
    return list(session.scalars(query))
