"""Reading what the distribution network is built from: accounts, groups, memberships and
posts of some cases, merged across exhibits, and which posted media are known material."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from tantalio.chats.record import INVITE_KINDS
from tantalio.hashsets.record import entry_alerts
from tantalio.store.bulk import chunks
from tantalio.store.cases import Case, Exhibit
from tantalio.store.chats.models import (
    ChatAccount,
    ChatAccountSeen,
    ChatArtifact,
    ChatGroup,
    ChatGroupSeen,
    ChatInvite,
    ChatMembership,
    ChatMessage,
)
from tantalio.store.hashsets import HashEntry, HashSet
from tantalio.store.ingest import media_ids
from tantalio.store.media import Match, Media
from tantalio.store.series import MediaSeries, Series


@dataclass(slots=True)
class AccountRow:
    id: int
    key: str
    jid: str | None
    phone: str | None
    lid: str | None
    names: list[str]
    exhibits: list[str]  # "CASE/EXHIBIT" where seen
    owner_of: list[str]  # exhibits whose phone it is
    cases: list[str]  # every case of the workspace it appears in


@dataclass(slots=True)
class GroupRow:
    id: int
    key: str
    jid: str | None
    subject: str | None
    creator_id: int | None
    exhibits: list[str]
    cases: list[str]


@dataclass(slots=True)
class MembershipRow:
    group_id: int
    account_id: int
    role: str
    joined_how: str
    invite_code: str | None
    left: bool


@dataclass(slots=True)
class PostRow:
    """One message with content (system events excluded), once however many phones hold it."""

    fingerprint: str
    group_id: int | None
    peer_id: int | None
    sender_id: int | None
    timestamp: datetime | None
    media_sha256: str | None
    media_kind: str | None
    media_stored: bool  # a media row exists (the file itself was ingested)
    forwarded: bool


@dataclass(slots=True)
class KnownRow:
    """Why a SHA-256 is known material: the strongest category and where it comes from."""

    category: int | None
    series: list[str]
    via: list[str]  # "hashset:<name>", "match:<algorithm>", "examiner"


@dataclass(slots=True)
class ChatGraphData:
    accounts: list[AccountRow]
    groups: list[GroupRow]
    memberships: list[MembershipRow]
    posts: list[PostRow]
    known: dict[str, KnownRow]
    known_good: set[str]
    invites: list[tuple[str, int | None]]  # (code, group id)
    site_invites: list[tuple[str, str]]  # (site, code)
    # (account id, site, first visit): browser history of the phone's owner (issue 15)
    site_visits: list[tuple[int, str, datetime | None]] = field(default_factory=list)


_ROLE_RANK = {"member": 0, "admin": 1, "creator": 2}


def load_graph_data(session: Session, case_ids: Sequence[int] | None = None) -> ChatGraphData:
    """Everything the distribution network is built from, for some cases (None: all),
    merged across their exhibits: one account, group, membership and post each."""
    ex_q = select(Exhibit.id, Exhibit.label, Case.id, Case.reference).join(
        Case, Case.id == Exhibit.case_id
    )
    exhibits = {eid: (f"{ref}/{label}", ref, cid) for eid, label, cid, ref in session.execute(ex_q)}
    wanted = None if case_ids is None else set(case_ids)
    scope = sorted(e for e, (_n, _r, cid) in exhibits.items() if wanted is None or cid in wanted)

    def in_scope(column: Any) -> Any:
        return column.in_(scope) if wanted is not None else true()

    seen: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    account_ids = set(
        session.scalars(
            select(ChatAccountSeen.account_id).where(in_scope(ChatAccountSeen.exhibit_id))
        )
    )
    for batch in chunks(account_ids):  # every exhibit they are seen in: their other cases too
        seen_q = select(
            ChatAccountSeen.account_id, ChatAccountSeen.exhibit_id, ChatAccountSeen.is_owner
        ).where(ChatAccountSeen.account_id.in_(batch))
        for aid, eid, owner in session.execute(seen_q):
            seen[aid].append((eid, owner))
    scope_set = set(scope)
    accounts = []
    for batch in chunks(account_ids):
        for row in session.scalars(select(ChatAccount).where(ChatAccount.id.in_(batch))):
            rows = seen[row.id]
            accounts.append(
                AccountRow(
                    id=row.id,
                    key=row.key,
                    jid=row.jid,
                    phone=row.phone,
                    lid=row.lid,
                    names=list(row.names or []),
                    exhibits=sorted(exhibits[e][0] for e, _ in rows if e in scope_set),
                    owner_of=sorted(exhibits[e][0] for e, o in rows if o),
                    cases=sorted({exhibits[e][1] for e, _ in rows}),
                )
            )
    group_seen: dict[int, list[int]] = defaultdict(list)
    group_ids = set(
        session.scalars(select(ChatGroupSeen.group_id).where(in_scope(ChatGroupSeen.exhibit_id)))
    )
    for batch in chunks(group_ids):
        gseen_q = select(ChatGroupSeen.group_id, ChatGroupSeen.exhibit_id).where(
            ChatGroupSeen.group_id.in_(batch)
        )
        for gid, eid in session.execute(gseen_q):
            group_seen[gid].append(eid)
    groups = []
    for batch in chunks(group_ids):
        for g in session.scalars(select(ChatGroup).where(ChatGroup.id.in_(batch))):
            eids = group_seen[g.id]
            groups.append(
                GroupRow(
                    id=g.id,
                    key=g.key,
                    jid=g.jid,
                    subject=g.subject,
                    creator_id=g.creator_id,
                    exhibits=sorted(exhibits[e][0] for e in eids if e in scope_set),
                    cases=sorted({exhibits[e][1] for e in eids}),
                )
            )
    memberships = _merged_memberships(session, in_scope(ChatMembership.exhibit_id))
    posts = _posts(session, in_scope(ChatMessage.exhibit_id))
    shas = {p.media_sha256 for p in posts if p.media_sha256}
    stored = set(media_ids(session, shas))  # the file was ingested (from any exhibit)
    for p in posts:
        p.media_stored = p.media_sha256 in stored
    known, good = known_media(session, shas)
    invites = [(c, gid) for c, gid in session.execute(select(ChatInvite.code, ChatInvite.group_id))]
    sites_q = select(ChatArtifact.site, ChatArtifact.value).where(
        ChatArtifact.kind.in_(INVITE_KINDS),
        ChatArtifact.site.is_not(None),
        in_scope(ChatArtifact.exhibit_id),
    )
    site_invites = sorted({(site, code) for site, code in session.execute(sites_q) if site})
    visits_q = (
        select(ChatArtifact.sender_id, ChatArtifact.site, func.min(ChatArtifact.seen_at))
        .where(
            ChatArtifact.kind == "visit",
            ChatArtifact.site.is_not(None),
            ChatArtifact.sender_id.is_not(None),
            in_scope(ChatArtifact.exhibit_id),
        )
        .group_by(ChatArtifact.sender_id, ChatArtifact.site)
    )
    visits = sorted(
        ((aid, site, when) for aid, site, when in session.execute(visits_q) if aid and site),
        key=lambda v: (v[0], v[1]),
    )
    return ChatGraphData(
        accounts, groups, memberships, posts, known, good, invites, site_invites, visits
    )


def _merged_memberships(session: Session, where: Any) -> list[MembershipRow]:
    merged: dict[tuple[int, int], MembershipRow] = {}
    q = select(
        ChatMembership.group_id,
        ChatMembership.account_id,
        ChatMembership.role,
        ChatMembership.joined_how,
        ChatMembership.invite_code,
        ChatMembership.left_how,
        ChatMembership.joined_at,
        ChatMembership.left_at,
    ).where(where)
    for gid, aid, role, how, code, left_how, joined_at, left_at in session.execute(q):
        left = bool(left_how) and not (joined_at and left_at and joined_at > left_at)
        have = merged.get((gid, aid))
        if have is None:
            merged[(gid, aid)] = MembershipRow(gid, aid, role, how, code, left)
            continue
        if _ROLE_RANK.get(role, 0) > _ROLE_RANK.get(have.role, 0):
            have.role = role
        if have.joined_how in ("unknown", "listed") and how not in ("unknown", "listed"):
            have.joined_how = how
        have.invite_code = have.invite_code or code
        have.left = have.left or left
    return list(merged.values())


def _posts(session: Session, where: Any) -> list[PostRow]:
    q = select(
        ChatMessage.fingerprint,
        ChatMessage.group_id,
        ChatMessage.peer_id,
        ChatMessage.sender_id,
        ChatMessage.timestamp,
        ChatMessage.media_sha256,
        ChatMessage.media_kind,
        ChatMessage.forwarded,
    ).where(ChatMessage.system.is_(None), where)
    out: dict[str, PostRow] = {}
    for fp, gid, peer, sender, ts, sha, kind, fwd in session.execute(q):
        have = out.get(fp)
        if have is None:
            out[fp] = PostRow(fp, gid, peer, sender, ts, sha, kind, False, bool(fwd))
        else:  # the same message on another phone may know more
            have.media_sha256 = have.media_sha256 or sha
            have.sender_id = have.sender_id or sender
            have.forwarded = have.forwarded or bool(fwd)
    return list(out.values())


def known_media(session: Session, shas: set[str]) -> tuple[dict[str, KnownRow], set[str]]:
    """Which SHA-256 values are known material, and which are known-good.

    Known: the SHA-256 is in a known-bad/alert hash set (exact, so a deleted file still
    counts), or its media row matched such an entry (any algorithm), or an examiner put it
    in a category other than 0 (non-pertinent)."""
    known: dict[str, KnownRow] = {}
    good: set[str] = set()

    def note(sha: str, category: int | None, series: str | None, via: str) -> None:
        row = known.setdefault(sha, KnownRow(None, [], []))
        if category is not None and (
            row.category is None or _severity(category) > _severity(row.category)
        ):
            row.category = category
        if series and series not in row.series:
            row.series.append(series)
        if via not in row.via:
            row.via.append(via)

    for batch in chunks(shas):
        q = (
            select(
                HashEntry.sha256, HashEntry.category, HashEntry.series, HashSet.name, HashSet.kind
            )
            .join(HashSet, HashSet.id == HashEntry.hash_set_id)
            .where(HashEntry.sha256.in_(batch))
        )
        for sha, cat, series, set_name, kind in session.execute(q):
            if sha is None:
                continue
            if entry_alerts(kind, cat):
                note(sha, cat, series, f"hashset:{set_name}")
            elif kind == "known-good":
                good.add(sha)
        q2 = (
            select(
                Media.sha256, Match.algorithm, HashEntry.category, HashEntry.series, HashSet.kind
            )
            .join(Match, Match.media_id == Media.id)
            .join(HashEntry, HashEntry.id == Match.hash_entry_id)
            .join(HashSet, HashSet.id == HashEntry.hash_set_id)
            .where(Media.sha256.in_(batch))
        )
        for sha, algorithm, cat, series, kind in session.execute(q2):
            if entry_alerts(kind, cat):
                note(str(sha), cat, series, f"match:{algorithm}")
            elif kind == "known-good":
                good.add(str(sha))
        q3 = select(Media.sha256, Media.category).where(
            Media.sha256.in_(batch), Media.category.is_not(None), Media.category != 0
        )
        for sha, cat in session.execute(q3):
            note(str(sha), cat, None, "examiner")
        q4 = (
            select(Media.sha256, Series.name)
            .join(MediaSeries, MediaSeries.media_id == Media.id)
            .join(Series, Series.id == MediaSeries.series_id)
            .where(Media.sha256.in_(batch))
        )
        for sha, name in session.execute(q4):
            if sha in known and name not in known[sha].series:
                known[sha].series.append(name)
    return known, good - set(known)


def _severity(category: int) -> int:
    """Category 1 (CAM) is the most severe, then 2, 3, 4; 0 (non-pertinent) the least."""
    return {1: 4, 2: 3, 3: 2, 4: 1}.get(category, 0)
