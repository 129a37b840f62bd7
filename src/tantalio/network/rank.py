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

from tantalio.chats.record import app_of
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
    # Media this account posted first, with how it spread (firstpost.py; set by
    # `firstpost.attach_first_posts`, empty until then).
    first_posts: list[dict[str, Any]] = field(default_factory=list)
    app: str | None = None  # whatsapp, telegram, signal (None: known by a name only)
    sites_visited: list[str] = field(default_factory=list)  # graph `visited` edges (onion, invites)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["score"] = round(self.score, 3)
        out["degree_centrality"] = round(self.degree_centrality, 4)
        out["betweenness"] = round(self.betweenness, 4)
        return out


def _category_name(category: int | None) -> str:
    return "uncategorized" if category is None else str(category)


@dataclass(slots=True)
class ChatTerms:
    """One account's contribution to its score from one chat: the K and N terms it earned
    there, with the reach and known share they were weighed by (the account page shows them)."""

    chat: str
    reach: int
    known_share: float
    known_posts: int = 0
    new_posts: int = 0
    known_media: int = 0
    new_media: int = 0
    k: float = 0.0
    n: float = 0.0


def chat_terms(
    data: ChatGraphData, weights: ScoreWeights | None = None, account_id: int | None = None
) -> dict[int, dict[str, ChatTerms]]:
    """Per account (only `account_id` when given), per chat in first-post order, the terms
    `rank` sums: K = Σ k, N = Σ n, C = the chats with known posts."""
    members, known_share = _chat_context(data)
    return _chat_terms(data, weights or ScoreWeights(), members, known_share, account_id)


def _chat_context(data: ChatGraphData) -> tuple[dict[str, set[int]], dict[str, float]]:
    """Each chat's members (a group's members and posters) and the share of known material
    among its media."""
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
    return members, known_share


def _chat_terms(
    data: ChatGraphData,
    w: ScoreWeights,
    members: dict[str, set[int]],
    known_share: dict[str, float],
    account_id: int | None,
) -> dict[int, dict[str, ChatTerms]]:
    out: dict[int, dict[str, ChatTerms]] = defaultdict(dict)
    seen: set[tuple[int, str, str]] = set()
    for p in data.posts:
        chat = _chat_of(p.group_id, p.peer_id, p.sender_id)
        if not p.sender_id or (account_id is not None and p.sender_id != account_id):
            continue
        if not p.media_sha256 or not chat or p.media_sha256 in data.known_good:
            continue
        terms = out[p.sender_id].get(chat)
        if terms is None:
            reach = len(members[chat] - {p.sender_id}) if chat.startswith("group:") else 1
            terms = ChatTerms(chat, reach, known_share.get(chat, 0.0))
            out[p.sender_id][chat] = terms
        known = data.known.get(p.media_sha256)
        if known is not None:
            terms.known_posts += 1
        else:
            terms.new_posts += 1
        if (p.sender_id, p.media_sha256, chat) in seen:
            continue
        seen.add((p.sender_id, p.media_sha256, chat))
        reach_term = math.log2(2 + terms.reach)
        if known is not None:
            terms.known_media += 1
            terms.k += w.of(known.category) * reach_term
        else:
            terms.new_media += 1
            terms.n += reach_term * terms.known_share
    return out


def rank(
    data: ChatGraphData, graph: nx.Graph, weights: ScoreWeights | None = None
) -> list[AccountScore]:
    """Every account, best-scored first (ties: more known posts, then the label)."""
    w = weights or ScoreWeights()
    members, known_share = _chat_context(data)
    terms = _chat_terms(data, w, members, known_share, None)
    centrality = _centralities(graph, w)
    components = _components(graph)
    known_shas: dict[int, set[str]] = {a.id: set() for a in data.accounts}
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
            app=app_of(a.key),
        )
        for a in data.accounts
    }
    for p in data.posts:
        if p.sender_id not in results:
            continue
        r = results[p.sender_id]
        r.messages += 1
        chat = _chat_of(p.group_id, p.peer_id, p.sender_id)
        if not p.media_sha256 or not chat or p.media_sha256 in data.known_good:
            continue
        known = data.known.get(p.media_sha256)
        if known is not None:
            r.known_posts += 1
            r.known_posts_without_file += not p.media_stored
            name = _category_name(known.category)
            r.known_by_category[name] = r.known_by_category.get(name, 0) + 1
            known_shas[p.sender_id].add(p.media_sha256)
        else:
            r.new_posts += 1
    for aid, r in results.items():
        node = f"account:{aid}"
        chats = terms.get(aid, {}).values()
        group_nodes = sorted(n for n in graph.neighbors(node) if n.startswith("group:"))
        r.groups = len(group_nodes)
        r.group_list = [str(graph.nodes[n]["label"]) for n in group_nodes]
        r.known_groups = sum(1 for t in chats if t.known_posts)
        r.known_media = len(known_shas[aid])
        r.reach = len(set().union(*(members[n] for n in group_nodes)) - {aid}) if group_nodes else 0
        spread = 1 + w.spread * max(0, r.known_groups - 1)
        k = sum(t.k for t in chats)
        n = sum(t.n for t in chats)
        r.score = (k + w.new_weight * n) * spread
        r.degree_centrality, r.betweenness = centrality.get(node, (0.0, 0.0))
        r.component, r.component_size = components.get(node, (0, 1))
        r.sites_visited = sorted(
            str(graph.nodes[n]["label"])
            for n in graph.neighbors(node)
            if n.startswith("site:") and graph.edges[node, n].get("relation") == "visited"
        )
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
