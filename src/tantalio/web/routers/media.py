"""Media: detail, safe thumbnails, reveal (audited), categorize / tags / notes (audited).

Thumbnails are served only to logged-in users, never cached by the browser, blurred and
grayscale per the user's settings. The clear thumbnail is reachable only through a reveal:
POST /api/media/{id}/reveal writes the audit event and returns a link valid for a short
time, for that user and that media only.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from pydantic import BaseModel, Field

from tantalio.store import access, review, web_media
from tantalio.store import audit as store_audit
from tantalio.store import web_queries as wq
from tantalio.web import regions as match_regions
from tantalio.web import thumbnails
from tantalio.web.categories import CATEGORIES, parse_category
from tantalio.web.exchange_view import media_agencies
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
NO_STORE = {"Cache-Control": "no-store, private", "Pragma": "no-cache"}
MAX_BULK = 5000


class CategorizeIn(BaseModel):
    media_ids: list[int] = Field(min_length=1, max_length=MAX_BULK)
    category: int | None = Field(None, description="VICS 2.0 (US) code 0-4; null = uncategorized")


class TagsIn(BaseModel):
    media_ids: list[int] = Field(min_length=1, max_length=MAX_BULK)
    add: list[str] = []
    remove: list[str] = []


class NotesIn(BaseModel):
    notes: str | None = Field(None, max_length=20000)


def _signer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.settings.secret_key, salt="tantalio-reveal")


def media_facts(db: Session, media_id: int) -> dict[str, Any]:
    facts = web_media.thumbnail_facts(db, media_id)
    if facts is None:
        raise HTTPException(404, N_("no media {id}", id=media_id))
    return facts


def clear_bytes(
    request: Request, db: Session, media_id: int, facts: dict[str, Any]
) -> bytes | None:
    ws_dir: Path | None = request.app.state.workspace.dir
    data = thumbnails.clear_thumbnail(ws_dir, facts["sha256"], facts["thumbnail"])
    if data is None and ws_dir is not None:
        files = [_on_disk(src, path) for src, path, _ in web_media.source_candidates(db, media_id)]
        rel = thumbnails.lazy_thumbnail(
            ws_dir, facts["sha256"], facts["kind"], files, facts["keyframes"]
        )
        if rel:
            review.set_thumbnail(db, media_id, rel)
            db.commit()
            data = thumbnails.clear_thumbnail(ws_dir, facts["sha256"], rel)
    return data


def _on_disk(source: str, path: str) -> Path:
    """Where a file of a source is on disk: under a folder source, or a source that is the
    one file (an archive's members are not: `lazy_thumbnail` skips what is no file)."""
    src = Path(source)
    return src if path == src.name and src.is_file() else src / path


@router.get("/api/media/{media_id}/thumbnail", tags=["media"], response_class=Response)
def thumbnail(
    media_id: int,
    request: Request,
    principal: Principal = Depends(require("media.view")),
    db: Session = Depends(get_db),
) -> Response:
    """The thumbnail with the user's blur and grayscale baked in (JPEG, never cached)."""
    facts = media_facts(db, media_id)
    clear = clear_bytes(request, db, media_id, facts)
    if clear is None:
        data = thumbnails.placeholder(facts["kind"])
    else:
        user = principal.user
        data = thumbnails.cached_variant(
            request.app.state.settings.cache_dir, facts["sha256"], clear, user.blur, user.grayscale
        )
    return Response(data, media_type="image/jpeg", headers=NO_STORE)


def _regions(request: Request, db: Session, d: web_media.MediaDetail) -> list[dict[str, Any]]:
    """The matched regions the media page draws (web/regions.py)."""
    drawn = [x for x in d.matches if set(x["algorithms"]) & set(match_regions.DRAWN)]
    if not drawn:
        return []
    refs = web_media.reference_pictures(db, [x["entry_id"] for x in drawn])
    media = {"kind": d.media.kind, "width": d.media.width, "height": d.media.height}
    return match_regions.regions(media, drawn, refs, request.app.state.workspace.dir)


@router.get(
    "/api/media/{media_id}/reference/{entry_id}/thumbnail",
    tags=["media"],
    response_class=Response,
)
def reference_thumbnail(
    media_id: int,
    entry_id: int,
    request: Request,
    principal: Principal = Depends(require("media.view")),
    db: Session = Depends(get_db),
) -> Response:
    """The thumbnail of the reference file that this media matched (issue 13), with the
    user's blur and grayscale baked in, as every thumbnail; 404 when this media did not
    match that entry or the reference has no picture in the workspace (hash-only)."""
    media_facts(db, media_id)
    if not web_media.matched_entry(db, media_id, entry_id):
        raise HTTPException(404, N_("media {id} did not match that reference", id=media_id))
    ref = web_media.reference_pictures(db, [entry_id]).get(entry_id, {})
    ws_dir: Path | None = request.app.state.workspace.dir
    rel = match_regions.reference_thumbnail(ws_dir, ref)
    clear = thumbnails.clear_thumbnail(ws_dir, ref.get("sha256") or "", rel)
    if clear is None:
        raise HTTPException(404, N_("the reference has no picture in this workspace"))
    user = principal.user
    data = thumbnails.cached_variant(
        request.app.state.settings.cache_dir, ref["sha256"], clear, user.blur, user.grayscale
    )
    return Response(data, media_type="image/jpeg", headers=NO_STORE)


@router.post("/api/media/{media_id}/reveal", tags=["media"])
def reveal(
    media_id: int,
    request: Request,
    principal: Principal = Depends(require("media.view")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    """Reveal one item: audited; returns a short-lived link to the clear thumbnail."""
    media_facts(db, media_id)
    case = request.query_params.get("case")
    store_audit.audit(
        db,
        "media.reveal",
        user=principal.user,
        object_type="media",
        object_id=media_id,
        detail={"case": case} if case else None,
        ip=client_ip(request),
    )
    db.commit()
    token = _signer(request).dumps({"u": principal.user.id, "m": media_id})
    return {
        "url": f"/api/media/{media_id}/clear?token={token}",
        "expires_in": request.app.state.settings.reveal_seconds,
    }


@router.get("/api/media/{media_id}/clear", tags=["media"], response_class=Response)
def clear(
    media_id: int,
    token: str,
    request: Request,
    principal: Principal = Depends(require("media.view")),
    db: Session = Depends(get_db),
) -> Response:
    """The clear thumbnail, for the holder of a fresh reveal link only."""
    try:
        claim = _signer(request).loads(token, max_age=request.app.state.settings.reveal_seconds)
    except SignatureExpired as exc:
        raise HTTPException(403, N_("the reveal link expired; reveal again")) from exc
    except BadSignature as exc:
        raise HTTPException(403, N_("not a reveal link")) from exc
    if claim.get("u") != principal.user.id or claim.get("m") != media_id:
        raise HTTPException(403, N_("this reveal link belongs to another user or item"))
    facts = media_facts(db, media_id)
    data = clear_bytes(request, db, media_id, facts) or thumbnails.placeholder(facts["kind"])
    return Response(data, media_type="image/jpeg", headers=NO_STORE)


def categorize(
    request: Request, db: Session, principal: Principal, body: CategorizeIn
) -> dict[str, Any]:
    try:
        category = parse_category(body.category)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    require_media(db, principal, body.media_ids)
    changed = review.categorize(db, body.media_ids, category)
    for media_id, before in changed.items():
        store_audit.audit(
            db,
            "media.categorize",
            user=principal.user,
            object_type="media",
            object_id=media_id,
            detail={"category": category, "before": before},
            ip=client_ip(request),
        )
    db.commit()
    return {"changed": sorted(changed), "category": category}


@router.post("/api/media/categorize", tags=["media"])
def api_categorize(
    body: CategorizeIn,
    request: Request,
    principal: Principal = Depends(require("media.categorize")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    """Set the VICS category of one or many media (one audit event per media changed)."""
    return categorize(request, db, principal, body)


@router.post("/api/media/tags", tags=["media"])
def api_tags(
    body: TagsIn,
    request: Request,
    principal: Principal = Depends(require("media.categorize")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    require_media(db, principal, body.media_ids)
    changed = review.edit_tags(db, body.media_ids, body.add, body.remove)
    for media_id, (before, after) in changed.items():
        store_audit.audit(
            db,
            "media.tags",
            user=principal.user,
            object_type="media",
            object_id=media_id,
            detail={"before": before, "after": after},
            ip=client_ip(request),
        )
    db.commit()
    return {"changed": {str(k): v[1] for k, v in changed.items()}}


@router.put("/api/media/{media_id}/notes", tags=["media"])
def api_notes(
    media_id: int,
    body: NotesIn,
    request: Request,
    principal: Principal = Depends(require("media.categorize")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    try:
        change = review.set_notes(db, media_id, body.notes)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from exc
    if change is not None:
        store_audit.audit(
            db,
            "media.notes",
            user=principal.user,
            object_type="media",
            object_id=media_id,
            detail={"length": len(change[1] or "")},
            ip=client_ip(request),
        )
    db.commit()
    return {"notes": change[1] if change else body.notes}


def detail_dict(d: web_media.MediaDetail) -> dict[str, Any]:
    m = d.media
    return {
        "id": m.id,
        "sha256": m.sha256,
        "md5": m.md5,
        "sha1": m.sha1,
        "size": m.size,
        "kind": m.kind,
        "type": m.type,
        "mime": m.mime,
        "width": m.width,
        "height": m.height,
        "duration": m.duration,
        "pdq": m.pdq,
        "pdq_quality": m.pdq_quality,
        # stored by `ingest --fast`: hashes and exact matches only, PDQ/vPDQ still to come
        "perceptual_pending": bool(m.perceptual_pending) and m.kind in ("image", "video"),
        "keyframes": m.keyframes,
        "exif": {
            k: getattr(m, k)
            for k in (
                "make",
                "model",
                "serial",
                "lens",
                "datetime_original",
                "gps_latitude",
                "gps_longitude",
                "software",
                "exif_orientation",
            )
            if getattr(m, k) is not None
        },
        "category": m.category,
        "tags": m.tags or [],
        "notes": m.notes,
        "error": m.error,
        "occurrences": d.occurrences,
        "matches": d.matches,
        "near_duplicates": d.near_duplicates,
        "series": d.series,
        "messages": d.messages,
    }


def media_spread_json(
    db: Session, sha256: str | None, cases: set[int] | None = None
) -> dict[str, Any] | None:
    """Who posted this file first and how it spread (network/firstpost.py), with the clocks
    of the exhibits that hold it aligned; None when no chat carried it. Only the exhibits of
    `cases` (the user's; None: all) take part: another case's phones stay out of sight."""
    from tantalio.network.firstpost import media_spread
    from tantalio.store.chats.copies import account_labels, exhibits_holding, load_message_copies

    if sha256 is None:  # known only by MD5/SHA-1: chats name files by SHA-256
        return None
    exhibits = access.exhibits_in_cases(db, exhibits_holding(db, sha256), cases)
    if not exhibits:
        return None
    report = media_spread(load_message_copies(db, exhibit_ids=exhibits), only=[sha256])
    if not report.media:
        return None
    out = report.media[0].to_json()
    labels = account_labels(db, [p["sender_id"] for p in out["spread"] if p["sender_id"]])
    for post in [out["first"], *out["spread"]]:
        post["sender_label"] = labels.get(post["sender_id"], post["sender"])
    out["clocks"] = [
        f.to_json() for f in report.clocks.values() if f.via in ("anchors", "unaligned")
    ]
    return out


def media_uploads(db: Session, media_id: int, principal: Principal) -> list[dict[str, Any]]:
    """Who uploaded this content to a platform, from where and when, as the platforms'
    law-enforcement report packages ingested into the user's cases say (store/uploads.py)."""
    from tantalio.store.uploads import uploads_of_media

    facts = uploads_of_media(db, [media_id], visible_cases(db, principal)).get(media_id, [])
    return [
        {
            "exhibit": u.exhibit,
            "path": u.path,
            "report_id": u.report_id,
            "reporter": u.reporter,
            "service": u.service,
            "account_id": u.account_id,
            "account": u.account,
            "ip": u.ip,
            "port": u.port,
            "time_given": u.time_given,
            "uploaded_at_utc": u.uploaded_at.isoformat() + "Z" if u.uploaded_at else None,
            "zone_stated": u.zone_stated,
        }
        for u in facts
    ]


def _detail(db: Session, media_id: int, principal: Principal) -> web_media.MediaDetail:
    """The media's detail, showing of other cases only what the user may see: occurrences,
    chat messages and near-duplicates in cases they are no member of are left out."""
    d = web_media.media_detail(db, media_id)
    if d is None:
        raise HTTPException(404, N_("no media {id}", id=media_id))
    allowed = visible_cases(db, principal)
    if allowed is not None:
        d.occurrences = [o for o in d.occurrences if o["case_id"] in allowed]
        refs = access.case_references(db, allowed)
        d.messages = [m for m in d.messages if m["case"] in refs]
        near = access.visible_media(db, principal.user, [n["media_id"] for n in d.near_duplicates])
        d.near_duplicates = [n for n in d.near_duplicates if n["media_id"] in near]
    return d


@router.get("/api/media/{media_id}", tags=["media"])
def api_detail(
    media_id: int,
    request: Request,
    principal: Principal = Depends(require("media.view")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    """Hashes, EXIF, every occurrence across exhibits and cases, hash-set matches with
    distances, near-duplicates in the workspace, series, chat messages that carried it, and
    `spread`: who posted it first and where it went (clocks aligned across phones), and
    other agencies' records at the central exchange (`agencies`), and the uploads that
    platforms reported (`uploads`: account, IP, port, time as given and in UTC)."""
    d = _detail(db, media_id, principal)
    return detail_dict(d) | {
        "regions": _regions(request, db, d),
        "spread": media_spread_json(db, d.media.sha256, visible_cases(db, principal)),
        "agencies": media_agencies(db, media_id),
        "uploads": media_uploads(db, media_id, principal),
    }


@router.get("/media/{media_id}", include_in_schema=False)
def detail_page(
    media_id: int,
    request: Request,
    case: int | None = None,
    principal: Principal = Depends(require("media.view")),
    db: Session = Depends(get_db),
) -> Response:
    d = _detail(db, media_id, principal)
    near = web_media.media_summaries(db, [n["media_id"] for n in d.near_duplicates])
    distance = {n["media_id"]: n["distance"] for n in d.near_duplicates}
    prev_url = next_url = None
    grid_query = ""
    if case is not None:
        from urllib.parse import urlencode

        from tantalio.web.routers.triage import _params, parse_filter

        params = {k: v for k, v in _params(request).items() if v}
        grid_query = urlencode(params)
        before, after = wq.grid_neighbours(db, case, parse_filter(params), media_id)
        stay = urlencode({**params, "case": case})
        prev_url = f"/media/{before}?{stay}" if before is not None else None
        next_url = f"/media/{after}?{stay}" if after is not None else None
    return render(
        request,
        "media.html",
        {
            "m": detail_dict(d)
            | {
                "agencies": media_agencies(db, media_id),
                "uploads": media_uploads(db, media_id, principal),
            },
            "spread": media_spread_json(db, d.media.sha256, visible_cases(db, principal)),
            "regions": _regions(request, db, d),
            "prev_url": prev_url,
            "next_url": next_url,
            "grid_query": grid_query,
            "case_id": case,
            "near": [n | {"distance": distance.get(n["media_id"])} for n in near],
            "categories": CATEGORIES,
            "all_series": [
                (r.series.id, r.series.name)
                for r in review.list_series(db)
                if access.may_see_series(db, principal.user, r.series.id)
            ],
        },
    )
