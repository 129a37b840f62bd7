"""User management (admin) and the read-only user list (auditor). Every change is audited."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel

from tantalio.store import audit as store_audit
from tantalio.store import auth as store_auth
from tantalio.web.forms import form_context
from tantalio.web.i18n import N_
from tantalio.web.security import Principal, client_ip, get_db, require
from tantalio.web.templating import render

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

router = APIRouter()


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str | None
    role: str
    agency_id: int | None
    disabled: bool
    must_change_password: bool
    created_at: str
    last_login_at: str | None


class UserCreate(BaseModel):
    username: str
    role: str
    display_name: str | None = None
    password: str | None = None  # generated (one-time, must be changed) when absent
    agency_id: int | None = None


class UserPatch(BaseModel):
    role: str | None = None
    disabled: bool | None = None
    display_name: str | None = None


def user_out(u: store_auth.User) -> UserOut:
    return UserOut(
        id=u.id,
        username=u.username,
        display_name=u.display_name,
        role=u.role,
        agency_id=u.agency_id,
        disabled=u.disabled,
        must_change_password=u.must_change_password,
        created_at=u.created_at.isoformat(),
        last_login_at=u.last_login_at.isoformat() if u.last_login_at else None,
    )


def _get(db: Session, user_id: int) -> store_auth.User:
    user = db.get(store_auth.User, user_id)
    if user is None:
        raise HTTPException(404, N_("no user {id}", id=user_id))
    return user


def _keep_an_admin(
    db: Session, user: store_auth.User, role: str | None, disabled: bool | None
) -> None:
    loses_admin = user.role == "admin" and ((role and role != "admin") or disabled)
    if not loses_admin:
        return
    active_admins = [u for u in store_auth.list_users(db) if u.role == "admin" and not u.disabled]
    if len(active_admins) <= 1:
        raise HTTPException(400, N_("this is the last active admin; create another admin first"))


def create_user(
    request: Request, db: Session, principal: Principal, body: UserCreate
) -> tuple[store_auth.User, str | None]:
    generated = None if body.password else secrets.token_urlsafe(12)
    try:
        user = store_auth.create_user(
            db,
            body.username,
            body.password or generated or "",
            body.role,
            display_name=body.display_name,
            agency_id=body.agency_id,
            must_change_password=generated is not None,
        )
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    store_audit.audit(
        db,
        "user.create",
        user=principal.user,
        object_type="user",
        object_id=user.id,
        detail={"username": user.username, "role": user.role},
        ip=client_ip(request),
    )
    db.commit()
    return user, generated


def patch_user(
    request: Request, db: Session, principal: Principal, user_id: int, body: UserPatch
) -> store_auth.User:
    user = _get(db, user_id)
    try:
        role = store_auth.normalize_role(body.role) if body.role else None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    _keep_an_admin(db, user, role, body.disabled)
    changes: dict[str, Any] = {}
    if role and role != user.role:
        changes["role"] = [user.role, role]
        user.role = role
        store_auth.revoke_sessions(db, user.id)  # new rights take effect at the next login
    if body.disabled is not None and body.disabled != user.disabled:
        changes["disabled"] = body.disabled
        store_auth.set_disabled(db, user, body.disabled)
    if body.display_name is not None and body.display_name != user.display_name:
        changes["display_name"] = body.display_name
        user.display_name = body.display_name
    if changes:
        action = (
            "user.disable"
            if changes.get("disabled") is True
            else ("user.enable" if changes.get("disabled") is False else "user.update")
        )
        store_audit.audit(
            db,
            action,
            user=principal.user,
            object_type="user",
            object_id=user.id,
            detail={"username": user.username, **changes},
            ip=client_ip(request),
        )
    db.commit()
    return user


def reset_password(
    request: Request, db: Session, principal: Principal, user_id: int
) -> tuple[store_auth.User, str]:
    user = _get(db, user_id)
    password = secrets.token_urlsafe(12)
    store_auth.set_password(db, user, password)
    user.must_change_password = True
    store_audit.audit(
        db,
        "user.reset_password",
        user=principal.user,
        object_type="user",
        object_id=user.id,
        detail={"username": user.username},
        ip=client_ip(request),
    )
    db.commit()
    return user, password


# --- JSON API ---------------------------------------------------------------------------------


@router.get("/api/users", tags=["users"], response_model=list[UserOut])
def api_list(
    principal: Principal = Depends(require("users.read")), db: Session = Depends(get_db)
) -> list[UserOut]:
    return [user_out(u) for u in store_auth.list_users(db)]


@router.post("/api/users", tags=["users"], status_code=201)
def api_create(
    body: UserCreate,
    request: Request,
    principal: Principal = Depends(require("users.manage")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    user, generated = create_user(request, db, principal, body)
    return {"user": user_out(user).model_dump(), "one_time_password": generated}


@router.patch("/api/users/{user_id}", tags=["users"], response_model=UserOut)
def api_patch(
    user_id: int,
    body: UserPatch,
    request: Request,
    principal: Principal = Depends(require("users.manage")),
    db: Session = Depends(get_db),
) -> UserOut:
    return user_out(patch_user(request, db, principal, user_id, body))


@router.post("/api/users/{user_id}/reset-password", tags=["users"])
def api_reset(
    user_id: int,
    request: Request,
    principal: Principal = Depends(require("users.manage")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    user, password = reset_password(request, db, principal, user_id)
    return {"user": user_out(user).model_dump(), "one_time_password": password}


# --- pages ------------------------------------------------------------------------------------


def _page(request: Request, db: Session, status_code: int = 200, **extra: Any) -> Response:
    ctx = {"users": store_auth.list_users(db), "roles": store_auth.ROLES, **extra}
    return render(request, "users.html", ctx, status_code=status_code)


@router.get("/admin/users", include_in_schema=False)
def page(
    request: Request,
    principal: Principal = Depends(require("users.read")),
    db: Session = Depends(get_db),
) -> Response:
    return _page(request, db)


@router.post("/admin/users", include_in_schema=False)
def page_create(
    request: Request,
    username: str = Form(...),
    role: str = Form(...),
    display_name: str = Form(""),
    principal: Principal = Depends(require("users.manage")),
    db: Session = Depends(get_db),
) -> Response:
    try:
        user, generated = create_user(
            request,
            db,
            principal,
            UserCreate(username=username, role=role, display_name=display_name or None),
        )
    except HTTPException as exc:
        field = "role" if "role" in str(exc.detail).lower() else "username"
        ctx, status = form_context(
            exc, field, username=username, role=role, display_name=display_name
        )
        return _page(request, db, status_code=status, **ctx)
    return _page(
        request,
        db,
        notice=N_("Created {user}.", user=user.username),
        one_time=(user.username, generated),
    )


@router.post("/admin/users/{user_id}", include_in_schema=False)
def page_change(
    user_id: int,
    request: Request,
    action: str = Form(...),
    role: str = Form(""),
    principal: Principal = Depends(require("users.manage")),
    db: Session = Depends(get_db),
) -> Response:
    try:
        if action == "reset-password":
            user, password = reset_password(request, db, principal, user_id)
            return _page(
                request,
                db,
                notice=N_("New one-time password for {user}.", user=user.username),
                one_time=(user.username, password),
            )
        patch = {
            "disable": UserPatch(disabled=True),
            "enable": UserPatch(disabled=False),
            "role": UserPatch(role=role or None),
        }.get(action)
        if patch is None:
            raise HTTPException(400, N_("unknown action {action}", action=repr(action)))
        user = patch_user(request, db, principal, user_id, patch)
    except HTTPException as exc:
        return _page(request, db, error=exc.detail, status_code=exc.status_code)
    return _page(request, db, notice=N_("Updated {user}.", user=user.username))
