"""Exports of a case: VICS 2.0 JSON, the CSV of all files, the HTML report (self-contained,
blurred grayscale thumbnails baked in). The same writers as `tantalio export` / `report`;
each download is an audit event. POST (with CSRF) so that no link can trigger one."""

from __future__ import annotations

import io
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from tantalio.store import audit as store_audit
from tantalio.web.i18n import N_
from tantalio.web.routers.cases import get_case
from tantalio.web.security import Principal, client_ip, get_db, require, visible_cases

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

router = APIRouter()
FORMATS = {
    "vics": ("application/json", "json"),
    "csv": ("text/csv", "csv"),
    "html": ("text/html", "html"),
}


def _render(
    request: Request, db: Session, reference: str, fmt: str, shown: set[int] | None
) -> bytes:
    """The export; other cases holding the same media are named only when the user may see
    them (`shown`; None: all), the verdict `seen-elsewhere` stays."""
    if fmt == "vics":
        from tantalio.reports.vics_export import export_vics

        buf = io.StringIO()
        export_vics(db, reference, buf)
        return buf.getvalue().encode("utf-8")
    if fmt == "csv":
        from tantalio.reports.csv_report import write_csv
        from tantalio.store import repo
        from tantalio.triage.results import triage_rows

        buf = io.StringIO()
        write_csv(buf, triage_rows(db, repo.get_case(db, reference).id, shown))
        return buf.getvalue().encode("utf-8")
    from tantalio.reports.html import build_report

    tmp = Path(tempfile.mkdtemp(prefix="tantalio-report-"))
    try:
        files = build_report(request.app.state.workspace, db, reference, tmp, shown_cases=shown)
        return files.html.read_bytes()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@router.post("/api/cases/{case_id}/export/{fmt}", tags=["exports"], response_class=Response)
def export(
    case_id: int,
    fmt: str,
    request: Request,
    principal: Principal = Depends(require("export")),
    db: Session = Depends(get_db),
) -> Response:
    """Download the case as `vics` (VICS 2.0 JSON), `csv` (all files) or `html` (the report)."""
    if fmt not in FORMATS:
        raise HTTPException(
            404, N_("unknown export format {format}; use vics, csv or html", format=repr(fmt))
        )
    case = get_case(db, case_id)
    seq, digest = store_audit.audit_head(db)
    data = _render(request, db, case.reference, fmt, visible_cases(db, principal))
    store_audit.audit(
        db,
        "export",
        user=principal.user,
        object_type="case",
        object_id=case.id,
        detail={"format": fmt, "bytes": len(data), "reference": case.reference},
        ip=client_ip(request),
    )
    db.commit()
    media_type, ext = FORMATS[fmt]
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", case.reference).strip("_") or f"case{case.id}"
    name = f"{safe}.vics.json" if fmt == "vics" else f"{safe}.{ext}"
    return Response(
        data,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
            "X-Tantalio-Audit-Head": f"{seq}:{digest}",
        },
    )
