"""The triage grid: a case's media as blurred thumbnails, filtered and paged by keyset.

Filters (query parameters, the same for page and API): verdict, category (0-4 or `none`),
exhibit, series, kind (image/video), camera (make or model, substring), gps (yes/no),
deleted (yes/no); `cursor` continues after the last item of the previous page.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from tantalio.store import repo
from tantalio.store import web_queries as wq
from tantalio.store.cases import VERDICTS
from tantalio.triage.tile_facts import annotate
from tantalio.web.i18n import N_
from tantalio.web.routers.cases import get_case
from tantalio.web.security import Principal, get_db, require
from tantalio.web.templating import render

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

router = APIRouter()
FILTER_KEYS = ("verdict", "category", "exhibit", "series", "kind", "camera", "gps", "deleted")


def _yes_no(value: str | None, name: str) -> bool | None:
    if not value:
        return None
    if value in ("yes", "true", "1"):
        return True
    if value in ("no", "false", "0"):
        return False
    raise HTTPException(422, N_("{name} must be yes or no", name=name))


def parse_filter(params: dict[str, str]) -> wq.GridFilter:
    try:
        category = params.get("category") or None
        return wq.GridFilter(
            verdict=params.get("verdict") or None,
            category=None if category is None else (-1 if category == "none" else int(category)),
            exhibit_id=int(params["exhibit"]) if params.get("exhibit") else None,
            series_id=int(params["series"]) if params.get("series") else None,
            kind=params.get("kind") or None,
            camera=(params.get("camera") or "").strip() or None,
            has_gps=_yes_no(params.get("gps"), "gps"),
            deleted=_yes_no(params.get("deleted"), "deleted"),
        )
    except ValueError as exc:
        raise HTTPException(422, f"bad filter: {exc}") from exc


def _params(request: Request) -> dict[str, str]:
    return {k: request.query_params.get(k, "") for k in FILTER_KEYS}


def _filter_query(
    request: Request,
    verdict: str | None = None,
    category: str | None = None,
    exhibit: int | None = None,
    series: int | None = None,
    kind: str | None = None,
    camera: str | None = None,
    gps: str | None = None,
    deleted: str | None = None,
) -> dict[str, str]:
    """The filters as the API declares them (typed, so they are checked and documented);
    `parse_filter` reads their raw text, as the page does."""
    return _params(request)


def _page(
    db: Session, case_id: int, flt: wq.GridFilter, cursor: str | None, limit: int
) -> wq.GridPage:
    try:
        page = wq.grid_page(db, case_id, flt, cursor=cursor, limit=max(1, min(limit, 500)))
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    annotate(db, page.items)
    return page


@router.get("/api/cases/{case_id}/media", tags=["triage"])
def api_grid(
    case_id: int,
    cursor: str | None = None,
    limit: int = 120,
    filters: dict[str, str] = Depends(_filter_query),
    principal: Principal = Depends(require("media.view")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    """One page of the case's distinct media, priority first; pass `next_cursor` back as
    `cursor` for the next page."""
    case = get_case(db, case_id)
    page = _page(db, case.id, parse_filter(filters), cursor, limit)
    return {
        "items": [asdict(i) for i in page.items],
        "next_cursor": page.next_cursor,
        "filters": page.filters,
    }


@router.get("/api/cases/{case_id}/media/count", tags=["triage"])
def api_grid_count(
    case_id: int,
    filters: dict[str, str] = Depends(_filter_query),
    principal: Principal = Depends(require("media.view")),
    db: Session = Depends(get_db),
) -> dict[str, int]:
    """How many media the filters select (separate from paging, which never counts)."""
    case = get_case(db, case_id)
    return {"count": wq.grid_count(db, case.id, parse_filter(filters))}


CAMERA_CACHE_SECONDS = 120.0


@router.get("/api/cases/{case_id}/cameras", tags=["triage"])
def api_cameras(
    case_id: int,
    request: Request,
    principal: Principal = Depends(require("media.view")),
    db: Session = Depends(get_db),
) -> list[str]:
    """Camera makes and models of the case's media, most frequent first (the grid's camera
    filter suggestions; cached for two minutes since it reads the whole case)."""
    case = get_case(db, case_id)
    cache: dict[int, tuple[float, list[str]]] = request.app.state.camera_cache
    hit = cache.get(case.id)
    if hit is None or time.monotonic() - hit[0] > CAMERA_CACHE_SECONDS:
        hit = (time.monotonic(), wq.camera_options(db, case.id))
        cache[case.id] = hit
    return hit[1]


@router.get("/cases/{case_id}/triage", include_in_schema=False)
def grid_page(
    case_id: int,
    request: Request,
    cursor: str | None = None,
    principal: Principal = Depends(require("media.view")),
    db: Session = Depends(get_db),
) -> Response:
    case = get_case(db, case_id)
    params = _params(request)
    flt = parse_filter(params)
    page = _page(db, case.id, flt, cursor, request.app.state.settings.page_size)
    active = {k: v for k, v in params.items() if v}
    return render(
        request,
        "triage.html",
        {
            "case": case,
            "page": page,
            "params": params,
            "query": urlencode(active),
            "next_url": f"/cases/{case.id}/triage?"
            + urlencode({**active, "cursor": page.next_cursor})
            if page.next_cursor
            else None,
            "first_url": f"/cases/{case.id}/triage?" + urlencode(active) if cursor else None,
            "verdicts": VERDICTS,
            "exhibits": repo.case_exhibits(db, case.id),
            "series": wq.case_series(db, case.id),
        },
    )
