"""The distribution network of a case's chats: accounts ranked as likely distributors
(tantalio.network, docs/decisions/network.md) and the graph as GEXF/GraphML for Gephi.
Exports are POST (CSRF) and audited."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from tantalio.store import audit as store_audit
from tantalio.web.routers.cases import get_case
from tantalio.web.security import Principal, client_ip, get_db, require
from tantalio.web.templating import render

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

router = APIRouter()
GRAPH_TYPES = {"gexf": "application/gexf+xml", "graphml": "application/graphml+xml"}


def _network(db: Session, case_id: int, all_cases: bool) -> tuple[Any, list[Any]]:
    from tantalio.network import build_graph, rank
    from tantalio.store.chats import load_graph_data

    data = load_graph_data(db, None if all_cases else [case_id])
    graph = build_graph(data)
    return graph, rank(data, graph)


@router.get("/api/cases/{case_id}/network", tags=["network"])
def api_network(
    case_id: int,
    top: int = 50,
    all_cases: bool = False,
    principal: Principal = Depends(require("cases.read")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    """Accounts of the case's chats ranked as likely distributors (highest score first)."""
    case = get_case(db, case_id)
    graph, ranking = _network(db, case.id, all_cases)
    return {
        "accounts": len(ranking),
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "ranking": [r.to_json() for r in ranking[: max(0, min(top, 1000))]],
    }


@router.post("/api/cases/{case_id}/network/export/{fmt}", tags=["network"], response_class=Response)
def api_export(
    case_id: int,
    fmt: str,
    request: Request,
    all_cases: bool = False,
    principal: Principal = Depends(require("export")),
    db: Session = Depends(get_db),
) -> Response:
    """The network graph as `gexf` or `graphml`, annotated with the ranking."""
    from tantalio.network import annotate, export_graph

    if fmt not in GRAPH_TYPES:
        raise HTTPException(404, f"unknown graph format {fmt!r}; use gexf or graphml")
    case = get_case(db, case_id)
    graph, ranking = _network(db, case.id, all_cases)
    annotate(graph, ranking)
    tmp = Path(tempfile.mkdtemp(prefix="tantalio-graph-"))
    try:
        path = tmp / f"network.{fmt}"
        export_graph(graph, path)
        data = path.read_bytes()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    store_audit.audit(
        db,
        "export",
        user=principal.user,
        object_type="case",
        object_id=case.id,
        detail={"format": fmt, "what": "network", "bytes": len(data)},
        ip=client_ip(request),
    )
    db.commit()
    return Response(
        data,
        media_type=GRAPH_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="network-{case.id}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/cases/{case_id}/network", include_in_schema=False)
def page(
    case_id: int,
    request: Request,
    principal: Principal = Depends(require("cases.read")),
    db: Session = Depends(get_db),
) -> Response:
    case = get_case(db, case_id)
    graph, ranking = _network(db, case.id, False)
    return render(
        request,
        "network.html",
        {
            "case": case,
            "ranking": ranking[:100],
            "accounts": len(ranking),
            "nodes": graph.number_of_nodes(),
            "edges": graph.number_of_edges(),
        },
    )
