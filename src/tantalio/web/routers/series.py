"""Series: create from a selection, find similar (PDQ near-duplicates, same camera), members,
identification status and flags, and every case of the workspace where its media appear.

Creating and editing membership needs `series.write` (examiners, victim-identification
specialists); status and the victim/offender-identified flags need `series.identify`.
Every change is an audit event. A series is shown when one of its media is in a case of the
user's, or none is in any case (store.access.may_see_series); its members and cases are then
shown only as far as they lie in the user's cases.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from tantalio.store import access, review, web_media
from tantalio.store import audit as store_audit
from tantalio.store.series import SERIES_STATUSES, Series
from tantalio.web.exchange_view import series_exchange
from tantalio.web.i18n import N_
from tantalio.web.security import (
    Principal,
    client_ip,
    get_db,
    require,
    require_media,
    visible_cases,
)
from tantalio.web.templating import render

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

router = APIRouter()


class SeriesIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    media_ids: list[int] = Field(default_factory=list, max_length=5000)
    notes: str | None = None


class SeriesPatch(BaseModel):
    name: str | None = Field(None, max_length=200)
    status: str | None = Field(None, description=" / ".join(SERIES_STATUSES))
    victim_identified: bool | None = None
    offender_identified: bool | None = None
    notes: str | None = None


class MembersIn(BaseModel):
    add: list[int] = Field(default_factory=list, max_length=5000)
    remove: list[int] = Field(default_factory=list, max_length=5000)


def series_dict(s: Series, members: int | None = None, cases: int | None = None) -> dict[str, Any]:
    out = {
        "id": s.id,
        "name": s.name,
        "status": s.status,
        "victim_identified": s.victim_identified,
        "offender_identified": s.offender_identified,
        "notes": s.notes,
        "created_at": s.created_at.isoformat(),
        "updated_at": s.updated_at.isoformat(),
    }
    if members is not None:
        out["members"] = members
    if cases is not None:
        out["cases"] = cases
    return out


def _get(db: Session, series_id: int) -> Series:
    s = review.get_series(db, series_id)
    if s is None:
        raise HTTPException(404, N_("no series {id}", id=series_id))
    return s


def _rows(db: Session, principal: Principal) -> list[review.SeriesRow]:
    """The series the user may see; for non-admins, members and cases are counted within
    their own cases only."""
    rows = review.list_series(db)
    if access.sees_all(principal.user):
        return rows
    return [
        review.SeriesRow(
            r.series,
            len(_members(db, principal, r.series.id)),
            len(_cases(db, principal, r.series.id)),
        )
        for r in rows
        if access.may_see_series(db, principal.user, r.series.id)
    ]


def _members(db: Session, principal: Principal, series_id: int) -> list[int]:
    """The series' media the user may see (all of them for admins)."""
    ids = review.member_ids(db, series_id)
    mine = access.visible_media(db, principal.user, ids)
    return [i for i in ids if i in mine]


def _cases(db: Session, principal: Principal, series_id: int) -> list[dict[str, Any]]:
    allowed = visible_cases(db, principal)
    rows = review.series_cases(db, series_id)
    return [r for r in rows if allowed is None or r["id"] in allowed]


def _audit(
    request: Request,
    db: Session,
    principal: Principal,
    action: str,
    series_id: int,
    detail: dict[str, Any],
) -> None:
    store_audit.audit(
        db,
        action,
        user=principal.user,
        object_type="series",
        object_id=series_id,
        detail=detail,
        ip=client_ip(request),
    )


@router.get("/api/series", tags=["series"])
def api_list(
    principal: Principal = Depends(require("series.read")), db: Session = Depends(get_db)
) -> list[dict[str, Any]]:
    return [series_dict(r.series, r.members, r.cases) for r in _rows(db, principal)]


