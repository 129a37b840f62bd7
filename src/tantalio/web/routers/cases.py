"""Cases: list, create, the case dashboard (counts with charts, new-media queue first) and
ingest started from the browser with live progress.

A user sees only the cases they are a member of (admins: all; `security.require_case_access`
guards every case route); whoever creates a case becomes its member. The browser may ingest
only sources under the evidence roots the server was started with (`tantalio serve
--evidence-root DIR`); anything else is refused and the refusal audited (issue 14).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field, ValidationError

from tantalio.store import access, repo
from tantalio.store import audit as store_audit
from tantalio.store import web_queries as wq
from tantalio.store.cases import VERDICTS
from tantalio.triage.tile_facts import annotate
from tantalio.web.categories import CATEGORIES
from tantalio.web.exchange_view import case_exchange
from tantalio.web.forms import form_context
from tantalio.web.i18n import N_
from tantalio.web.routers.notices import notice_dicts
from tantalio.web.security import Principal, client_ip, get_db, require, visible_cases
from tantalio.web.templating import render

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tantalio.store.cases import Case

router = APIRouter()


class CaseIn(BaseModel):
    reference: str = Field(min_length=1, max_length=200)
    title: str | None = None


class IngestIn(BaseModel):
    source: str = Field(min_length=1, description="A folder, archive or disk image on the server")
    exhibit: str | None = Field(None, description="Exhibit label (default: the source's name)")


def get_case(db: Session, case_id: int) -> Case:
    case = wq.get_case_by_id(db, case_id)
    if case is None:
        raise HTTPException(404, N_("no case {id}", id=case_id))
    return case


def _cases(db: Session, principal: Principal) -> list[dict[str, Any]]:
    """The cases the user may see (members: theirs; admins: all)."""
    allowed = visible_cases(db, principal)
    return [
        {
            "id": c.id,
            "reference": c.reference,
            "title": c.title,
            "exhibits": e,
            "files": f,
            "created_at": c.created_at.isoformat(),
        }
        for c, e, f in repo.list_cases(db)
        if allowed is None or c.id in allowed
    ]


def create_case(request: Request, db: Session, principal: Principal, body: CaseIn) -> Case:
    reference = body.reference.strip()
    if not reference:
        raise HTTPException(422, N_("a case needs a reference (letters, digits or signs)"))
    case, created = repo.ensure_case(db, reference, (body.title or "").strip() or None)
    if not created:
        raise HTTPException(409, N_("a case {reference} exists already", reference=repr(reference)))
    store_audit.audit(
        db,
        "case.create",
        user=principal.user,
        object_type="case",
        object_id=case.id,
        detail={"reference": reference},
        ip=client_ip(request),
    )
    access.grant(db, case, principal.user, by=principal.user, ip=client_ip(request))
    db.commit()
    return case


def summary_dict(summary: wq.CaseSummary) -> dict[str, Any]:
    c = summary.case
    order = {v: i for i, v in enumerate(VERDICTS)}
    return {
        "id": c.id,
        "reference": c.reference,
        "title": c.title,
        "files": summary.files,
        "media": summary.media,
        "verdicts": dict(sorted(summary.verdicts.items(), key=lambda kv: order.get(kv[0], 99))),
        "categories": {str(k): v for k, v in summary.categories.items()},
        "categories_examiner": {str(k): v for k, v in summary.categories_examiner.items()},
        "categories_hashset": {str(k): v for k, v in summary.categories_hashset.items()},
        "kinds": summary.kinds,
        "perceptual_pending": summary.perceptual_pending,
        "exhibits": summary.exhibits,
    }


def ingest_status(request: Request, db: Session, case: Case) -> dict[str, Any]:
    summary = wq.case_summary(db, case)
    jobs = request.app.state.ingest_jobs.for_case(case.reference)
    return {
        "exhibits": [
            {k: e[k] for k in ("id", "label", "status", "files")} for e in summary.exhibits
        ],
        "files": summary.files,
        "jobs": [j.as_dict() | {"stored": summary.files} for j in jobs],
        "running": any(j.state == "running" for j in jobs)
        or any(e["status"] == "ingesting" for e in summary.exhibits),
    }


NO_EVIDENCE_ROOT = N_(
    "ingest from the browser is off: the server names no evidence folder; restart it with "
    "`tantalio serve --evidence-root DIR` (repeatable) naming the folders that hold evidence, "
    "or ingest on the command line with `tantalio ingest CASE SOURCE`"
)


def evidence_source(request: Request, raw: str) -> Path:
    """The source with symlinks and `..` resolved, if it lies under an evidence root;
    else HTTPException naming the roots (a browser must not make the server read /etc)."""
    roots: list[Path] = request.app.state.settings.evidence_roots
    if not roots:
        raise HTTPException(403, NO_EVIDENCE_ROOT)
    source = Path(raw.strip()).expanduser().resolve()
    for root in roots:
        real = root.expanduser().resolve()
        if source == real or real in source.parents:
            if not source.exists():
                raise HTTPException(
                    400, N_("{source}: no such file or folder on the server", source=source)
                )
            return source
    names = ", ".join(str(r) for r in roots)
    raise HTTPException(
        403,
        N_(
            "{source} is outside the evidence folders of this server ({names})",
            source=source,
            names=names,
        ),
    )


def start_ingest(
    request: Request, db: Session, principal: Principal, case: Case, body: IngestIn
) -> dict[str, Any]:
    try:
        source = str(evidence_source(request, body.source))
    except HTTPException as exc:
        if exc.status_code == 403:
            store_audit.audit(
                db,
                "ingest.refused",
                user=principal.user,
                object_type="case",
                object_id=case.id,
                detail={"source": body.source[:1000], "reason": exc.detail},
                ip=client_ip(request),
            )
            db.commit()
        raise
    try:
        job = request.app.state.ingest_jobs.start(
            case.reference, source, body.exhibit or None, principal.user.username
        )
    except RuntimeError as exc:
        raise HTTPException(409, str(exc)) from exc
    store_audit.audit(
        db,
        "ingest.start",
        user=principal.user,
        object_type="case",
        object_id=case.id,
        detail={"source": source, "exhibit": body.exhibit},
        ip=client_ip(request),
    )
    db.commit()
    return job.as_dict()


# --- JSON API ---------------------------------------------------------------------------------


@router.get("/api/cases", tags=["cases"])
def api_cases(
    principal: Principal = Depends(require("cases.read")), db: Session = Depends(get_db)
) -> list[dict[str, Any]]:
    return _cases(db, principal)


@router.post("/api/cases", tags=["cases"], status_code=201)
def api_create(
    body: CaseIn,
    request: Request,
    principal: Principal = Depends(require("cases.write")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    case = create_case(request, db, principal, body)
    return {"id": case.id, "reference": case.reference, "title": case.title}


@router.get("/api/cases/{case_id}", tags=["cases"])
def api_case(
    case_id: int,
    principal: Principal = Depends(require("cases.read")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    """Counts per exhibit, verdict, category and kind (the dashboard), and what the central
    exchange said: other agencies holding its media, notices of the last syncs."""
    case = get_case(db, case_id)
    return summary_dict(wq.case_summary(db, case)) | {"exchange": case_exchange(db, case.id)}


@router.get("/api/cases/{case_id}/ingest", tags=["cases"])
def api_ingest_status(
    case_id: int,
    request: Request,
    principal: Principal = Depends(require("cases.read")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    return ingest_status(request, db, get_case(db, case_id))


@router.post("/api/cases/{case_id}/ingest", tags=["cases"], status_code=202)
def api_ingest(
    case_id: int,
    body: IngestIn,
    request: Request,
    principal: Principal = Depends(require("cases.write")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    """Ingest a source on the server into the case, in the background."""
    return start_ingest(request, db, principal, get_case(db, case_id), body)


# --- pages ------------------------------------------------------------------------------------


@router.get("/cases", include_in_schema=False)
def cases_page(
    request: Request,
    principal: Principal = Depends(require("cases.read")),
    db: Session = Depends(get_db),
) -> Response:
    return render(request, "cases.html", {"cases": _cases(db, principal)})


@router.post("/cases", include_in_schema=False)
def cases_create(
    request: Request,
    reference: str = Form(...),
    title: str = Form(""),
    principal: Principal = Depends(require("cases.write")),
    db: Session = Depends(get_db),
) -> Response:
    try:
        case = create_case(request, db, principal, CaseIn(reference=reference, title=title or None))
    except (HTTPException, ValidationError) as exc:
        ctx, status = form_context(exc, "reference", reference=reference, title=title)
        return render(
            request, "cases.html", {"cases": _cases(db, principal), **ctx}, status_code=status
        )
    return RedirectResponse(f"/cases/{case.id}", status_code=303)


@router.get("/cases/{case_id}", include_in_schema=False)
def case_page(
    case_id: int,
    request: Request,
    principal: Principal = Depends(require("cases.read")),
    db: Session = Depends(get_db),
) -> Response:
    return _case_page(request, db, get_case(db, case_id))


def _case_page(
    request: Request, db: Session, case: Case, status_code: int = 200, **extra: Any
) -> Response:
    """The case dashboard; `extra` carries a refused ingest form's errors and input."""
    summary = summary_dict(wq.case_summary(db, case))
    queue = wq.grid_page(db, case.id, wq.GridFilter(verdict="new"), limit=12)
    annotate(db, queue.items)
    status = ingest_status(request, db, case)
    return render(
        request,
        "case.html",
        {
            "case": case,
            "summary": summary,
            "queue": queue.items,
            "status": status,
            "categories": CATEGORIES,
            "verdict_order": VERDICTS,
            "evidence_roots": request.app.state.settings.evidence_roots,
            "exchange": case_exchange(db, case.id),
            "notices": notice_dicts(db, case.id),
            **extra,
        },
        status_code=status_code,
    )


@router.post("/cases/{case_id}/ingest", include_in_schema=False)
def case_ingest(
    case_id: int,
    request: Request,
    source: str = Form(...),
    exhibit: str = Form(""),
    principal: Principal = Depends(require("cases.write")),
    db: Session = Depends(get_db),
) -> Response:
    case = get_case(db, case_id)
    try:
        body = IngestIn(source=source.strip(), exhibit=exhibit.strip() or None)
        start_ingest(request, db, principal, case, body)
    except (HTTPException, ValidationError) as exc:
        ctx, status = form_context(exc, "source", source=source, exhibit=exhibit)
        return _case_page(request, db, case, status, **ctx)
    return RedirectResponse(f"/cases/{case.id}", status_code=303)
