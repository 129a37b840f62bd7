"""Account and group pages of the chat network: who an account is (numbers, JIDs, names),
where it was seen, the groups it was in and how it got there, the media it posted with their
verdicts, and why it ranks where it does; a group's members, invite links, the sites listing
them and the media posted in it. Included by `network.py`.

Accounts and groups belong to the cases whose exhibits show them: a user sees one only when
it was seen in a case of theirs (security.require_case_access), and then only what those cases
hold (where seen, memberships, messages, ranking); admins see the whole workspace.

Phone numbers and JIDs are shown: investigators need them. Media appear only as the user's
blurred grayscale thumbnails (`_macros.tile`), and only for users who may view media.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from sqlalchemy import select, true
from sqlalchemy.orm import aliased

from tantalio.store import access
from tantalio.store.cases import Case, Exhibit
from tantalio.store.chats import (
    ChatAccount,
    ChatAccountSeen,
    ChatArtifact,
    ChatGroup,
    ChatGroupSeen,
    ChatInvite,
    ChatMembership,
    ChatMessage,
    known_media,
)
from tantalio.store.ingest import media_ids
from tantalio.store.web_media import media_summaries
from tantalio.web.i18n import N_
from tantalio.web.routers.cases import get_case
from tantalio.web.security import Principal, get_db, require, visible_cases
from tantalio.web.templating import render

if TYPE_CHECKING:
    import networkx as nx
    from sqlalchemy.orm import Session

    from tantalio.network import AccountScore
    from tantalio.store.chats import ChatGraphData

router = APIRouter()
MESSAGE_LIMIT = 500
TILE_LIMIT = 60


def network(
    db: Session, case_ids: Sequence[int] | None
) -> tuple[nx.Graph, list[AccountScore], ChatGraphData]:
    """The graph and ranking of some cases (None: the whole workspace)."""
    from tantalio.network import build_graph, rank
    from tantalio.store.chats import load_graph_data

    data = load_graph_data(db, case_ids)
    graph = build_graph(data)
    return graph, rank(data, graph), data


def _label(phone: str | None, jid: str | None, lid: str | None, names: Any, key: str = "") -> str:
    return phone or jid or lid or (names[0] if names else key)


# --- score breakdown --------------------------------------------------------------------------


def score_breakdown(data: ChatGraphData, account_id: int) -> dict[str, Any]:
    """The account's score term by term, per chat (docs/decisions/network.md):
    K = Σ w(category)·log2(2 + reach) over distinct (known media, chat); N the same over new
    media times the chat's known share; score = (K + 0.5·N)·(1 + 0.25·(C − 1)).
    The per-chat terms are `rank`'s own (`network.chat_terms`), so the sum is the score."""
    from tantalio.network import ScoreWeights, chat_terms

    w = ScoreWeights()
    terms = list(chat_terms(data, w, account_id).get(account_id, {}).values())
    k = sum(t.k for t in terms)
    n = sum(t.n for t in terms)
    c = sum(1 for t in terms if t.known_posts)
    spread = 1 + w.spread * max(0, c - 1)
    rows = [
        {"chat": t.chat, "reach": t.reach, "known_share": round(t.known_share, 3),
         "known_posts": t.known_posts, "new_posts": t.new_posts, "known_media": t.known_media,
         "new_media": t.new_media, "k": round(t.k, 3), "n": round(t.n, 3)}
        for t in terms
    ]  # fmt: skip
    return {
        "chats": sorted(rows, key=lambda r: (-r["k"], -r["n"], r["chat"])),
        "K": round(k, 3),
        "N": round(n, 3),
        "new_weight": w.new_weight,
        "C": c,
        "spread": round(spread, 3),
        "score": round((k + w.new_weight * n) * spread, 3),
    }


# --- messages with media ----------------------------------------------------------------------


def _in(cases: set[int] | None) -> Any:
    """The condition restricting a query joined to `Case` to the user's cases."""
    return true() if cases is None else Case.id.in_(sorted(cases))


