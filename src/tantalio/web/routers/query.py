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
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import Response

from tantalio.store import access, web_media
from tantalio.store import audit as store_audit
from tantalio.web.security import Principal, client_ip, get_db, require, visible_cases
from tantalio.web.templating import render

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

router = APIRouter()
MAX_UPLOAD = 64 << 20
PDQ_THRESHOLD = 31
MIN_QUALITY = 50
_HEX = re.compile(r"^[0-9a-f]+$")
_index_lock = threading.Lock()


def _hash_kinds(value: str) -> list[str]:
    """Which algorithms a pasted hex value may be (64 hex digits: SHA-256 or PDQ)."""
    if not _HEX.match(value):
        raise HTTPException(422, "paste a hash as hexadecimal digits (MD5, SHA-1, SHA-256 or PDQ)")
    kinds = {32: ["md5"], 40: ["sha1"], 64: ["sha256", "pdq"]}.get(len(value))
    if kinds is None:
        raise HTTPException(
            422, f"a hash of {len(value)} hex digits is neither MD5, SHA-1, SHA-256 nor PDQ"
        )
    return kinds


def _pdq_search(
    request: Request, db: Session, hashes: list[str]
) -> tuple[dict[int, int], dict[int, int]]:
    """Best distance per media id and per entry id, over all query orientations."""
    from tantalio.triage.indexes import ORIENTATIONS, WorkspaceIndexes

    media: dict[int, int] = {}
    entries: dict[int, int] = {}
    with _index_lock:
        indexes = getattr(request.app.state, "pdq_indexes", None)
        if indexes is None:
            indexes = request.app.state.pdq_indexes = WorkspaceIndexes(request.app.state.workspace)
        media_hits = indexes.media(db).search(hashes, PDQ_THRESHOLD)
        entry_hits = indexes.entries(db).search(hashes, PDQ_THRESHOLD)
    for hits in media_hits:
        for hid, dist in hits:
            mid = hid // ORIENTATIONS
            media[mid] = min(dist, media.get(mid, 999))
    for hits in entry_hits:
        for eid, dist in hits:
            entries[eid] = min(dist, entries.get(eid, 999))
    return media, entries


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
            429, "too many queries; wait a minute", headers={"Retry-After": str(int(wait) + 1)}
        )
    media: dict[int, dict[str, Any]] = {}
    entries: dict[int, dict[str, Any]] = {}
    notes: list[str] = []
    query: dict[str, Any]

    def exact(algorithm: str, hexvalue: str) -> None:
        mids, eids = web_media.exact_lookup(db, algorithm, hexvalue)
        for mid in mids:
            media[mid] = {"media_id": mid, "algorithm": algorithm, "distance": 0}
        for eid in eids:
            entries[eid] = {"entry_id": eid, "algorithm": algorithm, "distance": 0}

    def near(hashes: list[str]) -> None:
        mdist, edist = _pdq_search(request, db, hashes)
        for mid, d in mdist.items():
            media.setdefault(mid, {"media_id": mid, "algorithm": "pdq", "distance": d})
        for eid, d in edist.items():
            entries.setdefault(eid, {"entry_id": eid, "algorithm": "pdq", "distance": d})

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
        for algorithm in ("sha256", "sha1", "md5"):
            exact(algorithm, getattr(fp, algorithm))
        if fp.pdq and (fp.pdq_quality or 0) >= MIN_QUALITY:
            near(fp.pdq_orientations or [fp.pdq])
        elif fp.pdq:
            notes.append(
                f"PDQ quality {fp.pdq_quality} is below {MIN_QUALITY}: near-duplicates not searched"
            )
        elif fp.kind != "image":
            notes.append("not a decodable image: exact hashes only")
        if fp.error:
            notes.append(fp.error)
    else:
        hexvalue = (value or "").strip().lower()
        kinds = _hash_kinds(hexvalue)
        query = {"input": "hash", "value": hexvalue, "kinds": kinds}
        for algorithm in kinds:
            if algorithm == "pdq":
                near([hexvalue])
            else:
                exact(algorithm, hexvalue)
    mine = access.visible_media(db, principal.user, list(media))
    withheld = len(media) - len(mine)
    media = {k: v for k, v in media.items() if k in mine}
    if withheld:
        notes.append(f"{withheld} matching media of cases you are not a member of are withheld")
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
        raise HTTPException(413, f"uploads are limited to {MAX_UPLOAD >> 20} MB")
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
        raise HTTPException(422, "send a file or a hash")
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
            raise HTTPException(422, "choose a file or paste a hash")
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
        return render(
            request, "query.html", {"error": exc.detail, "hash": hash}, status_code=exc.status_code
        )
    return render(request, "query.html", {"result": result, "hash": hash})
