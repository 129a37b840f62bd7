"""The platform's hash-chained audit: the workspace's chain (store/audit.py: `Chain`)
on the platform's own tables. Written for bank list pulls
(applied or refused), bank create/config/delete and API key create/revoke, each in the
transaction of the change it records (a refusal in the transaction that keeps its error).
Details name lists, sequence numbers, counts and errors, never hash values."""

from __future__ import annotations

import getpass
from typing import Any

from sqlalchemy.orm import Session

from tantalio.store.audit import AuditVerification, Chain
from tantalio.store.platform.models import PlatformAuditEvent, PlatformAuditHead

__all__ = ["AuditVerification", "append", "default_actor", "events", "verify"]

CHAIN = Chain(PlatformAuditEvent, PlatformAuditHead, who_id="key_id", who_name="actor")


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
    """Append one event in the caller's transaction (it commits with what it records)."""
    row: PlatformAuditEvent = CHAIN.append(
        session,
        action,
        who_id=key_id,
        who_name=(actor or default_actor())[:128],
        object_type=object_type,
        object_id=None if object_id is None else str(object_id)[:256],
        detail=detail,
        ip=ip,
    )
    return row


def verify(session: Session, batch: int = 5000) -> AuditVerification:
    """Recompute every hash in order with the workspace's walker: an edited row breaks its
    own hash, a deleted one the sequence and the next link, deleted newest rows the head."""
    return CHAIN.verify(session, batch)


def events(
    session: Session, action: str | None = None, limit: int = 50
) -> list[PlatformAuditEvent]:
    """Newest first; `action` matches a prefix ("bank." lists every bank event)."""
    return CHAIN.events(session, action, limit)