def _media_messages(
    db: Session, where: Any, can_view: bool, cases: set[int] | None = None
) -> dict[str, Any]:
    """Messages with media (newest last, at most MESSAGE_LIMIT), each with the media's
    verdict and category, and tile facts of the distinct stored media (known first)."""
    peer = aliased(ChatAccount)
    sender = aliased(ChatAccount)
    q = (
        select(
            ChatMessage.id,
            ChatMessage.timestamp,
            ChatMessage.group_id,
            ChatGroup.subject,
            ChatGroup.jid,
            ChatMessage.peer_id,
            peer.phone,
            peer.jid,
            ChatMessage.sender_id,
            sender.phone,
            sender.jid,
            sender.names,
            ChatMessage.media_sha256,
            ChatMessage.media_id,
            ChatMessage.media_kind,
            ChatMessage.media_name,
            ChatMessage.forwarded,
            ChatMessage.text,
            Exhibit.label,
            Case.reference,
            ChatMessage.only_in_export,
        )
        .outerjoin(ChatGroup, ChatGroup.id == ChatMessage.group_id)
        .outerjoin(peer, peer.id == ChatMessage.peer_id)
        .outerjoin(sender, sender.id == ChatMessage.sender_id)
        .join(Exhibit, Exhibit.id == ChatMessage.exhibit_id)
        .join(Case, Case.id == Exhibit.case_id)
        .where(where, _in(cases), ChatMessage.system.is_(None))
        .where(ChatMessage.media_sha256.is_not(None))
        .order_by(ChatMessage.timestamp, ChatMessage.id)
        .limit(MESSAGE_LIMIT + 1)
    )
    rows = db.execute(q).all()
    shas = {r[12] for r in rows}
    known, good = known_media(db, shas)
    stored = media_ids(db, shas)
    messages = []
    for r in rows[:MESSAGE_LIMIT]:
        sha = r[12]
        k = known.get(sha)
        messages.append(
            {
                "id": r[0],
                "timestamp": r[1].isoformat() if r[1] else None,
                "group_id": r[2],
                "group": r[3] or r[4],
                "peer_id": r[5],
                "peer": r[6] or r[7],
                "sender_id": r[8],
                "sender": _label(r[9], r[10], None, r[11]),
                "sha256": sha,
                "media_id": r[13] or stored.get(sha),
                "kind": r[14],
                "name": r[15],
                "forwarded": bool(r[16]),
                "only_in_export": bool(r[20]),
                "text": r[17],
                "exhibit": f"{r[19]}/{r[18]}",
                "verdict": "known" if k else "known-good" if sha in good else "new",
                "category": k.category if k else None,
                "series": list(k.series) if k else [],
            }
        )
    tiles: list[dict[str, Any]] = []
    if can_view:
        ids = list(dict.fromkeys(m["media_id"] for m in messages if m["media_id"]))
        if cases is not None:  # a tile only for media stored in the user's cases
            mine = access.media_in_cases(db, ids, cases)
            ids = [i for i in ids if i in mine]
        verdict = {m["media_id"]: m["verdict"] for m in messages if m["media_id"]}
        tiles = [t | {"verdict": verdict[t["media_id"]]} for t in media_summaries(db, ids)]
        tiles.sort(key=lambda t: t["verdict"] != "known")
        tiles = tiles[:TILE_LIMIT]
    return {"messages": messages, "more": len(rows) > MESSAGE_LIMIT, "tiles": tiles}


# --- account ----------------------------------------------------------------------------------


