"""Jinja2 set-up shared by the routers: every page gets the user, their permissions and the
CSRF token that its forms and scripts send back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.responses import Response

from tantalio.evidence.names import visible
from tantalio.web import i18n
from tantalio.web.categories import CATEGORIES, CATEGORY_SHORT, category_label

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
TEMPLATES = Jinja2Templates(directory=str(WEB_DIR / "templates"))


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


TEMPLATES.env.add_extension("jinja2.ext.i18n")
TEMPLATES.env.install_gettext_callables(i18n._, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]


def _finalize(value: Any) -> Any:
    """Every `{{ value }}` in a template: bidi controls in plain text shown visibly
    (evidence/names.py `visible`); markup a template marked safe is left alone."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value)
    return value


TEMPLATES.env.finalize = _finalize
TEMPLATES.env.filters["when"] = _when
TEMPLATES.env.filters["num"] = i18n.number
TEMPLATES.env.filters["localtime"] = i18n.when
TEMPLATES.env.filters["fixed"] = i18n.fixed
TEMPLATES.env.filters["tr"] = i18n.tr
TEMPLATES.env.globals["js_catalog"] = i18n.js_catalog
TEMPLATES.env.globals["VOCABULARY"] = frozenset(i18n.VOCABULARY)
TEMPLATES.env.globals["LOCALES"] = i18n.LOCALES
TEMPLATES.env.filters["category_label"] = category_label
TEMPLATES.env.globals["CATEGORIES"] = CATEGORIES
TEMPLATES.env.globals["CATEGORY_SHORT"] = CATEGORY_SHORT


@pass_context
def field_error(ctx: Context, name: str) -> Markup:
    """The message of a refused form field, shown next to it (web/forms.py)."""
    message = (ctx.get("errors") or {}).get(name)
    if not message:
        return Markup("")
    return Markup('<span class="field-error" id="{0}-error" role="alert">{1}</span>').format(
        name, visible(str(i18n.tr(message)))
    )


@pass_context
def invalid(ctx: Context, name: str) -> Markup:
    """`aria-invalid` and the link to the message, on a refused field's input."""
    if not (ctx.get("errors") or {}).get(name):
        return Markup("")
    return Markup(' aria-invalid="true" aria-describedby="{0}-error"').format(name)


@pass_context
def typed(ctx: Context, name: str, default: Any = "") -> Any:
    """What the user typed into a field of a refused form (else `default`)."""
    form = ctx.get("form") or {}
    value = form.get(name)
    return default if value is None else value


TEMPLATES.env.globals["field_error"] = field_error
TEMPLATES.env.globals["invalid"] = invalid
TEMPLATES.env.globals["typed"] = typed


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    ctx = dict(context or {})
    principal = getattr(request.state, "principal", None)
    ctx.setdefault("principal", principal)
    ctx.setdefault("user", principal.user if principal else None)
    ctx.setdefault("csrf_token", principal.csrf_token if principal else "")
    ctx.setdefault("perms", principal.permissions if principal else frozenset())
    user = principal.user if principal else None
    locale = i18n.negotiate(getattr(user, "locale", None), request.headers.get("accept-language"))
    i18n.set_locale(locale)
    ctx.setdefault("locale", locale)
    return TEMPLATES.TemplateResponse(request, name, ctx, status_code=status_code, headers=headers)
