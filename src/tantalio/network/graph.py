"""The distribution network as a graph: accounts, groups, media, known series, invite links
and sites, merged across exhibits and cases (issue 5).

Node ids are typed strings (`account:12`, `group:3`, `media:<sha256>`, `series:<name>`,
`invite:<code>`, `site:<host>`) and every node has `type` and `label`. Edges carry
`relation` (`member`, `posted`, `posted_in`, `chat`, `in_series`, `opens`, `lists`,
`visited`: the owner's browser visited an onion site or one listing invites; `same_number`:
two apps' accounts carrying one phone number) and `weight` (how many messages, or 1).

A person's WhatsApp and Telegram (or Signal) accounts stay two accounts (merging across apps
would claim an identity the evidence does not show, docs/decisions/chats.md); when they carry
the same phone number, a `same_number` edge links them, so the examiner sees the one person
behind both and the graph's components join the two apps.
"""

from __future__ import annotations

from collections import Counter

import networkx as nx

from tantalio.chats.record import app_of
from tantalio.store.chats import AccountRow, ChatGraphData


def account_label(a: AccountRow) -> str:
    """How a ranking names an account: its number, else its JID or lid, else a name."""
    if a.phone:
        return a.phone
    if a.jid or a.lid:
        return a.jid or a.lid or a.key
    return a.names[0] if a.names else a.key


def build_graph(data: ChatGraphData) -> nx.Graph:
    g = nx.Graph()
    for a in data.accounts:
        g.add_node(
            f"account:{a.id}",
            type="account",
            label=account_label(a),
            key=a.key,
            app=app_of(a.key),
            names=a.names,
            cases=a.cases,
            exhibits=a.exhibits,
            owner_of=a.owner_of,
        )
    _same_number(g, data)
    for grp in data.groups:
        g.add_node(
            f"group:{grp.id}",
            type="group",
            label=grp.subject or grp.jid or grp.key,
            key=grp.key,
            app=app_of(grp.key),
            jid=grp.jid,
            cases=grp.cases,
            exhibits=grp.exhibits,
        )
    for m in data.memberships:
        acc, grp_node = f"account:{m.account_id}", f"group:{m.group_id}"
        if acc in g and grp_node in g:
            g.add_edge(
                acc,
                grp_node,
                relation="member",
                role=m.role,
                joined_how=m.joined_how,
                left=m.left,
                weight=1,
            )
    posted: Counter[tuple[str, str]] = Counter()
    posted_in: Counter[tuple[str, str]] = Counter()
    chats: Counter[tuple[str, str]] = Counter()
    for p in data.posts:
        sender = f"account:{p.sender_id}" if p.sender_id else None
        if sender is None or sender not in g:
            continue
        where = f"group:{p.group_id}" if p.group_id else None
        if p.peer_id and p.peer_id != p.sender_id:
            chats[tuple(sorted((sender, f"account:{p.peer_id}")))] += 1  # type: ignore[index]
        if p.media_sha256:
            node = f"media:{p.media_sha256}"
            if node not in g:
                known = data.known.get(p.media_sha256)
                g.add_node(
                    node,
                    type="media",
                    label=p.media_sha256[:12],
                    sha256=p.media_sha256,
                    kind=p.media_kind,
                    known=known is not None,
                    known_good=p.media_sha256 in data.known_good,
                    category=known.category if known else None,
                    stored=p.media_stored,
                )
                for series in known.series if known else []:
                    g.add_node(f"series:{series}", type="series", label=series)
                    g.add_edge(node, f"series:{series}", relation="in_series", weight=1)
            elif p.media_stored:
                g.nodes[node]["stored"] = True
            posted[(sender, node)] += 1
            if where and where in g:
                posted_in[(node, where)] += 1
    for (u, v), n in posted.items():
        g.add_edge(u, v, relation="posted", weight=n)
    for (u, v), n in posted_in.items():
        g.add_edge(u, v, relation="posted_in", weight=n)
    for (u, v), n in chats.items():
        if u in g and v in g:
            g.add_edge(u, v, relation="chat", weight=n)
    site_codes = {code for _site, code in data.site_invites}
    for code, group_id in data.invites:
        target = f"group:{group_id}" if group_id else None
        if (target and target in g) or code in site_codes:
            g.add_node(f"invite:{code}", type="invite", label=code)
            if target and target in g:
                g.add_edge(f"invite:{code}", target, relation="opens", weight=1)
    for site, code in data.site_invites:
        g.add_node(f"site:{site}", type="site", label=site)
        g.add_node(f"invite:{code}", type="invite", label=code)
        g.add_edge(f"site:{site}", f"invite:{code}", relation="lists", weight=1)
    listing = {site for site, _code in data.site_invites}
    for account_id, site, when in data.site_visits:  # only sites the case is about
        node = f"account:{account_id}"
        if node in g and (site in listing or site.endswith(".onion")):
            g.add_node(f"site:{site}", type="site", label=site)
            first = when.isoformat() if when else None
            g.add_edge(node, f"site:{site}", relation="visited", weight=1, first_visit=first)
    return g


def _same_number(g: nx.Graph, data: ChatGraphData) -> None:
    """`same_number` edges between accounts of different apps that carry one phone number."""
    by_phone: dict[str, list[AccountRow]] = {}
    for a in data.accounts:
        if a.phone:
            by_phone.setdefault(a.phone, []).append(a)
    for accounts in by_phone.values():
        for i, a in enumerate(accounts):
            for b in accounts[i + 1 :]:
                if app_of(a.key) != app_of(b.key):
                    g.add_edge(
                        f"account:{a.id}",
                        f"account:{b.id}",
                        relation="same_number",
                        phone=a.phone,
                        weight=1,
                    )
