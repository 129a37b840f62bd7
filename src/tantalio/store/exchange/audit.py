"""The exchange's hash-chained audit: the workspace's chain (store/audit.py) on its own
tables. Every push, retraction, query batch, refusal and publication is one event; details
carry counts, never hash values."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tantalio.store.audit import AuditVerification, Chain
from tantalio.store.exchange.models import ExchangeAuditEvent, ExchangeAuditHead

__all__ = ["AuditVerification", "append", "verify"]

CHAIN = Chain(ExchangeAuditEvent, ExchangeAuditHead, who_id="key_id", who_name="agency")


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
    """Append one event in the caller's transaction (it commits with what it records)."""
    row: ExchangeAuditEvent = CHAIN.append(
        session,
        action,
        who_id=key_id,
        who_name=agency,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        detail=detail,
        ip=ip,
    )
    return row


def verify(session: Session, batch: int = 5000) -> AuditVerification:
    """Recompute every hash in order with the workspace's walker (`store.audit.walk_chain`):
    the same checks, on the exchange's tables."""
    return CHAIN.verify(session, batch)


def events(
    session: Session, action: str | None = None, limit: int = 1000
) -> list[ExchangeAuditEvent]:
    """Newest first; `action` matches a prefix."""
    return CHAIN.events(session, action, limit)
