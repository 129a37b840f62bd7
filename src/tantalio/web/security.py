"""Who is asking, and may they: sessions or API tokens, roles → permissions, CSRF, cases.

Every route but the login page and the static files depends on `require(...)`: there is no
anonymous access. Every route also depends on `require_case_access` (app.py includes the
routers with it): a path parameter naming a case, media, series, chat account or group, and
the `case` query parameter, must name something of a case the user is a member of, else 403
(issues 11 and 14; admins see every case, docs/decisions/web.md).

Browser requests authenticate by the session cookie and must prove CSRF on
every unsafe method (form field `csrf_token` or header `X-CSRF-Token`); scripts authenticate
with `Authorization: Bearer tnt_...` and need no CSRF token, since browsers never send one
on their own.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import Depends, HTTPException, Request

from tantalio.store import access
from tantalio.store import auth as store_auth
from tantalio.web.i18n import N_

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

SESSION_COOKIE = "tantalio_session"
LOGIN_CSRF_COOKIE = "tantalio_login_csrf"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

_ALL = {
    "users.manage",
    "users.read",
    "audit.read",
    "cases.read",
    "cases.write",
    "media.view",
    "media.categorize",
    "series.read",
    "series.write",
    "series.identify",
    "query",
    "export",
}
# Roles from issue 4. Admin holds every permission so a single examiner on a laptop can work
# with the account created at first start (docs/decisions/web.md).
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(_ALL),
    "examiner": frozenset(
        {
            "cases.read",
            "cases.write",
            "media.view",
            "media.categorize",
            "series.read",
            "series.write",
            "query",
            "export",
        }
    ),
    "victim-id": frozenset(
        {
            "cases.read",
            "media.view",
            "series.read",
            "series.write",
            "series.identify",
            "query",
            "export",
        }
    ),
    "auditor": frozenset({"audit.read", "users.read"}),
}


class LoginRequired(Exception):
    """No valid session or token: pages redirect to the login page, the API answers 401."""


class PasswordChangeRequired(Exception):
    """The one-time password of the first admin (or a reset one) must be changed first."""


@dataclass(slots=True)
class Principal:
    user: store_auth.User
    via: str  # "session" or "token"
    csrf_token: str | None = None

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.user.role, frozenset())

    @property
    def permissions(self) -> frozenset[str]:
        return PERMISSIONS.get(self.user.role, frozenset())


def get_db(request: Request) -> Iterator[Session]:
    """One database session per request; routes commit what they change."""
    db = request.app.state.session_factory()
    try:
        yield db
    finally:
        db.close()


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def get_principal(request: Request, db: Session = Depends(get_db)) -> Principal:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        user = store_auth.resolve_api_token(db, header[7:].strip())
        if user is None:
            raise LoginRequired()
        if db.dirty:
            db.commit()  # last_used_at
        return Principal(user=user, via="token")
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        found = store_auth.resolve_session(db, cookie)
        if found is not None:
            user, row = found
            return Principal(user=user, via="session", csrf_token=row.csrf_token)
    raise LoginRequired()


async def check_csrf(request: Request, principal: Principal) -> None:
    if request.method not in UNSAFE_METHODS or principal.via != "session":
        return
    sent = request.headers.get("x-csrf-token")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not principal.csrf_token or not hmac.compare_digest(sent, principal.csrf_token):
        raise HTTPException(403, N_("CSRF token missing or wrong; reload the page"))


def require(*permissions: str, allow_password_change: bool = False) -> Callable[..., Any]:
    """Dependency: the authenticated principal holding all of `permissions`."""

    async def dependency(
        request: Request, principal: Principal = Depends(get_principal)
    ) -> Principal:
        await check_csrf(request, principal)
        if principal.user.must_change_password and not allow_password_change:
            raise PasswordChangeRequired()
        request.state.principal = principal  # a 403 page speaks the user's language
        missing = [p for p in permissions if not principal.can(p)]
        if missing:
            raise HTTPException(
                403, N_("your role ({role}) may not do this", role=principal.user.role)
            )
        return principal

    return dependency


def cookie_secure(request: Request) -> bool:
    """Secure cookies when served over TLS (directly or behind a proxy that says so)."""
    return request.url.scheme == "https"


# Path parameters that name something belonging to cases, with the check each must pass.
# tests/web/test_case_access.py fails when a route takes an id parameter not listed here nor
# in its list of parameters known to be case-free.
CASE_SCOPED_PARAMS: dict[str, Callable[[Session, store_auth.User, int], bool]] = {
    "case_id": access.may_see_case,
    "media_id": access.may_see_media,
    "series_id": access.may_see_series,
    "account_id": access.may_see_account,
    "group_id": access.may_see_group,
}
# Query parameters naming the case a page was opened from (`/media/7?case=3`).
CASE_QUERY_PARAMS = ("case",)
NOT_A_MEMBER = N_("you are not a member of this case; an administrator can grant you access")


def _id(value: str) -> int | None:
    try:
        number = int(value)
    except ValueError:
        return None  # not a number: the route's own validation answers 422
    if not 0 <= number <= access.MAX_ID:
        raise HTTPException(404, N_("no such item {id}", id=value[:30]))
    return number


def require_case_access(request: Request, db: Session = Depends(get_db)) -> None:
    """Dependency on every route: 403 unless the user may see the case of every case-scoped
    id the request names (see CASE_SCOPED_PARAMS). Routes naming none pass at no cost."""
    checks = [(k, v) for k, v in request.path_params.items() if k in CASE_SCOPED_PARAMS]
    checks += [("case_id", request.query_params[k]) for k in CASE_QUERY_PARAMS
               if request.query_params.get(k)]  # fmt: skip
    if not checks:
        return
    principal = get_principal(request, db)  # anonymous: LoginRequired, as `require` would
    if principal.user.must_change_password:
        raise PasswordChangeRequired()
    request.state.principal = principal  # the 403 page shows the user's menu
    for name, raw in checks:
        number = _id(str(raw))
        if number is None or access.sees_all(principal.user):
            continue
        if not CASE_SCOPED_PARAMS[name](db, principal.user, number):
            if not access.item_exists(db, name.removesuffix("_id"), number):
                continue  # the route answers 404, as it does for everybody
            raise HTTPException(403, NOT_A_MEMBER)


def visible_cases(db: Session, principal: Principal) -> set[int] | None:
    """The ids of the cases the user may see; None means all of them."""
    return access.visible_case_ids(db, principal.user)


def require_media(db: Session, principal: Principal, media_ids: list[int]) -> None:
    """403 unless every media of a request body is in a case of the user's."""
    hidden = set(media_ids) - access.visible_media(db, principal.user, media_ids)
    if hidden:
        raise HTTPException(
            403,
            N_(
                "{count} of these media are in no case you are a member of; "
                "an administrator can grant you access",
                count=len(hidden),
            ),
        )
