"""Per-account measures and the ranked list of likely distributors (docs/decisions/network.md).

score = (K + new_weight · N) · (1 + spread · (C − 1))

- K: for each distinct (known media, chat) an account posted, the category weight times
  log2(2 + reach of that chat) — reach being the other members of the group (1 for a
  direct chat);
- N: the same over new media (neither known nor known-good), each term multiplied by the
  share of known material among the media of that chat, so new media count only where known
  material circulates;
- C: the number of distinct chats the account posted known material in (network capital:
  spreading material across groups makes a broker, after Westlake, Bouchard & Frank 2011).

Centralities are reported beside the score, not in it: they depend on which phones happened
to be seized.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

import networkx as nx

from tantalio.store.chats import ChatGraphData


@dataclass(frozen=True, slots=True)
class ScoreWeights:
    """The score's parameters; configuration, not constants (house style)."""

    category: tuple[tuple[int | None, float], ...] = (
        (1, 1.0),  # child abuse material
        (2, 0.6),  # exploitive / age difficult
        (3, 0.3),  # CGI / animation
        (4, 0.1),  # comparison images
        (0, 0.0),  # non-pertinent
        (None, 0.5),  # known-bad, uncategorized
    )
    new_weight: float = 0.5
    spread: float = 0.25
    betweenness_sample: int = 256  # exact up to this many nodes, else this many sampled sources

    def of(self, category: int | None) -> float:
        return dict(self.category).get(category, 0.5)


@dataclass(slots=True)
class AccountScore:
    account: str
    score: float
    groups: int
    known_posts: int
    new_posts: int
    key: str = ""
    id: int = 0
    names: list[str] = field(default_factory=list)
    messages: int = 0
    known_media: int = 0
    known_posts_without_file: int = 0  # no media row: the file was deleted (only its hash kept)
    known_by_category: dict[str, int] = field(default_factory=dict)
    group_list: list[str] = field(default_factory=list)
    known_groups: int = 0
    reach: int = 0
    degree_centrality: float = 0.0
    betweenness: float = 0.0
    component: int = 0
    component_size: int = 0
    cases: list[str] = field(default_factory=list)
    owner_of: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["score"] = round(self.score, 3)
        out["degree_centrality"] = round(self.degree_centrality, 4)
        out["betweenness"] = round(self.betweenness, 4)
        return out


def _category_name(category: int | None) -> str:
    return "uncategorized" if category is None else str(category)


