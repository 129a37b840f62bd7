"""Every stored copy of the chat messages of some cases, one row per phone that holds it:
what `network.firstpost` aligns the phones' clocks with and follows media through.

Unlike `read.load_graph_data`, copies of one message on several phones are not merged: the
same message seen on two phones is what tells how far apart their clocks are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from tantalio.store.cases import Case, Exhibit
from tantalio.store.chats.models import ChatAccount, ChatGroup, ChatMessage


@dataclass(slots=True)
class CopyRow:
    id: int
    exhibit_id: int
    exhibit: str  # "CASE/EXHIBIT"
    local_time: bool  # the phone's clock (a text export), not UTC
    utc_offset: int | None  # minutes, when the export was matched with its phone's database
    chat_kind: str
    group_id: int | None
    group: str | None  # the group's subject (else its key)
    peer_id: int | None
    sender_id: int | None
    sender: str | None  # the sender's account key
    sender_local: bool  # a key that only means something in its exhibit (a contact name)
    timestamp: datetime | None
    media_sha256: str | None
    text: str | None
    forwarded: bool


def load_message_copies(
    session: Session,
    case_ids: Sequence[int] | None = None,
    exhibit_ids: Sequence[int] | None = None,
) -> list[CopyRow]:
    """The non-system messages of some cases (None: all) or exhibits, every copy."""
    sender = aliased(ChatAccount)
    q = (
        select(
            ChatMessage.id,
            ChatMessage.exhibit_id,
            Case.reference,
            Exhibit.label,
            ChatMessage.local_time,
            ChatMessage.utc_offset,
            ChatMessage.chat_kind,
            ChatMessage.group_id,
            ChatGroup.subject,
            ChatGroup.key,
            ChatMessage.peer_id,
            ChatMessage.sender_id,
            sender.key,
            sender.exhibit_id,
            ChatMessage.timestamp,
            ChatMessage.media_sha256,
            ChatMessage.text,
            ChatMessage.forwarded,
        )
        .join(Exhibit, Exhibit.id == ChatMessage.exhibit_id)
        .join(Case, Case.id == Exhibit.case_id)
        .outerjoin(ChatGroup, ChatGroup.id == ChatMessage.group_id)
        .outerjoin(sender, sender.id == ChatMessage.sender_id)
        .where(ChatMessage.system.is_(None))
        .order_by(ChatMessage.id)
    )
    if case_ids is not None:
        q = q.where(Exhibit.case_id.in_(list(case_ids)))
    if exhibit_ids is not None:
        q = q.where(ChatMessage.exhibit_id.in_(list(exhibit_ids)))
    return [
        CopyRow(
            id=mid,
            exhibit_id=eid,
            exhibit=f"{ref}/{label}",
            local_time=bool(local),
            utc_offset=offset,
            chat_kind=kind,
            group_id=gid,
            group=subject or gkey,
            peer_id=peer,
            sender_id=sid,
            sender=skey,
            sender_local=sexhibit is not None,
            timestamp=ts,
            media_sha256=sha,
            text=text,
            forwarded=bool(fwd),
        )
        for (
            mid,
            eid,
            ref,
            label,
            local,
            offset,
            kind,
            gid,
            subject,
            gkey,
            peer,
            sid,
            skey,
            sexhibit,
            ts,
            sha,
            text,
            fwd,
        ) in session.execute(q)
    ]


def exhibits_holding(session: Session, sha256: str) -> list[int]:
    """The exhibits with a chat message that carried this media."""
    q = select(ChatMessage.exhibit_id).where(ChatMessage.media_sha256 == sha256).distinct()
    return sorted(session.scalars(q))


def account_labels(session: Session, ids: Sequence[int]) -> dict[int, str]:
    """How pages name accounts: "+34612000101 · Dist Uno" (number, else lid/key; first name)."""
    out: dict[int, str] = {}
    if not ids:
        return out
    q = select(ChatAccount.id, ChatAccount.phone, ChatAccount.key, ChatAccount.names).where(
        ChatAccount.id.in_(list(set(ids)))
    )
    for aid, phone, key, names in session.execute(q):
        ident = phone or key.removesuffix("@s.whatsapp.net")
        out[aid] = f"{ident} · {names[0]}" if names else ident
    return out
