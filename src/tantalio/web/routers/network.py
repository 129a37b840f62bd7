"""The distribution network of a case's chats: accounts ranked as likely distributors
(tantalio.network, docs/decisions/network.md), the graph for the page's interactive view
(`static/network.js`, Cytoscape.js) and as GEXF/GraphML for Gephi. Exports are POST (CSRF)
and audited. Account and group pages live in `accounts.py` (included here)."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from tantalio.store import audit as store_audit
from tantalio.store.ingest import media_ids
from tantalio.web.i18n import N_
from tantalio.web.routers import accounts
from tantalio.web.routers.cases import get_case
from tantalio.web.security import Principal, client_ip, get_db, require, visible_cases
from tantalio.web.templating import render

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

router = APIRouter()
router.include_router(accounts.router)
GRAPH_TYPES = {"gexf": "application/gexf+xml", "graphml": "application/graphml+xml"}


def scope(db: Session, principal: Principal, case_id: int, all_cases: bool) -> list[int] | None:
    """The cases a network view covers: the case, or with `all_cases` every case the user
    may see (None: the whole workspace, for admins)."""
    if not all_cases:
        return [case_id]
    allowed = visible_cases(db, principal)
    return None if allowed is None else sorted(allowed)


def _network(
    db: Session, principal: Principal, case_id: int, all_cases: bool
) -> tuple[Any, list[Any]]:
    graph, ranking, _data = accounts.network(db, scope(db, principal, case_id, all_cases))
    return graph, ranking


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
    graph, ranking = _network(db, principal, case.id, all_cases)
    return {
        "accounts": len(ranking),
        "nodes": graph.number_of_nodes(),
        "edges": graph.number_of_edges(),
        "ranking": [r.to_json() for r in ranking[: max(0, min(top, 1000))]],
    }


@router.get("/api/cases/{case_id}/network/graph", tags=["network"])
def api_graph(
    case_id: int,
    top: int = Query(25, ge=0, le=10_000, description="seed accounts (best ranked); 0: all"),
    max_nodes: int = Query(1500, ge=10, le=20_000),
    all_cases: bool = False,
    principal: Principal = Depends(require("cases.read")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    """Nodes and edges for the interactive view: the `top` best-ranked accounts and their
    neighbourhood (groups, media they posted, chat partners; the groups' members, invite
    links and the sites listing them; series of known media), at most `max_nodes` nodes in
    that order of priority. Media nodes carry hashes, verdict and category, never content."""
    case = get_case(db, case_id)
    graph, ranking, _data = accounts.network(db, scope(db, principal, case.id, all_cases))
    stored = media_ids(db, {n[6:] for n in graph if str(n).startswith("media:")})
    view = graph_view(graph, ranking, top=top, max_nodes=max_nodes)
    suffix = "" if all_cases else f"?case={case.id}"
    return {
        "case": {"id": case.id, "reference": case.reference},
        "top": top,
        "max_nodes": max_nodes,
        "total": {
            "nodes": graph.number_of_nodes(),
            "edges": graph.number_of_edges(),
            "accounts": len(ranking),
        },
        "truncated": view.truncated,
        "nodes": [_node_json(graph, n, view, stored, suffix) for n in view.nodes],
        "edges": [
            {"id": f"e{i}", "source": u, "target": v} | _edge_attrs(attrs)
            for i, (u, v, attrs) in enumerate(graph.subgraph(view.nodes).edges(data=True))
        ],
    }


@dataclass(slots=True)
class GraphView:
    nodes: list[str]
    rank: dict[str, tuple[int, Any]]  # account node -> (place, AccountScore)
    truncated: bool


def graph_view(graph: Any, ranking: list[Any], *, top: int, max_nodes: int) -> GraphView:
    """Which nodes to draw, most telling first, so a big case stays responsive: the seed
    accounts; their groups, chat partners and known media; the groups' invite links, the
    sites listing those (with their other invites) and the series of the media; the groups'
    other members (by rank); then the new media the seeds posted."""
    place = {f"account:{r.id}": (i, r) for i, r in enumerate(ranking, start=1)}
    seeds = [f"account:{r.id}" for r in (ranking if top == 0 else ranking[:top])]
    order: dict[str, None] = {}

    def by_rank(nodes: Any) -> list[str]:
        return sorted(nodes, key=lambda n: (place.get(n, (1 << 30, None))[0], n))

    def add(nodes: Any) -> None:
        for n in nodes:
            order.setdefault(n, None)

    def neighbours(nodes: list[str], kind: str, keep: Any = None) -> list[str]:
        out: dict[str, None] = {}
        for n in nodes:
            for m in graph.neighbors(n):
                if graph.nodes[m].get("type") == kind and (keep is None or keep(m)):
                    out.setdefault(m, None)
        return list(out)

    add(seeds)
    groups = sorted(neighbours(seeds, "group"), key=lambda g: (-graph.degree(g), g))
    add(groups)
    add(by_rank(neighbours(seeds, "account")))
    known = neighbours(seeds, "media", lambda m: graph.nodes[m].get("known"))
    add(known)
    invites = neighbours(groups, "invite")
    add(invites)
    sites = sorted(neighbours(invites, "site"))
    add(sites)
    add(sorted(neighbours(sites, "invite")))  # the site's other invites (groups not on a phone)
    add(sorted(neighbours(known, "series")))
    add(by_rank(neighbours(groups, "account")))
    add(neighbours(seeds, "media"))
    nodes = list(order)
    return GraphView(nodes[:max_nodes], place, len(nodes) > max_nodes)


def _node_json(
    graph: Any, node: str, view: GraphView, stored: dict[str, int], suffix: str
) -> dict[str, Any]:
    attrs = graph.nodes[node]
    kind = attrs.get("type")
    out: dict[str, Any] = {"id": node, "type": kind, "label": str(attrs.get("label", node))}
    if kind == "account":
        place, r = view.rank.get(node, (None, None))
        out |= {
            "names": list(attrs.get("names") or [])[:3],
            "rank": place,
            "score": round(r.score, 3) if r else 0.0,
            "known_posts": r.known_posts if r else 0,
            "new_posts": r.new_posts if r else 0,
            "href": f"/accounts/{node.split(':', 1)[1]}{suffix}",
        }
    elif kind == "group":
        members = sum(1 for _ in _related(graph, node, "member"))
        out |= {
            "jid": attrs.get("jid"),
            "members": members,
            "href": f"/groups/{node.split(':', 1)[1]}{suffix}",
        }
    elif kind == "media":
        sha = str(attrs.get("sha256"))
        known, good = bool(attrs.get("known")), bool(attrs.get("known_good"))
        mid = stored.get(sha)
        out |= {
            "sha256": sha,
            "kind": attrs.get("kind"),
            "verdict": "known" if known else "known-good" if good else "new",
            "category": attrs.get("category"),
            "stored": mid is not None,
            "posts": sum(w for _, w in _related(graph, node, "posted")),
            "href": f"/media/{mid}{suffix}" if mid is not None else None,
        }
    return out


def _related(graph: Any, node: str, relation: str) -> Any:
    for m in graph.neighbors(node):
        edge = graph.edges[node, m]
        if edge.get("relation") == relation:
            yield m, int(edge.get("weight", 1))


def _edge_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    out = {"relation": attrs.get("relation"), "weight": int(attrs.get("weight", 1))}
    for key in ("role", "joined_how", "left"):
        if attrs.get(key) is not None:
            out[key] = attrs[key]
    return out


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
        raise HTTPException(
            404, N_("unknown graph format {format}; use gexf or graphml", format=repr(fmt))
        )
    case = get_case(db, case_id)
    graph, ranking = _network(db, principal, case.id, all_cases)
    annotate(graph, ranking)
    seq, digest = store_audit.audit_head(db)  # before this export's own event, as /export
    tmp = Path(tempfile.mkdtemp(prefix="tantalio-graph-"))
    try:
        path = tmp / f"network.{fmt}"
        export_graph(graph, path, f"{seq}:{digest}")
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
            "X-Tantalio-Audit-Head": f"{seq}:{digest}",
        },
    )


@router.get("/cases/{case_id}/network", include_in_schema=False)
def page(
    case_id: int,
    request: Request,
    top: int = Query(25, ge=0, le=10_000),
    max_nodes: int = Query(1500, ge=10, le=20_000),
    principal: Principal = Depends(require("cases.read")),
    db: Session = Depends(get_db),
) -> Response:
    case = get_case(db, case_id)
    graph, ranking = _network(db, principal, case.id, False)
    return render(
        request,
        "network.html",
        {
            "case": case,
            "ranking": ranking[:100],
            "accounts": len(ranking),
            "nodes": graph.number_of_nodes(),
            "edges": graph.number_of_edges(),
            "top": top,
            "max_nodes": max_nodes,
        },
    )
