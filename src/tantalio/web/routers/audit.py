"""The auditor's view of the append-only, hash-chained audit log: list, filter, verify."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel

from tantalio.store import audit as store_audit
from tantalio.store import auth as store_auth
from tantalio.web.i18n import N_
from tantalio.web.security import Principal, get_db, require
from tantalio.web.templating import render

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

router = APIRouter()


class AuditEventOut(BaseModel):
    seq: int
    at: str
    username: str | None
    action: str
    object_type: str | None
    object_id: str | None
    detail: dict[str, Any]
    ip: str | None
    hash: str


def event_out(e: store_auth.AuditEvent) -> AuditEventOut:
    return AuditEventOut(
        seq=e.seq,
        at=e.at.isoformat() + "Z",
        username=e.username,
        action=e.action,
        object_type=e.object_type,
        object_id=e.object_id,
        detail=json.loads(e.detail or "{}"),
        ip=e.ip,
        hash=e.hash,
    )


def _date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", ""))
    except ValueError as exc:
        raise HTTPException(
            400, N_("{name}: not an ISO date/time: {value}", name=name, value=repr(value))
        ) from exc


def _query(
    db: Session,
    username: str | None,
    action: str | None,
    object_type: str | None,
    object_id: str | None,
    since: str | None,
    until: str | None,
    before: int | None,
    limit: int,
) -> list[store_auth.AuditEvent]:
    return store_audit.list_audit_events(
        db,
        username=username or None,
        action=action or None,
        object_type=object_type or None,
        object_id=object_id or None,
        since=_date(since, "since"),
        until=_date(until, "until"),
        before_seq=before,
        limit=max(1, min(limit, 1000)),
    )


@router.get("/api/audit", tags=["audit"], response_model=list[AuditEventOut])
def api_list(
    username: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
    before: int | None = None,
    limit: int = 100,
    principal: Principal = Depends(require("audit.read")),
    db: Session = Depends(get_db),
) -> list[AuditEventOut]:
    """Newest first. `action` is a prefix (`user.` lists all user changes); page on with
    `before` = the smallest `seq` received."""
    rows = _query(db, username, action, object_type, object_id, since, until, before, limit)
    return [event_out(e) for e in rows]


@router.get("/api/audit/verify", tags=["audit"])
def api_verify(
    principal: Principal = Depends(require("audit.read")), db: Session = Depends(get_db)
) -> dict[str, Any]:
    result = store_audit.verify_audit_chain(db)
    return {
        "ok": result.ok,
        "events": result.events,
        "head_seq": result.head_seq,
        "problems": result.problems,
    }


@router.get("/audit", include_in_schema=False)
def page(
    request: Request,
    username: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: str | None = None,
    until: str | None = None,
    before: int | None = None,
    principal: Principal = Depends(require("audit.read")),
    db: Session = Depends(get_db),
) -> Response:
    limit = 100
    rows = _query(db, username, action, object_type, object_id, since, until, before, limit)
    filters = {
        "username": username or "",
        "action": action or "",
        "object_type": object_type or "",
        "object_id": object_id or "",
        "since": since or "",
        "until": until or "",
    }
    next_query = None
    if len(rows) == limit:
        next_query = (
            "&".join(f"{k}={v}" for k, v in filters.items() if v) + f"&before={rows[-1].seq}"
        )
    return render(
        request,
        "audit.html",
        {
            "events": [event_out(e) for e in rows],
            "filters": filters,
            "next_query": next_query,
            "actions": store_audit.audit_actions(db),
        },
    )
