"""Case notices: what changed a case's verdicts from outside it (a pulled list delta, an
exchange sync), shown on the dashboard until an examiner dismisses them (audited)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from tantalio.store import audit as store_audit
from tantalio.store import subscriptions as store
from tantalio.store import web_queries as wq
from tantalio.web.i18n import N_
from tantalio.web.security import Principal, client_ip, get_db, require

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

router = APIRouter()


def notice_dicts(db: Session, case_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": n.id,
            "at": n.at.isoformat(),
            "kind": n.kind,
            "text": n.text,
            "files": (n.detail or {}).get("files", []),
            "more": (n.detail or {}).get("more", 0),
        }
        for n in store.unseen_notices(db, case_id)
    ]


def _case_id(db: Session, case_id: int) -> int:
    if wq.get_case_by_id(db, case_id) is None:
        raise HTTPException(404, N_("no case {id}", id=case_id))
    return case_id


@router.get("/api/cases/{case_id}/notices", tags=["cases"])
def api_notices(
    case_id: int,
    principal: Principal = Depends(require("cases.read")),
    db: Session = Depends(get_db),
) -> list[dict[str, Any]]:
    """Unseen notices of the case, newest first."""
    return notice_dicts(db, _case_id(db, case_id))


def _dismiss(request: Request, db: Session, principal: Principal, case_id: int) -> int:
    n = store.dismiss_notices(db, _case_id(db, case_id))
    store_audit.audit(
        db,
        "case.notices.dismiss",
        user=principal.user,
        object_type="case",
        object_id=case_id,
        detail={"dismissed": n},
        ip=client_ip(request),
    )
    db.commit()
    return n


@router.post("/api/cases/{case_id}/notices/dismiss", tags=["cases"])
def api_dismiss(
    case_id: int,
    request: Request,
    principal: Principal = Depends(require("cases.read")),
    db: Session = Depends(get_db),
) -> dict[str, int]:
    return {"dismissed": _dismiss(request, db, principal, case_id)}


@router.post("/cases/{case_id}/notices/dismiss", include_in_schema=False)
def dismiss_form(
    case_id: int,
    request: Request,
    principal: Principal = Depends(require("cases.read")),
    db: Session = Depends(get_db),
) -> Response:
    _dismiss(request, db, principal, case_id)
    return RedirectResponse(f"/cases/{case_id}", status_code=303)
