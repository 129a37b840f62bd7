"""Graph files Gephi opens: GEXF and GraphML.

Both formats take only scalar attributes (GraphML rejects lists and None outright), so
attributes are flattened: lists become `; `-joined text, dicts JSON text, None is left out,
and an attribute keeps one type across the nodes that have it (text wins over numbers).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import networkx as nx

FORMATS = {".gexf": "gexf", ".graphml": "graphml"}


class ExportError(ValueError):
    """The export path names a format we do not write."""


def _flat(value: Any) -> Any:
    if isinstance(value, list | tuple | set):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return value


def _uniform(items: list[dict[str, Any]]) -> None:
    """One type per attribute key: mixed types become text; ints mixed with floats floats."""
    kinds: dict[str, set[type]] = {}
    for attrs in items:
        for k, v in attrs.items():
            kinds.setdefault(k, set()).add(type(v))
    for attrs in items:
        for k, v in list(attrs.items()):
            types = kinds[k]
            if len(types) == 1:
                continue
            if types <= {int, float}:
                attrs[k] = float(v)
            else:
                attrs[k] = str(v)


def flatten(graph: nx.Graph) -> nx.Graph:
    """A copy of `graph` whose attributes both formats accept."""
    out = nx.Graph()
    nodes = []
    for n, attrs in graph.nodes(data=True):
        flat = {k: _flat(v) for k, v in attrs.items() if v is not None}
        flat = {k: v for k, v in flat.items() if v != ""}
        nodes.append((str(n), flat))
    edges = []
    for u, v, attrs in graph.edges(data=True):
        edges.append((str(u), str(v), {k: _flat(x) for k, x in attrs.items() if x is not None}))
    _uniform([a for _, a in nodes])
    _uniform([a for _, _, a in edges])
    out.add_nodes_from(nodes)
    out.add_edges_from(edges)
    return out


def export_graph(graph: nx.Graph, path: Path, audit_head: str | None = None) -> str:
    """Write `graph` as GEXF or GraphML, chosen by the file's extension; return the format.

    `audit_head` (`SEQ:HASH`, the workspace's audit log head when exported, issue 14) is
    written into the file: a GraphML graph attribute `tantalio_audit_head`, a GEXF
    `<meta><description>`, so `tantalio audit verify --expect` can check it later."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ExportError(f"{path}: export as .gexf or .graphml")
    flat = flatten(graph)
    if fmt == "gexf":
        nx.write_gexf(flat, path)
        if audit_head is not None:
            text = path.read_text(encoding="utf-8")
            note = f"<description>tantalio audit head {escape(audit_head)}</description>"
            path.write_text(text.replace("</meta>", f"  {note}\n  </meta>", 1), "utf-8")
    else:
        if audit_head is not None:
            flat.graph["tantalio_audit_head"] = audit_head
        nx.write_graphml(flat, path)
    return fmt
