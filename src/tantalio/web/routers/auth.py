"""Log in, log out, change password: the only page served without a session is /login.

Failed logins are limited per username (5 per 15 minutes by default) and per client address;
every login, failed login and logout is an audit event.
"""

from __future__ import annotations

import hmac
import secrets
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel

from tantalio.store import audit as store_audit
from tantalio.store import auth as store_auth
from tantalio.web.forms import form_context
from tantalio.web.i18n import N_
from tantalio.web.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Principal,
    client_ip,
    cookie_secure,
    get_db,
    require,
)
from tantalio.web.templating import render

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

router = APIRouter()


class LoginBody(BaseModel):
    username: str
    password: str


class MeOut(BaseModel):
    id: int
    username: str
    display_name: str | None
    role: str
    permissions: list[str]
    blur: int
    grayscale: bool
    must_change_password: bool
    csrf_token: str | None


def _safe_next(value: str | None) -> str:
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


def _attempt_login(request: Request, db: Session, username: str, password: str) -> store_auth.User:
    """Authenticate with rate limits and auditing; raises 401/429 HTTP errors."""
    ip = client_ip(request) or "?"
    key = username.strip().lower()
    ip_wait = request.app.state.login_ip_limiter.check_and_hit(ip)
    user_wait = request.app.state.login_user_limiter.retry_after(key)
    wait = max(ip_wait, user_wait)
    if wait > 0:
        store_audit.audit(
            db, "login.blocked", username=key[:64], detail={"reason": "rate limit"}, ip=ip
        )
        db.commit()
        raise HTTPException(
            429,
            N_("too many login attempts; try again later"),
            headers={"Retry-After": str(int(wait) + 1)},
        )
    user = store_auth.authenticate(db, key, password)
    if user is None:
        request.app.state.login_user_limiter.hit(key)
        store_audit.audit(
            db, "login.failed", username=key[:64], object_type="user", object_id=key[:64], ip=ip
        )
        db.commit()
        raise HTTPException(401, N_("wrong username or password, or the account is disabled"))
    request.app.state.login_user_limiter.reset(key)
    return user


def _start_session(request: Request, db: Session, user: store_auth.User) -> tuple[str, str]:
    """Open a session (audited as a login); returns the cookie value and its CSRF token."""
    token, row = store_auth.create_session(db, user, ip=client_ip(request))
    store_audit.audit(
        db, "login", user=user, object_type="user", object_id=user.id, ip=client_ip(request)
    )
    db.commit()
    return token, row.csrf_token


def _set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
        max_age=int(store_auth.SESSION_LIFETIME.total_seconds()),
        path="/",
    )


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str = "/", error: str | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request, "login.html", {"login_csrf": token, "next": _safe_next(next), "error": error}
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=cookie_secure(request),
        path="/login",
    )
    return response


