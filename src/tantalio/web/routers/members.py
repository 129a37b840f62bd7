"""Case membership: who may see a case (issues 11 and 14). Everyone who sees the case sees
its member list; only admins (`users.manage`) grant and revoke. Each change is an audit
event (store.access.grant / revoke)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from tantalio.store import access
from tantalio.store import auth as store_auth
from tantalio.web.forms import form_context
from tantalio.web.i18n import N_
from tantalio.web.routers.cases import get_case
from tantalio.web.security import Principal, client_ip, get_db, require
from tantalio.web.templating import render

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tantalio.store.cases import Case

router = APIRouter()


def members(db: Session, case_id: int) -> list[dict[str, Any]]:
    agencies = {a.id: a.name for a in access.list_agencies(db)}
    return [
        {
            "username": u.username,
            "display_name": u.display_name,
            "role": u.role,
            "agency": agencies.get(u.agency_id) if u.agency_id else None,
            "disabled": u.disabled,
            "granted_at": m.granted_at.isoformat(),
            "granted_by": m.granted_by,
        }
        for u, m in access.case_members(db, case_id)
    ]


def _user(db: Session, username: str) -> store_auth.User:
    user = store_auth.get_user(db, username)
    if user is None:
        raise HTTPException(404, N_("no user {name}", name=repr(username)))
    return user


def change(
    request: Request, db: Session, principal: Principal, case: Case, username: str, grant: bool
) -> bool:
    user = _user(db, username)
    if grant:
        if user.role == "auditor":
            raise HTTPException(422, N_("auditors read the audit log, not cases; nothing to grant"))
        changed = access.grant(db, case, user, by=principal.user, ip=client_ip(request))
    else:
        changed = access.revoke(db, case, user, by=principal.user, ip=client_ip(request))
    db.commit()
    return changed


# --- JSON API ---------------------------------------------------------------------------------


@router.get("/api/cases/{case_id}/members", tags=["cases"])
def api_members(
    case_id: int,
    principal: Principal = Depends(require("cases.read")),
    db: Session = Depends(get_db),
) -> list[dict[str, Any]]:
    """The case's members (admins see every case without being members)."""
    return members(db, get_case(db, case_id).id)


@router.put("/api/cases/{case_id}/members/{username}", tags=["cases"])
def api_grant(
    case_id: int,
    username: str,
    request: Request,
    principal: Principal = Depends(require("users.manage")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    """Make the user a member of the case (audited); `changed` is false if they were one."""
    changed = change(request, db, principal, get_case(db, case_id), username, True)
    return {"member": username.lower(), "changed": changed}


@router.delete("/api/cases/{case_id}/members/{username}", tags=["cases"])
def api_revoke(
    case_id: int,
    username: str,
    request: Request,
    principal: Principal = Depends(require("users.manage")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    """End the user's membership of the case (audited); `changed` is false if they had none."""
    changed = change(request, db, principal, get_case(db, case_id), username, False)
    return {"member": username.lower(), "changed": changed}


# --- page -------------------------------------------------------------------------------------


def _page(request: Request, db: Session, case: Case, status: int = 200, **extra: Any) -> Response:
    current = members(db, case.id)
    names = {m["username"] for m in current}
    candidates = [
        u
        for u in store_auth.list_users(db)
        if u.username not in names and not u.disabled and u.role not in ("admin", "auditor")
    ]
    ctx = {"case": case, "members": current, "candidates": candidates} | extra
    return render(request, "members.html", ctx, status_code=status)


@router.get("/cases/{case_id}/members", include_in_schema=False)
def members_page(
    case_id: int,
    request: Request,
    principal: Principal = Depends(require("users.manage")),
    db: Session = Depends(get_db),
) -> Response:
    return _page(request, db, get_case(db, case_id))


@router.post("/cases/{case_id}/members", include_in_schema=False)
def members_form(
    case_id: int,
    request: Request,
    username: str = Form(...),
    action: str = Form(...),
    principal: Principal = Depends(require("users.manage")),
    db: Session = Depends(get_db),
) -> Response:
    case = get_case(db, case_id)
    if action not in ("grant", "revoke"):
        return _page(
            request, db, case, 422, error=N_("unknown action {action}", action=repr(action))
        )
    try:
        change(request, db, principal, case, username, action == "grant")
    except HTTPException as exc:
        if action == "revoke":  # a row's button: the message goes above the table
            return _page(request, db, case, exc.status_code, error=exc.detail)
        ctx, status = form_context(exc, "username", username=username)
        return _page(request, db, case, status, **ctx)
    return RedirectResponse(f"/cases/{case.id}/members", status_code=303)
