"""Query by example: upload an image (or video) or paste a hash, get the matches in the
workspace's media and in its hash sets.

Authenticated, rate limited per user (20 a minute by default) and audited, so the workspace
never becomes a match oracle. Results name hash sets and what they say of an entry, never an
entry's other hash values. Media of cases the user is no member of are left out of the
results; `withheld` says how many were (issue 14: the query must not reveal other cases).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import Response

from tantalio.signals.lookup import Query, SignalMatch, lookup
from tantalio.store import access, web_media
from tantalio.store import audit as store_audit
from tantalio.triage.indexes import ORIENTATIONS, WorkspaceIndexes
from tantalio.web.forms import form_context
from tantalio.web.i18n import N_
from tantalio.web.security import Principal, client_ip, get_db, require, visible_cases
from tantalio.web.templating import render

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

router = APIRouter()
MAX_UPLOAD = 64 << 20
_HEX = re.compile(r"^[0-9a-f]+$")
_index_lock = threading.Lock()


def _hash_kinds(value: str) -> list[str]:
    """Which algorithms a pasted hex value may be (64 hex digits: SHA-256 or PDQ)."""
    if not _HEX.match(value):
        raise HTTPException(
            422, N_("paste a hash as hexadecimal digits (MD5, SHA-1, SHA-256 or PDQ)")
        )
    kinds = {32: ["md5"], 40: ["sha1"], 64: ["sha256", "pdq"]}.get(len(value))
    if kinds is None:
        raise HTTPException(
            422,
            N_(
                "a hash of {count} hex digits is neither MD5, SHA-1, SHA-256 nor PDQ",
                count=len(value),
            ),
        )
    return kinds


class _Side:
    """One side of the workspace (its media, or its hash entries) as the one lookup's
    `Indexes`: exact values in the database, PDQ in the workspace's persistent index, video
    frames read for the query."""

    def __init__(self, db: Session, indexes: WorkspaceIndexes, media: bool) -> None:
        self.db, self.indexes, self.is_media = db, indexes, media
        self._videos: Any = None

    def exact(self, column: str, value: str) -> list[int]:
        mids, eids = web_media.exact_lookup(self.db, column, value)
        return mids if self.is_media else eids

    def pdq(self, hashes: Sequence[str], radius: int) -> list[list[tuple[int, int]]]:
        with _index_lock:
            if self.is_media:
                hits = self.indexes.media(self.db).search(hashes, radius)
                return [[(hid // ORIENTATIONS, d) for hid, d in per] for per in hits]
            return self.indexes.entries(self.db).search(hashes, radius)

    def _frames_index(self) -> Any:
        if self._videos is None:
            from tantalio.store import matching as store_matching
            from tantalio.triage.matching import EntryVideos

            rules = self.indexes.rules
            known: Iterable[tuple[int, Sequence[Any]]]
            if self.is_media:  # stored frames are [pdq, quality, t] lists
                known = store_matching.video_frames(self.db)
            else:
                known = store_matching.entry_vpdq_rows(self.db)
            self._videos = EntryVideos(known, rules)
        return self._videos

    def frames(self, hashes: Sequence[str], radius: int) -> list[list[tuple[int, int, int]]]:
        return self._frames_index().frames(hashes, radius)

    def frame_count(self, ref: int) -> int:
        return int(self._frames_index().frame_count(ref))


def _indexes(request: Request) -> WorkspaceIndexes:
    with _index_lock:
        indexes = getattr(request.app.state, "pdq_indexes", None)
        if indexes is None:
            indexes = request.app.state.pdq_indexes = WorkspaceIndexes(request.app.state.workspace)
        return indexes


def _row(key: str, m: SignalMatch) -> dict[str, Any]:
    row: dict[str, Any] = {
        key: m.ref,
        "algorithm": m.signal_type,
        "distance": m.distance,
        "rule": m.rule,
    }
    if m.orientation is not None:
        row["orientation"] = m.orientation
    if m.query_share is not None:
        row |= {"query_share": m.query_share, "index_share": m.index_share}
    return row


def run_query(
    request: Request,
    db: Session,
    principal: Principal,
    *,
    data: bytes | None,
    filename: str | None,
    value: str | None,
) -> dict[str, Any]:
    wait = request.app.state.query_limiter.check_and_hit(f"user:{principal.user.id}")
    if wait > 0:
        raise HTTPException(
            429, N_("too many queries; wait a minute"), headers={"Retry-After": str(int(wait) + 1)}
        )
    notes: list[str] = []
    query: dict[str, Any]
    indexes = _indexes(request)
    rules = indexes.rules
    queries: list[Query] = []
    if data is not None:
        from tantalio.fingerprint import fingerprint_bytes

        fp = fingerprint_bytes(data, filename)
        query = {
            "input": "upload",
            "name": filename,
            "size": fp.size,
            "sha256": fp.sha256,
            "type": fp.type,
        }
        queries.append(Query.of_fingerprint(fp, rules))
        if fp.pdq and not rules.pdq_ok(fp.pdq_quality):
            notes.append(
                N_(
                    "PDQ quality {quality} is below {minimum}: near-duplicates not searched",
                    quality=fp.pdq_quality,
                    minimum=rules.min_quality,
                )
            )
        elif not fp.pdq and not fp.frames:
            notes.append(N_("not a decodable image or video: exact hashes only"))
        if fp.error:
            notes.append(fp.error)
    else:
        hexvalue = (value or "").strip().lower()
        kinds = _hash_kinds(hexvalue)
        query = {"input": "hash", "value": hexvalue, "kinds": kinds}
        queries += [Query.of_signal(kind, hexvalue, rules) for kind in kinds]
    media: dict[int, dict[str, Any]] = {}
    entries: dict[int, dict[str, Any]] = {}
    for side, found, key in ((True, media, "media_id"), (False, entries, "entry_id")):
        where = _Side(db, indexes, side)
        for q in queries:
            for m in lookup(q, where, rules):
                if m.ref not in found or m.distance < found[m.ref]["distance"]:
                    found[m.ref] = _row(key, m)
    mine = access.visible_media(db, principal.user, list(media))
    withheld = len(media) - len(mine)
    media = {k: v for k, v in media.items() if k in mine}
    if withheld:
        notes.append(
            N_(
                "{count} matching media of cases you are not a member of are withheld",
                count=withheld,
            )
        )
    facts = {m["media_id"]: m for m in web_media.media_summaries(db, list(media))}
    cases = web_media.media_cases(db, list(media))
    allowed = visible_cases(db, principal)
    if allowed is not None:
        refs = access.case_references(db, allowed)
        cases = {k: [c for c in v if c in refs] for k, v in cases.items()}
    media_rows = sorted(
        (
            r | {"media": facts.get(r["media_id"]), "cases": cases.get(r["media_id"], [])}
            for r in media.values()
        ),
        key=lambda r: (r["distance"], r["media_id"]),
    )
    info = web_media.entry_facts(db, list(entries))
    entry_rows = sorted(
        (r | info.get(r["entry_id"], {}) for r in entries.values()),
        key=lambda r: (r["distance"], r["entry_id"]),
    )
    store_audit.audit(
        db,
        "query",
        user=principal.user,
        object_type="query",
        object_id=query.get("sha256") or query.get("value"),
        detail=query | {"media": len(media_rows), "entries": len(entry_rows), "withheld": withheld},
        ip=client_ip(request),
    )
    db.commit()
    return {
        "query": query,
        "media": media_rows,
        "withheld": withheld,
        "entries": entry_rows,
        "notes": notes,
    }


async def _read_upload(file: UploadFile | None) -> bytes | None:
    if file is None or not file.filename:
        return None
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise HTTPException(413, N_("uploads are limited to {size} MB", size=MAX_UPLOAD >> 20))
    return data


@router.post("/api/query", tags=["query"])
async def api_query(
    request: Request,
    file: UploadFile | None = File(None),
    hash: str | None = Form(None),
    principal: Principal = Depends(require("query")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    """Multipart form: `file` (an image or video) or `hash` (MD5, SHA-1, SHA-256 or PDQ hex)."""
    data = await _read_upload(file)
    if data is None and not hash:
        raise HTTPException(422, N_("send a file or a hash"))
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(
        run_query,
        request,
        db,
        principal,
        data=data,
        filename=file.filename if file else None,
        value=hash,
    )


@router.get("/query", include_in_schema=False)
def query_page(request: Request, principal: Principal = Depends(require("query"))) -> Response:
    return render(request, "query.html", {})


@router.post("/query", include_in_schema=False)
async def query_form(
    request: Request,
    file: UploadFile | None = File(None),
    hash: str = Form(""),
    principal: Principal = Depends(require("query")),
    db: Session = Depends(get_db),
) -> Response:
    from starlette.concurrency import run_in_threadpool

    try:
        data = await _read_upload(file)
        if data is None and not hash.strip():
            raise HTTPException(422, N_("choose a file or paste a hash"))
        result = await run_in_threadpool(
            run_query,
            request,
            db,
            principal,
            data=data,
            filename=file.filename if file else None,
            value=hash,
        )
    except HTTPException as exc:
        if exc.status_code == 429:  # the rate limit concerns no field
            return render(
                request, "query.html", {"error": exc.detail, "hash": hash}, status_code=429
            )
        field = "file" if file is not None and file.filename and not hash.strip() else "hash"
        ctx, status = form_context(exc, field, hash=hash)
        return render(request, "query.html", {"hash": hash, **ctx}, status_code=status)
    return render(request, "query.html", {"result": result, "hash": hash})