@router.post("/login", include_in_schema=False)
def login_form(
    request: Request,
    username: str = Form(...),
    password: str = Form(...),
    csrf_token: str = Form(""),
    next: str = Form("/"),
    db: Session = Depends(get_db),
) -> Response:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not cookie or not hmac.compare_digest(cookie, csrf_token):
        raise HTTPException(403, N_("the login form expired; reload the page"))
    try:
        user = _attempt_login(request, db, username, password)
    except HTTPException as exc:
        token = secrets.token_urlsafe(24)
        ctx, status = form_context(exc, "password", username=username)  # never the password
        response = render(
            request,
            "login.html",
            {"login_csrf": token, "next": _safe_next(next), **ctx},
            status_code=status,
            headers=exc.headers,
        )
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=cookie_secure(request),
            path="/login",
        )
        return response
    target = "/settings/password" if user.must_change_password else _safe_next(next)
    token, _ = _start_session(request, db, user)
    response = RedirectResponse(target, status_code=303)
    _set_session_cookie(request, response, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/api/login", tags=["auth"])
def login_api(body: LoginBody, request: Request, db: Session = Depends(get_db)) -> JSONResponse:
    """Start a browser-style session (cookie); scripts should prefer API tokens."""
    user = _attempt_login(request, db, body.username, body.password)
    token, csrf = _start_session(request, db, user)
    response = JSONResponse(
        {
            "username": user.username,
            "role": user.role,
            "csrf_token": csrf,
            "must_change_password": user.must_change_password,
        }
    )
    _set_session_cookie(request, response, token)
    return response


def _logout(request: Request, db: Session, principal: Principal) -> None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        store_auth.end_session(db, cookie)
    store_audit.audit(
        db,
        "logout",
        user=principal.user,
        object_type="user",
        object_id=principal.user.id,
        ip=client_ip(request),
    )
    db.commit()


@router.post("/logout", include_in_schema=False)
def logout_form(
    request: Request,
    principal: Principal = Depends(require(allow_password_change=True)),
    db: Session = Depends(get_db),
) -> Response:
    _logout(request, db, principal)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/api/logout", tags=["auth"])
def logout_api(
    request: Request,
    principal: Principal = Depends(require(allow_password_change=True)),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    _logout(request, db, principal)
    return {"ok": True}


@router.get("/api/me", tags=["auth"], response_model=MeOut)
def me(principal: Principal = Depends(require(allow_password_change=True))) -> MeOut:
    u = principal.user
    return MeOut(
        id=u.id,
        username=u.username,
        display_name=u.display_name,
        role=u.role,
        permissions=sorted(principal.permissions),
        blur=u.blur,
        grayscale=u.grayscale,
        must_change_password=u.must_change_password,
        csrf_token=principal.csrf_token,
    )


def change_password(
    request: Request, db: Session, principal: Principal, current: str, new: str, response: Response
) -> None:
    user = principal.user
    if store_auth.authenticate(db, user.username, current) is None:
        raise HTTPException(400, N_("the current password is wrong"))
    if current == new:
        raise HTTPException(400, N_("choose a new password different from the current one"))
    try:
        store_auth.set_password(db, user, new)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    store_audit.audit(
        db, "user.password", user=user, object_type="user", object_id=user.id, ip=client_ip(request)
    )
    db.commit()
    if principal.via == "session":  # all sessions were ended: open a fresh one for this browser
        token, _ = _start_session(request, db, user)
        _set_session_cookie(request, response, token)


@router.get("/settings/password", include_in_schema=False)
def password_page(
    request: Request, principal: Principal = Depends(require(allow_password_change=True))
) -> Response:
    return render(request, "password.html", {})


@router.post("/settings/password", include_in_schema=False)
def password_form(
    request: Request,
    current_password: str = Form(...),
    new_password: str = Form(...),
    confirm_password: str = Form(...),
    principal: Principal = Depends(require(allow_password_change=True)),
    db: Session = Depends(get_db),
) -> Response:
    response = RedirectResponse("/", status_code=303)
    try:
        if new_password != confirm_password:
            raise HTTPException(400, N_("the two new passwords differ"))
        change_password(request, db, principal, current_password, new_password, response)
    except HTTPException as exc:
        detail = str(exc.detail)
        field = (
            "confirm_password"
            if "differ" in detail
            else "current_password"
            if "current password is wrong" in detail
            else "new_password"
        )
        ctx, status = form_context(exc, field)  # passwords are never sent back
        return render(request, "password.html", ctx, status_code=status)
    return response


class PasswordBody(BaseModel):
    current_password: str
    new_password: str


@router.post("/api/me/password", tags=["auth"])
def password_api(
    body: PasswordBody,
    request: Request,
    principal: Principal = Depends(require(allow_password_change=True)),
    db: Session = Depends(get_db),
) -> JSONResponse:
    response = JSONResponse({"ok": True})
    change_password(request, db, principal, body.current_password, body.new_password, response)
    return response