def account_detail(
    db: Session, account_id: int, case_id: int | None, can_view: bool, cases: set[int] | None
) -> dict[str, Any]:
    acc = db.get(ChatAccount, account_id)
    if acc is None:
        raise HTTPException(404, N_("no account {id}", id=account_id))
    seen_q = (
        select(ChatAccountSeen, Exhibit.label, Case.reference)
        .join(Exhibit, Exhibit.id == ChatAccountSeen.exhibit_id)
        .join(Case, Case.id == Exhibit.case_id)
        .where(ChatAccountSeen.account_id == acc.id, _in(cases))
        .order_by(Case.reference, Exhibit.label)
    )
    seen: list[dict[str, Any]] = [
        {"exhibit": f"{ref}/{label}", "names": list(s.names or []), "owner": s.is_owner,
         "source": s.source}
        for s, label, ref in db.execute(seen_q)
    ]  # fmt: skip
    adder = aliased(ChatAccount)
    mq = (
        select(ChatMembership, ChatGroup.subject, ChatGroup.jid, adder.phone, adder.jid,
               Exhibit.label, Case.reference)
        .join(ChatGroup, ChatGroup.id == ChatMembership.group_id)
        .outerjoin(adder, adder.id == ChatMembership.added_by_id)
        .join(Exhibit, Exhibit.id == ChatMembership.exhibit_id)
        .join(Case, Case.id == Exhibit.case_id)
        .where(ChatMembership.account_id == acc.id, _in(cases))
        .order_by(ChatGroup.subject, Case.reference, Exhibit.label)
    )  # fmt: skip
    groups = [
        _membership(m, exhibit=f"{ref}/{label}") | {"group": subj or gjid, "group_jid": gjid,
                                                    "added_by": aphone or ajid}
        for m, subj, gjid, aphone, ajid, label, ref in db.execute(mq)
    ]  # fmt: skip
    scope = [case_id] if case_id else None if cases is None else sorted(cases)
    _graph, ranking, data = network(db, scope)
    place = next(((i, r) for i, r in enumerate(ranking, start=1) if r.id == acc.id), None)
    breakdown = score_breakdown(data, acc.id)
    labels = _chat_labels(db, [r["chat"] for r in breakdown["chats"]], acc.id)
    for r in breakdown["chats"]:
        r["label"], r["href"] = labels.get(r["chat"], (r["chat"], None))
    names = list(dict.fromkeys([*(acc.names or []), *(n for s in seen for n in s["names"])]))
    return {
        "id": acc.id,
        "key": acc.key,
        "label": _label(acc.phone, acc.jid, acc.lid, names, acc.key),
        "phone": acc.phone,
        "jid": acc.jid,
        "lid": acc.lid,
        "names": names,
        "seen": seen,
        "groups": groups,
        "rank": place[0] if place else None,
        "accounts_ranked": len(ranking),
        "score": place[1].to_json() if place else None,
        "breakdown": breakdown,
        **_media_messages(db, ChatMessage.sender_id == acc.id, can_view, cases),
    }


def _membership(m: ChatMembership, **extra: Any) -> dict[str, Any]:
    return {
        "group_id": m.group_id,
        "account_id": m.account_id,
        "role": m.role,
        "joined_how": m.joined_how,
        "joined_at": m.joined_at.isoformat() if m.joined_at else None,
        "invite_code": m.invite_code,
        "left_how": m.left_how,
        "left_at": m.left_at.isoformat() if m.left_at else None,
        "source": m.source,
    } | extra


def _chat_labels(
    db: Session, chats: list[str], account_id: int
) -> dict[str, tuple[str, str | None]]:
    gids = [int(c.split(":")[1]) for c in chats if c.startswith("group:")]
    out: dict[str, tuple[str, str | None]] = {}
    for gid, subject, jid, key in db.execute(
        select(ChatGroup.id, ChatGroup.subject, ChatGroup.jid, ChatGroup.key).where(
            ChatGroup.id.in_(gids)
        )
    ):
        out[f"group:{gid}"] = (subject or jid or key, f"/groups/{gid}")
    for c in chats:
        if c.startswith("direct:"):
            a, b = (int(x) for x in c.split(":")[1:])
            other = b if a == account_id else a
            acc = db.get(ChatAccount, other)
            name = _label(acc.phone, acc.jid, acc.lid, acc.names, acc.key) if acc else str(other)
            out[c] = (f"direct chat with {name}", f"/accounts/{other}")
    return out


# --- group ------------------------------------------------------------------------------------


