"""Inline form errors (issue 16): a refused form comes back as its own page, with the
message next to the field it concerns, what the user typed kept, and a 4xx status — never a
bare error page that loses the input.

A handler catches the refusal (`HTTPException` from the shared logic, or pydantic's
`ValidationError` from the body model it builds) and renders its page with
`errors` (field name -> message) and `form` (field name -> typed value); the templates show
them through the `field_error`, `invalid` and `typed` globals (web/templating.py).
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from pydantic import ValidationError


def form_errors(exc: Exception, field: str) -> tuple[dict[str, str], int]:
    """Messages by field and the status to answer with. An HTTPException concerns `field`
    (the one the handler knows the refusal is about); a ValidationError names its fields."""
    if isinstance(exc, ValidationError):
        errors: dict[str, str] = {}
        for e in exc.errors():
            loc = e.get("loc") or ()
            name = str(loc[0]) if loc else field
            message = str(e.get("msg", "invalid value")).removeprefix("Value error, ")
            errors.setdefault(name, message)
        return errors, 422
    if isinstance(exc, HTTPException):
        # the detail as raised: an i18n.Text keeps its template, so the page translates it
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        return {field: detail}, exc.status_code
    raise TypeError(f"not a form refusal: {exc!r}")


def form_context(exc: Exception, field: str, **typed: Any) -> tuple[dict[str, Any], int]:
    """The template context of a refused form (`errors`, `form`) and its status code."""
    errors, status = form_errors(exc, field)
    return {"errors": errors, "form": typed}, status
