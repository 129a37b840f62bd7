"""GEXF and GraphML exports open again as graphs (what Gephi needs) with flat attributes."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

from tantalio.network import ExportError, export_graph, flatten


def _graph() -> nx.Graph:
    g = nx.Graph()
    g.add_node("account:1", type="account", label="+1", names=["A", "B"], score=2.5, rank=1)
    g.add_node("account:2", type="account", label="+2", names=[], score=1, rank=None)
    g.add_node("media:x", type="media", known=True, category=None, extra={"k": 1})
    g.add_edge("account:1", "media:x", relation="posted", weight=3, role=None)
    g.add_edge("account:2", "account:1", relation="chat", weight=1)
    return g


def test_flatten_drops_none_and_joins_lists() -> None:
    flat = flatten(_graph())
    assert flat.nodes["account:1"]["names"] == "A; B"
    assert "rank" not in flat.nodes["account:2"] and "category" not in flat.nodes["media:x"]
    assert "names" not in flat.nodes["account:2"]  # an empty list is no value
    assert flat.nodes["media:x"]["extra"] == '{"k": 1}'
    assert flat.nodes["account:2"]["score"] == 1.0  # one type per attribute
    assert "role" not in flat.edges["account:1", "media:x"]


@pytest.mark.parametrize("suffix", [".gexf", ".graphml"])
def test_exports_read_back(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"net{suffix}"
    export_graph(_graph(), path)
    back = nx.read_gexf(path) if suffix == ".gexf" else nx.read_graphml(path)
    assert set(back.nodes) == {"account:1", "account:2", "media:x"}
    assert back.nodes["account:1"]["names"] == "A; B"
    assert back.number_of_edges() == 2


def test_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="gexf or .graphml"):
        export_graph(_graph(), tmp_path / "net.json")