def group_detail(
    db: Session, group_id: int, can_view: bool, cases: set[int] | None
) -> dict[str, Any]:
    grp = db.get(ChatGroup, group_id)
    if grp is None:
        raise HTTPException(404, N_("no group {id}", id=group_id))
    creator = db.get(ChatAccount, grp.creator_id) if grp.creator_id else None
    seen_q = (
        select(ChatGroupSeen.subject, Exhibit.label, Case.reference)
        .join(Exhibit, Exhibit.id == ChatGroupSeen.exhibit_id)
        .join(Case, Case.id == Exhibit.case_id)
        .where(ChatGroupSeen.group_id == grp.id, _in(cases))
        .order_by(Case.reference, Exhibit.label)
    )
    seen = [{"exhibit": f"{ref}/{label}", "subject": s} for s, label, ref in db.execute(seen_q)]
    member = aliased(ChatAccount)
    adder = aliased(ChatAccount)
    mq = (
        select(ChatMembership, member.phone, member.jid, member.lid, member.names, member.key,
               adder.phone, adder.jid, Exhibit.label, Case.reference)
        .join(member, member.id == ChatMembership.account_id)
        .outerjoin(adder, adder.id == ChatMembership.added_by_id)
        .join(Exhibit, Exhibit.id == ChatMembership.exhibit_id)
        .join(Case, Case.id == Exhibit.case_id)
        .where(ChatMembership.group_id == grp.id, _in(cases))
        .order_by(ChatMembership.joined_at, member.phone, member.key, Exhibit.label)
    )  # fmt: skip
    members = [
        _membership(m, exhibit=f"{ref}/{label}", account=_label(phone, jid, lid, names, key),
                    account_jid=jid, names=list(names or [])[:2], added_by=aphone or ajid)
        for m, phone, jid, lid, names, key, aphone, ajid, label, ref in db.execute(mq)
    ]  # fmt: skip
    codes = set(db.scalars(select(ChatInvite.code).where(ChatInvite.group_id == grp.id)))
    codes |= {m["invite_code"] for m in members if m["invite_code"]}
    sites_q = (
        select(ChatArtifact.value, ChatArtifact.site, ChatArtifact.source, Exhibit.label,
               Case.reference)
        .join(Exhibit, Exhibit.id == ChatArtifact.exhibit_id)
        .join(Case, Case.id == Exhibit.case_id)
        .where(ChatArtifact.kind == "whatsapp_invite", ChatArtifact.value.in_(sorted(codes)),
               ChatArtifact.site.is_not(None), _in(cases))
        .order_by(ChatArtifact.site, ChatArtifact.value)
    )  # fmt: skip
    sites = [
        {"code": code, "site": site, "source": source, "exhibit": f"{ref}/{label}"}
        for code, site, source, label, ref in db.execute(sites_q)
    ]
    return {
        "id": grp.id,
        "key": grp.key,
        "jid": grp.jid,
        "subject": grp.subject,
        "label": grp.subject or grp.jid or grp.key,
        "created_at": grp.created_at.isoformat() if grp.created_at else None,
        "creator": {"id": creator.id, "label": _label(creator.phone, creator.jid, creator.lid,
                                                      creator.names, creator.key)}
        if creator else None,
        "seen": seen,
        "members": members,
        "invites": sorted(codes),
        "sites": sites,
        **_media_messages(db, ChatMessage.group_id == grp.id, can_view, cases),
    }  # fmt: skip


# --- routes -----------------------------------------------------------------------------------


def _case_id(db: Session, case: int | None) -> int | None:
    return get_case(db, case).id if case is not None else None


@router.get("/api/accounts/{account_id}", tags=["network"])
def api_account(
    account_id: int,
    case: int | None = None,
    principal: Principal = Depends(require("cases.read")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    """A chat account: identifiers, names, where seen, groups (role, how and when joined,
    left), messages with media (verdict, category), and its rank and score breakdown within
    `case` (default: the whole workspace)."""
    return account_detail(
        db,
        account_id,
        _case_id(db, case),
        principal.can("media.view"),
        visible_cases(db, principal),
    )


@router.get("/api/groups/{group_id}", tags=["network"])
def api_group(
    group_id: int,
    principal: Principal = Depends(require("cases.read")),
    db: Session = Depends(get_db),
) -> dict[str, Any]:
    """A group: subject, JID, creator, members (how and when joined and left), invite links,
    saved sites listing them, and the messages with media posted in it."""
    return group_detail(db, group_id, principal.can("media.view"), visible_cases(db, principal))


@router.get("/accounts/{account_id}", include_in_schema=False)
def account_page(
    account_id: int,
    request: Request,
    case: int | None = None,
    principal: Principal = Depends(require("cases.read")),
    db: Session = Depends(get_db),
) -> Response:
    case_id = _case_id(db, case)
    a = account_detail(
        db, account_id, case_id, principal.can("media.view"), visible_cases(db, principal)
    )
    ctx = {"a": a, "case": get_case(db, case_id) if case_id else None}
    return render(request, "account.html", ctx)


@router.get("/groups/{group_id}", include_in_schema=False)
def group_page(
    group_id: int,
    request: Request,
    case: int | None = None,
    principal: Principal = Depends(require("cases.read")),
    db: Session = Depends(get_db),
) -> Response:
    case_id = _case_id(db, case)
    g = group_detail(db, group_id, principal.can("media.view"), visible_cases(db, principal))
    ctx = {"g": g, "case": get_case(db, case_id) if case_id else None}
    return render(request, "group.html", ctx)
