"""A user's own settings: safe-viewing preferences (blur level, grayscale) and API tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError

from tantalio.store import audit as store_audit
from tantalio.store import auth as store_auth
from tantalio.web.forms import form_context
from tantalio.web.i18n import N_
from tantalio.web.security import Principal, client_ip, get_db, require
from tantalio.web.templating import render

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

router = APIRouter()
MAX_BLUR = 40


class ViewingIn(BaseModel):
    blur: int = Field(
        ge=0, le=MAX_BLUR, description="Gaussian blur radius on a 256 px thumbnail; 0 = sharp"
    )
    grayscale: bool


class TokenIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)


def set_viewing(request: Request, db: Session, principal: Principal, body: ViewingIn) -> None:
    user = principal.user
    before = {"blur": user.blur, "grayscale": user.grayscale}
    user.blur, user.grayscale = body.blur, body.grayscale
    store_audit.audit(
        db,
        "settings.viewing",
        user=user,
        object_type="user",
        object_id=user.id,
        detail={"before": before, "after": body.model_dump()},
        ip=client_ip(request),
    )
    db.commit()


def _tokens(db: Session, user_id: int) -> list[dict[str, Any]]:
    return [
        {
            "id": t.id,
            "name": t.name,
            "prefix": f"tnt_{t.prefix}_…",
            "created_at": t.created_at.isoformat(),
            "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
            "revoked": t.revoked_at is not None,
        }
        for t in store_auth.list_api_tokens(db, user_id)
    ]


def new_token(request: Request, db: Session, principal: Principal, name: str) -> tuple[str, int]:
    token, row = store_auth.create_api_token(db, principal.user, name)
    store_audit.audit(
        db,
        "token.create",
        user=principal.user,
        object_type="api_token",
        object_id=row.id,
        detail={"name": row.name},
        ip=client_ip(request),
    )
    db.commit()
    return token, row.id


def revoke_token(request: Request, db: Session, principal: Principal, token_id: int) -> None:
    if not store_auth.revoke_api_token(db, principal.user.id, token_id):
        raise HTTPException(404, N_("no active token {id} of yours", id=token_id))
    store_audit.audit(
        db,
        "token.revoke",
        user=principal.user,
        object_type="api_token",
        object_id=token_id,
        ip=client_ip(request),
    )
    db.commit()


@router.put("/api/me/viewing", tags=["settings"])
def api_viewing(
    body: ViewingIn,
    request: Request,
    principal: Principal = Depends(require()),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    set_viewing(request, db, principal, body)
    return body.model_dump()


@router.get("/api/tokens", tags=["settings"])
def api_tokens(
    principal: Principal = Depends(require()), db: Session = Depends(get_db)
) -> list[dict[str, Any]]:
    return _tokens(db, principal.user.id)


@router.post("/api/tokens", tags=["settings"], status_code=201)
def api_new_token(
    body: TokenIn,
    request: Request,
    principal: Principal = Depends(require()),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    """The token is shown once; send it as `Authorization: Bearer <token>`."""
    token, token_id = new_token(request, db, principal, body.name)
    return {"id": token_id, "token": token}


@router.delete("/api/tokens/{token_id}", tags=["settings"])
def api_revoke(
    token_id: int,
    request: Request,
    principal: Principal = Depends(require()),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    revoke_token(request, db, principal, token_id)
    return {"ok": True}


@router.get("/settings", include_in_schema=False)
def page(
    request: Request, principal: Principal = Depends(require()), db: Session = Depends(get_db)
) -> Response:
    return _page(request, db, principal)


def _page(
    request: Request, db: Session, principal: Principal, status_code: int = 200, **extra: Any
) -> Response:
    """The settings page; `extra` carries a new token or a refused form's errors and input."""
    ctx = {"tokens": _tokens(db, principal.user.id), "max_blur": MAX_BLUR, **extra}
    return render(request, "settings.html", ctx, status_code=status_code)


@router.post("/settings/viewing", include_in_schema=False)
def page_viewing(
    request: Request,
    blur: str = Form(...),
    grayscale: str = Form(""),
    principal: Principal = Depends(require()),
    db: Session = Depends(get_db),
) -> Response:
    try:
        try:
            radius = int(blur.strip())
        except ValueError:
            raise HTTPException(
                422, N_("blur must be a whole number from 0 to {max}", max=MAX_BLUR)
            ) from None
        body = ViewingIn(blur=radius, grayscale=grayscale in ("on", "1", "true"))
    except (HTTPException, ValidationError) as exc:
        ctx, status = form_context(exc, "blur", blur=blur, grayscale=bool(grayscale))
        return _page(request, db, principal, status, **ctx)
    set_viewing(request, db, principal, body)
    return RedirectResponse("/settings", status_code=303)


@router.post("/settings/tokens", include_in_schema=False)
def page_new_token(
    request: Request,
    name: str = Form(""),
    principal: Principal = Depends(require()),
    db: Session = Depends(get_db),
) -> Response:
    try:
        body = TokenIn(name=name.strip())
    except ValidationError as exc:
        ctx, status = form_context(exc, "name", name=name)
        ctx["errors"] = {"name": "name the token (up to 100 characters), e.g. the script using it"}
        return _page(request, db, principal, status, **ctx)
    token, _ = new_token(request, db, principal, body.name)
    return _page(request, db, principal, new_token=token)


@router.post("/settings/tokens/{token_id}/revoke", include_in_schema=False)
def page_revoke(
    token_id: int,
    request: Request,
    principal: Principal = Depends(require()),
    db: Session = Depends(get_db),
) -> Response:
    revoke_token(request, db, principal, token_id)
    return RedirectResponse("/settings", status_code=303)


class LanguageIn(BaseModel):
    locale: str | None = Field(
        None, description="en, es or pt; null follows the browser's Accept-Language"
    )


def set_language(request: Request, db: Session, principal: Principal, locale: str | None) -> None:
    from tantalio.web.i18n import LOCALES

    if locale not in (None, *LOCALES):
        raise HTTPException(422, f"language must be one of {', '.join(LOCALES)} (or empty)")
    user = principal.user
    before = user.locale
    user.locale = locale
    store_audit.audit(
        db,
        "settings.language",
        user=user,
        object_type="user",
        object_id=user.id,
        detail={"before": before, "after": locale},
        ip=client_ip(request),
    )
    db.commit()


@router.put("/api/me/language", tags=["settings"])
def api_language(
    body: LanguageIn,
    request: Request,
    principal: Principal = Depends(require()),
    db: Session = Depends(get_db),
) -> dict[str, str | None]:
    """The web app's language for this user (dates and numbers follow it)."""
    set_language(request, db, principal, body.locale)
    return {"locale": body.locale}


@router.post("/settings/language", include_in_schema=False)
def page_language(
    request: Request,
    locale: str = Form(""),
    principal: Principal = Depends(require()),
    db: Session = Depends(get_db),
) -> Response:
    try:
        set_language(request, db, principal, locale or None)
    except HTTPException as exc:
        ctx, status = form_context(exc, "locale", locale=locale)
        return _page(request, db, principal, status, **ctx)
    return RedirectResponse("/settings", status_code=303)