@router.post("/api/series", tags=["series"], status_code=201)
def api_create(
    body: SeriesIn,
    request: Request,
    principal: Principal = Depends(require("series.write")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    """Create a series, usually from the grid's selection (`media_ids`)."""
    require_media(db, principal, body.media_ids)
    try:
        s = review.create_series(
            db, body.name, body.media_ids, body.notes, principal.user.agency_id
        )
    except ValueError as exc:
        raise HTTPException(409, str(exc)) from exc
    members = review.member_ids(db, s.id)
    _audit(request, db, principal, "series.create", s.id, {"name": s.name, "media_ids": members})
    db.commit()
    return series_dict(s, len(members))


@router.get("/api/series/{series_id}", tags=["series"])
def api_get(
    series_id: int,
    principal: Principal = Depends(require("series.read")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    """The series with its members and every case where they appear."""
    s = _get(db, series_id)
    members = web_media.media_summaries(db, _members(db, principal, s.id))
    return series_dict(s, len(members)) | {
        "media": members,
        "case_list": _cases(db, principal, s.id),
        "exchange": series_exchange(db, s),
    }


@router.patch("/api/series/{series_id}", tags=["series"])
def api_patch(
    series_id: int,
    body: SeriesPatch,
    request: Request,
    principal: Principal = Depends(require("series.write")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    s = _get(db, series_id)
    fields = body.model_dump(exclude_unset=True)
    identity = {"status", "victim_identified", "offender_identified"} & fields.keys()
    if identity and not principal.can("series.identify"):
        raise HTTPException(
            403,
            N_("your role ({role}) may not change identification status", role=principal.user.role),
        )
    try:
        changes = review.update_series(db, s, **fields)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    if changes:
        _audit(request, db, principal, "series.update", s.id, {"changes": changes})
    db.commit()
    return series_dict(s)


@router.post("/api/series/{series_id}/members", tags=["series"])
def api_members(
    series_id: int,
    body: MembersIn,
    request: Request,
    principal: Principal = Depends(require("series.write")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    s = _get(db, series_id)
    require_media(db, principal, body.add + body.remove)
    added = review.add_members(db, s.id, body.add)
    removed = review.remove_members(db, s.id, body.remove)
    if added or removed:
        _audit(request, db, principal, "series.members", s.id, {"added": added, "removed": removed})
    db.commit()
    return {"added": added, "removed": removed, "members": len(review.member_ids(db, s.id))}


@router.get("/api/series/{series_id}/similar", tags=["series"])
def api_similar(
    series_id: int,
    principal: Principal = Depends(require("series.read")),
    db: Session = Depends(get_db),
) -> list[dict[str, Any]]:
    """Proposals: PDQ near-duplicates of the members and media from the same camera."""
    s = _get(db, series_id)
    proposals = web_media.similar_to(db, _members(db, principal, s.id))
    mine = access.visible_media(db, principal.user, [p["media_id"] for p in proposals])
    proposals = [p for p in proposals if p["media_id"] in mine]
    facts = {
        m["media_id"]: m for m in web_media.media_summaries(db, [p["media_id"] for p in proposals])
    }
    return [p | {"media": facts.get(p["media_id"])} for p in proposals]


@router.get("/series", include_in_schema=False)
def list_page(
    request: Request,
    principal: Principal = Depends(require("series.read")),
    db: Session = Depends(get_db),
) -> Response:
    return render(request, "series_list.html", {"rows": _rows(db, principal)})


@router.get("/series/{series_id}", include_in_schema=False)
def detail_page(
    series_id: int,
    request: Request,
    principal: Principal = Depends(require("series.read")),
    db: Session = Depends(get_db),
) -> Response:
    s = _get(db, series_id)
    return render(
        request,
        "series.html",
        {
            "s": s,
            "media": web_media.media_summaries(db, _members(db, principal, s.id)),
            "cases": _cases(db, principal, s.id),
            "statuses": SERIES_STATUSES,
            "exchange": series_exchange(db, s),
        },
    )
