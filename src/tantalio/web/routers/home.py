"""The start page: where a user lands depends on what their role may do."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response

from tantalio.web.security import Principal, require

router = APIRouter()


@router.get("/", include_in_schema=False)
def home(principal: Principal = Depends(require())) -> Response:
    if principal.can("cases.read"):
        return RedirectResponse("/cases", status_code=303)
    if principal.can("audit.read"):
        return RedirectResponse("/audit", status_code=303)
    return RedirectResponse("/settings", status_code=303)
