"""The store's side of "the same group on two phones" (`tantalio.chats.groupmerge` decides):
the lookups it asks for, and carrying out what it decided when an exhibit is written.

Only reads and writes: which groups are the same, and which messages are copies of one
another, is decided in the chat package from what these lookups return.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from tantalio.chats.record import StoredCopy, StoredGroup
from tantalio.store.bulk import chunks
from tantalio.store.chats.models import (
    ChatAccount,
    ChatArtifact,
    ChatGroup,
    ChatGroupSeen,
    ChatInvite,
    ChatMembership,
    ChatMessage,
)


def groups_like(
    session: Session, exhibit_id: int, subjects: Collection[str], codes: Collection[str]
) -> list[StoredGroup]:
    """Groups that other exhibits stored under one of `subjects` (as written, or lower-cased)
    or that one of the invite `codes` opens; with their members and invite codes."""
    ids: set[int] = set()
    for batch in chunks(set(subjects) | {s.lower() for s in subjects}):
        ids.update(
            session.scalars(
                select(ChatGroup.id).where(
                    or_(ChatGroup.subject.in_(batch), func.lower(ChatGroup.subject).in_(batch))
                )
            )
        )
        ids.update(
            session.scalars(
                select(ChatGroupSeen.group_id).where(
                    ChatGroupSeen.exhibit_id != exhibit_id,
                    or_(
                        ChatGroupSeen.subject.in_(batch),
                        func.lower(ChatGroupSeen.subject).in_(batch),
                    ),
                )
            )
        )
    for batch in chunks(set(codes)):
        ids.update(
            gid
            for gid in session.scalars(
                select(ChatInvite.group_id).where(ChatInvite.code.in_(batch))
            )
            if gid is not None
        )
    if not ids:
        return []
    rows = [
        r
        for batch in chunks(ids)
        for r in session.scalars(select(ChatGroup).where(ChatGroup.id.in_(batch)))
        if r.exhibit_id != exhibit_id  # this exhibit's own earlier run is about to be replaced
    ]
    wanted = [r.id for r in rows]
    subjects_of: dict[int, set[str]] = defaultdict(set)
    members_of: dict[int, set[str]] = defaultdict(set)
    codes_of: dict[int, set[str]] = defaultdict(set)
    for some in chunks(wanted):
        for group_id, subject in session.execute(
            select(ChatGroupSeen.group_id, ChatGroupSeen.subject).where(
                ChatGroupSeen.group_id.in_(some), ChatGroupSeen.exhibit_id != exhibit_id
            )
        ):
            if subject:
                subjects_of[group_id].add(subject)
        for group_id, key in session.execute(
            select(ChatMembership.group_id, ChatAccount.key)
            .join(ChatAccount, ChatAccount.id == ChatMembership.account_id)
            .where(ChatMembership.group_id.in_(some), ChatMembership.exhibit_id != exhibit_id)
        ):
            members_of[group_id].add(key)
        for opened, code in session.execute(
            select(ChatInvite.group_id, ChatInvite.code).where(ChatInvite.group_id.in_(some))
        ):
            if opened is not None:
                codes_of[opened].add(code)
    return [
        StoredGroup(
            key=r.key,
            local=r.exhibit_id is not None,
            subjects=frozenset(subjects_of[r.id] | ({r.subject} if r.subject else set())),
            members=frozenset(members_of[r.id]),
            invite_codes=frozenset(codes_of[r.id]),
        )
        for r in rows
    ]


def group_copies(session: Session, exhibit_id: int, group_key: str) -> list[StoredCopy]:
    """The messages other exhibits stored in the group `group_key`."""
    group_id = session.scalar(select(ChatGroup.id).where(ChatGroup.key == group_key))
    if group_id is None:
        return []
    sender = aliased(ChatAccount)
    rows = session.execute(
        select(
            ChatMessage.id,
            sender.key,
            ChatMessage.timestamp,
            ChatMessage.local_time,
            ChatMessage.utc_offset,
            ChatMessage.text,
            ChatMessage.media_sha256,
            ChatMessage.system,
            ChatMessage.fingerprint,
        )
        .outerjoin(sender, sender.id == ChatMessage.sender_id)
        .where(ChatMessage.group_id == group_id, ChatMessage.exhibit_id != exhibit_id)
    )
    return [StoredCopy(*row) for row in rows]


def merge_stored_groups(session: Session, merges: dict[str, str]) -> int:
    """Fold each stored group `from` (another exhibit's text-export group) into the group
    `into`: its memberships, sightings, messages, artifacts and invites point at `into`, its
    subject and creator fill gaps, then its row goes. The number of groups folded."""
    done = 0
    for from_key, into_key in merges.items():
        src = session.scalar(select(ChatGroup).where(ChatGroup.key == from_key))
        dst = session.scalar(select(ChatGroup).where(ChatGroup.key == into_key))
        if src is None or dst is None or src.id == dst.id:
            continue
        for model, unique in (
            (ChatMembership, (ChatMembership.account_id, ChatMembership.exhibit_id)),
            (ChatGroupSeen, (ChatGroupSeen.exhibit_id,)),
        ):
            group_col = model.group_id  # type: ignore[attr-defined]
            taken = {tuple(r) for r in session.execute(select(*unique).where(group_col == dst.id))}
            for row in session.scalars(select(model).where(group_col == src.id)):
                if tuple(getattr(row, c.key) for c in unique) in taken:
                    session.delete(row)
                else:
                    setattr(row, "group_id", dst.id)  # noqa: B010  (either model)
        session.execute(
            update(ChatMessage)
            .where(ChatMessage.group_id == src.id)
            .values(group_id=dst.id, chat_key=dst.key)
        )
        session.execute(
            update(ChatArtifact).where(ChatArtifact.group_id == src.id).values(group_id=dst.id)
        )
        session.execute(
            update(ChatArtifact).where(ChatArtifact.chat_key == src.key).values(chat_key=dst.key)
        )
        session.execute(
            update(ChatInvite).where(ChatInvite.group_id == src.id).values(group_id=dst.id)
        )
        dst.subject = dst.subject or src.subject
        dst.creator_id = dst.creator_id or src.creator_id
        dst.created_at = dst.created_at or src.created_at
        session.flush()
        session.execute(delete(ChatGroup).where(ChatGroup.id == src.id))
        done += 1
    return done


def share_fingerprints(session: Session, pairs: Sequence[tuple[int, str]]) -> None:
    """Give stored copies (message id) the fingerprint of this exhibit's copy of them."""
    for message_id, fingerprint in pairs:
        session.execute(
            update(ChatMessage).where(ChatMessage.id == message_id).values(fingerprint=fingerprint)
        )