def rank(
    data: ChatGraphData, graph: nx.Graph, weights: ScoreWeights | None = None
) -> list[AccountScore]:
    """Every account, best-scored first (ties: more known posts, then the label)."""
    w = weights or ScoreWeights()
    members: dict[str, set[int]] = defaultdict(set)
    for m in data.memberships:
        members[f"group:{m.group_id}"].add(m.account_id)
    chat_media: dict[str, set[str]] = defaultdict(set)
    for p in data.posts:
        chat = _chat_of(p.group_id, p.peer_id, p.sender_id)
        if p.group_id and p.sender_id:
            members[chat].add(p.sender_id)
        if chat and p.media_sha256 and p.media_sha256 not in data.known_good:
            chat_media[chat].add(p.media_sha256)
    known_share = {
        chat: sum(1 for s in shas if s in data.known) / len(shas)
        for chat, shas in chat_media.items()
    }

    def reach(chat: str, account_id: int) -> int:
        if chat.startswith("group:"):
            return len(members[chat] - {account_id})
        return 1

    centrality = _centralities(graph, w)
    components = _components(graph)
    stats: dict[int, dict[str, Any]] = {
        a.id: {"k": 0.0, "n": 0.0, "pairs": set(), "new_pairs": set(), "chats": set()}
        for a in data.accounts
    }
    results = {
        a.id: AccountScore(
            account=str(graph.nodes[f"account:{a.id}"]["label"]),
            score=0.0,
            groups=0,
            known_posts=0,
            new_posts=0,
            key=a.key,
            id=a.id,
            names=list(a.names),
            cases=list(a.cases),
            owner_of=list(a.owner_of),
        )
        for a in data.accounts
    }
    for p in data.posts:
        if p.sender_id not in results:
            continue
        r, st = results[p.sender_id], stats[p.sender_id]
        r.messages += 1
        chat = _chat_of(p.group_id, p.peer_id, p.sender_id)
        if not p.media_sha256 or not chat or p.media_sha256 in data.known_good:
            continue
        known = data.known.get(p.media_sha256)
        reach_term = math.log2(2 + reach(chat, p.sender_id))
        if known is not None:
            r.known_posts += 1
            r.known_posts_without_file += not p.media_stored
            name = _category_name(known.category)
            r.known_by_category[name] = r.known_by_category.get(name, 0) + 1
            st["chats"].add(chat)
            if (p.media_sha256, chat) not in st["pairs"]:
                st["pairs"].add((p.media_sha256, chat))
                st["k"] += w.of(known.category) * reach_term
        else:
            r.new_posts += 1
            if (p.media_sha256, chat) not in st["new_pairs"]:
                st["new_pairs"].add((p.media_sha256, chat))
                st["n"] += reach_term * known_share.get(chat, 0.0)
    for aid, r in results.items():
        node = f"account:{aid}"
        st = stats[aid]
        group_nodes = sorted(n for n in graph.neighbors(node) if n.startswith("group:"))
        r.groups = len(group_nodes)
        r.group_list = [str(graph.nodes[n]["label"]) for n in group_nodes]
        r.known_groups = len(st["chats"])
        r.known_media = len({sha for sha, _ in st["pairs"]})
        r.reach = len(set().union(*(members[n] for n in group_nodes)) - {aid}) if group_nodes else 0
        spread = 1 + w.spread * max(0, len(st["chats"]) - 1)
        r.score = (st["k"] + w.new_weight * st["n"]) * spread
        r.degree_centrality, r.betweenness = centrality.get(node, (0.0, 0.0))
        r.component, r.component_size = components.get(node, (0, 1))
    return sorted(results.values(), key=lambda r: (-r.score, -r.known_posts, r.account))


def _chat_of(group_id: int | None, peer_id: int | None, sender_id: int | None) -> str:
    if group_id:
        return f"group:{group_id}"
    if peer_id and sender_id:
        a, b = sorted((peer_id, sender_id))
        return f"direct:{a}:{b}"
    return ""


def _centralities(graph: nx.Graph, w: ScoreWeights) -> dict[str, tuple[float, float]]:
    """Degree and betweenness centrality of accounts in the account–group graph (members,
    direct chats): who sits between otherwise separate groups."""
    social = nx.Graph()  # materialized: algorithms on filtered views are many times slower
    social.add_edges_from(
        (a, b) for a, b, rel in graph.edges(data="relation") if rel in ("member", "chat")
    )
    if social.number_of_nodes() == 0:
        return {}
    degree = nx.degree_centrality(social)
    k = None if social.number_of_nodes() <= w.betweenness_sample else w.betweenness_sample
    between = nx.betweenness_centrality(social, k=k, seed=0)
    return {n: (degree[n], between[n]) for n in social.nodes if str(n).startswith("account:")}


def _components(graph: nx.Graph) -> dict[str, tuple[int, int]]:
    """Connected components of the whole graph, numbered from the largest (1)."""
    out: dict[str, tuple[int, int]] = {}
    comps = sorted(nx.connected_components(graph), key=lambda c: (-len(c), min(c)))
    for i, comp in enumerate(comps, start=1):
        for n in comp:
            out[n] = (i, len(comp))
    return out


def annotate(graph: nx.Graph, ranking: list[AccountScore]) -> None:
    """Copy the measures onto the account nodes (for exports)."""
    for place, r in enumerate(ranking, start=1):
        node = graph.nodes[f"account:{r.id}"]
        node.update(
            rank=place,
            score=round(r.score, 3),
            known_posts=r.known_posts,
            new_posts=r.new_posts,
            messages=r.messages,
            groups=r.groups,
            reach=r.reach,
            degree_centrality=round(r.degree_centrality, 4),
            betweenness=round(r.betweenness, 4),
            component=r.component,
        )
