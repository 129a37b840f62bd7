"""The distribution network: who shared what in which group, across exhibits and cases.

    data = store.chats.load_graph_data(session, case_ids)   # plain records from the store
    graph = build_graph(data)                                # networkx graph
    ranking = rank(data, graph)                              # likely distributors first
    export_graph(graph, Path("net.gexf"))                    # Gephi
    spread = media_spread(store.chats.copies.load_message_copies(session, case_ids),
                          data.known)                      # first uploaders (firstpost.py)

The score is documented in `rank.py` and docs/decisions/network.md.
"""

from __future__ import annotations

from tantalio.network.export import ExportError, export_graph, flatten
from tantalio.network.firstpost import (
    MediaSpread,
    SpreadReport,
    SpreadRules,
    align_clocks,
    attach_first_posts,
    media_spread,
)
from tantalio.network.graph import account_label, build_graph
from tantalio.network.rank import (
    AccountScore,
    ChatTerms,
    ScoreWeights,
    annotate,
    chat_terms,
    rank,
)

__all__ = [
    "AccountScore",
    "MediaSpread",
    "SpreadReport",
    "SpreadRules",
    "align_clocks",
    "attach_first_posts",
    "media_spread",
    "ChatTerms",
    "ExportError",
    "ScoreWeights",
    "account_label",
    "annotate",
    "build_graph",
    "chat_terms",
    "export_graph",
    "flatten",
    "rank",
]
