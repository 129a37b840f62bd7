"""Writing one exhibit's chat records (`tantalio.chats.record.ChatRecords`) to the store.

Only writes and lookups: the chat logic that finishes an exhibit's records (text export vs
database, known lids) runs before, in `tantalio.chats.mediator`; this module imports nothing
of `tantalio.chats` but the typed records.

Writing an exhibit's chats replaces what an earlier run wrote for it, so a rerun is safe.
Accounts and groups are upserted by key; an `@lid` identity stored earlier is re-keyed or
merged once an exhibit maps it to a phone number.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from tantalio.chats.record import (
    INVITE_KINDS,
    Account,
    ChatRecords,
    ChatSaveSummary,
    Group,
    Message,
    is_local_key,
)
from tantalio.store.bulk import chunks, insert_ignore, table_of
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
from tantalio.store.chats.samegroup import merge_stored_groups, share_fingerprints
from tantalio.store.ingest import media_ids
from tantalio.store.timeutil import to_naive_utc

R = TypeVar("R")


def scoped_key(key: str, exhibit_id: int) -> str:
    """Workspace key of a record key: local keys are prefixed with their exhibit."""
    return f"x{exhibit_id}:{key}" if is_local_key(key) else key


def clear_exhibit_chats(session: Session, exhibit_id: int) -> None:
    """Remove what an earlier run wrote for this exhibit (accounts/groups seen elsewhere stay)."""
    for model in (ChatMessage, ChatMembership, ChatArtifact, ChatAccountSeen, ChatGroupSeen):
        session.execute(delete(model).where(model.exhibit_id == exhibit_id))
    local_groups = select(ChatGroup.id).where(ChatGroup.exhibit_id == exhibit_id)
    session.execute(
        update(ChatInvite).where(ChatInvite.group_id.in_(local_groups)).values(group_id=None)
    )
    session.execute(delete(ChatGroup).where(ChatGroup.exhibit_id == exhibit_id))
    local_accounts = select(ChatAccount.id).where(ChatAccount.exhibit_id == exhibit_id)
    session.execute(
        update(ChatGroup).where(ChatGroup.creator_id.in_(local_accounts)).values(creator_id=None)
    )
    session.execute(delete(ChatAccount).where(ChatAccount.exhibit_id == exhibit_id))


def save_exhibit_chats(
    session: Session,
    exhibit_id: int,
    records: ChatRecords,
    exports: Sequence[str] = (),
) -> ChatSaveSummary:
    """Persist one exhibit's finished chat records (`chats.mediator.ChatMediator.flush`),
    replacing an earlier run's; `exports` are the text-export notes to report. The caller
    commits."""
    clear_exhibit_chats(session, exhibit_id)
    _rekey_stored_lids(session, records)
    summary = ChatSaveSummary(warnings=[str(w) for w in records.warnings], exports=list(exports))
    accounts = _save_accounts(session, exhibit_id, records)
    groups = _save_groups(session, exhibit_id, records, accounts)
    _save_invites(session, records, groups)
    summary.accounts, summary.groups = len(accounts), len(groups)
    summary.memberships = _save_memberships(session, exhibit_id, records, accounts, groups)
    summary.messages = _save_messages(session, exhibit_id, records, accounts, groups)
    summary.artifacts = _save_artifacts(session, exhibit_id, records, accounts, groups)
    # The same group on two phones (chats/groupmerge.py decided; carried out here).
    merge_stored_groups(session, records.group_merges)
    share_fingerprints(
        session,
        [(mid, _fingerprint(records.messages[i], exhibit_id)) for mid, i in records.refingerprint],
    )
    summary.media_linked = link_media(session, exhibit_id)
    return summary


def _rows_by_key(session: Session, model: Any, keys: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for batch in chunks(set(keys)):
        out.update(
            (row.key, row) for row in session.scalars(select(model).where(model.key.in_(batch)))
        )
    return out


def _upsert_by_key(
    session: Session,
    model: Any,
    wanted: dict[str, R],
    new_row: Callable[[str, R], dict[str, Any]],
    merge: Callable[[Any, R], None],
) -> dict[str, int]:
    """Insert the keyed records not stored yet, `merge` each into its stored row otherwise;
    the row id of every wanted key."""
    have = _rows_by_key(session, model, wanted)
    insert_ignore(session, model, [new_row(k, r) for k, r in wanted.items() if k not in have])
    for key, row in have.items():
        merge(row, wanted[key])
    session.flush()
    return {key: row.id for key, row in _rows_by_key(session, model, wanted).items()}


def _rekey_stored_lids(session: Session, records: ChatRecords) -> None:
    """One person, two identities: an account stored under its `@lid` by an earlier exhibit
    is re-keyed (or merged) once this exhibit maps that lid to a phone number. (The other
    way, an unresolved lid here that an earlier exhibit resolved, is the mediator's:
    `lid_accounts` answers it.)"""
    for acc in list(records.accounts.values()):
        if acc.lid and acc.jid and acc.key == acc.jid:
            lid_row = session.scalar(select(ChatAccount).where(ChatAccount.key == acc.lid))
            if lid_row is None:
                continue
            phone_row = session.scalar(select(ChatAccount).where(ChatAccount.key == acc.jid))
            if phone_row is None:
                lid_row.key, lid_row.jid, lid_row.phone = acc.jid, acc.jid, acc.phone
                lid_row.lid = acc.lid
            else:
                merge_accounts(session, lid_row.id, phone_row.id)
                phone_row.lid = acc.lid
            session.flush()


def lid_accounts(session: Session, lids: Iterable[str]) -> dict[str, str]:
    """lid -> the key of the account stored for it under another key (its phone JID)."""
    out: dict[str, str] = {}
    for batch in chunks(set(lids)):
        rows = session.execute(
            select(ChatAccount.lid, ChatAccount.key).where(
                ChatAccount.lid.in_(batch), ChatAccount.key != ChatAccount.lid
            )
        )
        out.update((lid, key) for lid, key in rows if lid)
    return out


def merge_accounts(session: Session, from_id: int, into_id: int) -> None:
    """Point everything at `into_id` and drop `from_id` (same person, two identities)."""
    refs: tuple[tuple[Any, Any], ...] = (
        (ChatMessage, ChatMessage.sender_id),
        (ChatMessage, ChatMessage.peer_id),
        (ChatMembership, ChatMembership.added_by_id),
        (ChatGroup, ChatGroup.creator_id),
        (ChatArtifact, ChatArtifact.sender_id),
    )
    for model, column in refs:
        session.execute(update(model).where(column == from_id).values({column.key: into_id}))
    owned: tuple[tuple[Any, Any, tuple[Any, ...]], ...] = (
        (
            ChatMembership,
            ChatMembership.account_id,
            (ChatMembership.group_id, ChatMembership.exhibit_id),
        ),
        (ChatAccountSeen, ChatAccountSeen.account_id, (ChatAccountSeen.exhibit_id,)),
    )
    for model, column, unique in owned:
        taken = {tuple(r) for r in session.execute(select(*unique).where(column == into_id))}
        for row in session.scalars(select(model).where(column == from_id)):
            if tuple(getattr(row, c.key) for c in unique) in taken:
                session.delete(row)
            else:
                setattr(row, column.key, into_id)
    for msg in session.scalars(select(ChatMessage).where(ChatMessage.targets.is_not(None))):
        if msg.targets and from_id in msg.targets:
            msg.targets = [into_id if t == from_id else t for t in msg.targets]
    session.flush()
    session.execute(delete(ChatAccount).where(ChatAccount.id == from_id))


def _save_accounts(session: Session, exhibit_id: int, records: ChatRecords) -> dict[str, int]:
    wanted = {scoped_key(a.key, exhibit_id): a for a in records.accounts.values()}

    def merge(row: ChatAccount, a: Account) -> None:  # what this exhibit adds to it
        names = list(row.names or [])
        names += [n for n in a.names if n not in names]
        if names != (row.names or []):
            row.names = names
        row.jid, row.phone, row.lid = row.jid or a.jid, row.phone or a.phone, row.lid or a.lid

    ids = _upsert_by_key(
        session,
        ChatAccount,
        wanted,
        lambda key, a: {
            "key": key,
            "jid": a.jid,
            "phone": a.phone,
            "lid": a.lid,
            "names": a.names or None,
            "exhibit_id": exhibit_id if is_local_key(a.key) else None,
        },
        merge,
    )
    insert_ignore(
        session,
        ChatAccountSeen,
        [
            {
                "account_id": ids[key],
                "exhibit_id": exhibit_id,
                "names": a.names or None,
                "is_owner": a.is_owner,
                "source": a.where,
            }
            for key, a in wanted.items()
        ],
    )
    return {a.key: ids[scoped_key(a.key, exhibit_id)] for a in records.accounts.values()}


def _save_groups(
    session: Session, exhibit_id: int, records: ChatRecords, accounts: dict[str, int]
) -> dict[str, int]:
    wanted = {scoped_key(g.key, exhibit_id): g for g in records.groups.values()}

    def merge(row: ChatGroup, g: Group) -> None:
        row.subject = row.subject or g.subject
        row.creator_id = row.creator_id or (accounts.get(g.creator) if g.creator else None)
        row.created_at = row.created_at or to_naive_utc(g.created_at)

    ids = _upsert_by_key(
        session,
        ChatGroup,
        wanted,
        lambda key, g: {
            "key": key,
            "jid": g.jid,
            "subject": g.subject,
            "creator_id": accounts.get(g.creator) if g.creator else None,
            "created_at": to_naive_utc(g.created_at),
            "exhibit_id": exhibit_id if is_local_key(g.key) else None,
        },
        merge,
    )
    insert_ignore(
        session,
        ChatGroupSeen,
        [
            {
                "group_id": ids[key],
                "exhibit_id": exhibit_id,
                "subject": g.subject,
                "source": g.where,
            }
            for key, g in wanted.items()
        ],
    )
    return {g.key: ids[scoped_key(g.key, exhibit_id)] for g in records.groups.values()}


def _save_invites(session: Session, records: ChatRecords, groups: dict[str, int]) -> None:
    codes: dict[str, int | None] = {}
    for g in records.groups.values():
        for code in g.invite_codes:
            codes[code] = groups.get(g.key)
    for a in records.artifacts:
        if a.kind in INVITE_KINDS:
            codes[a.value] = codes.get(a.value) or (groups.get(a.group) if a.group else None)
    if not codes:
        return
    have: dict[str, ChatInvite] = {}
    for batch in chunks(codes):
        have.update(
            (row.code, row)
            for row in session.scalars(select(ChatInvite).where(ChatInvite.code.in_(batch)))
        )
    insert_ignore(
        session,
        ChatInvite,
        [{"code": c, "group_id": gid} for c, gid in codes.items() if c not in have],
    )
    for code, row in have.items():
        row.group_id = row.group_id or codes[code]


def _save_memberships(
    session: Session,
    exhibit_id: int,
    records: ChatRecords,
    accounts: dict[str, int],
    groups: dict[str, int],
) -> int:
    rows = [
        {
            "group_id": groups[m.group],
            "account_id": accounts[m.account],
            "exhibit_id": exhibit_id,
            "role": m.role,
            "joined_at": to_naive_utc(m.joined_at),
            "joined_how": m.joined_how,
            "added_by_id": accounts.get(m.added_by) if m.added_by else None,
            "invite_code": m.invite_code,
            "left_at": to_naive_utc(m.left_at),
            "left_how": m.left_how,
            "source": m.where,
        }
        for m in records.memberships.values()
        if m.group in groups and m.account in accounts
    ]
    for batch in chunks(rows, 2000):
        session.execute(table_of(ChatMembership).insert(), batch)
    return len(rows)


def message_fingerprint(msg: Message, chat_key: str, sender_key: str | None) -> str:
    """The same for one message on every phone that holds it: WhatsApp's message id within its
    chat when known, else chat, sender, time, text and media together."""
    if msg.key_id:
        basis = f"{chat_key}\x1f{msg.key_id}"
    else:
        when = msg.timestamp.isoformat() if msg.timestamp else ""
        media = msg.media.sha256 or msg.media.file_name or "" if msg.media else ""
        basis = f"{chat_key}\x1f{sender_key}\x1f{when}\x1f{msg.text or ''}\x1f{media}"
    return hashlib.sha1(basis.encode("utf-8", "surrogatepass")).hexdigest()


def _fingerprint(msg: Message, exhibit_id: int) -> str:
    """The stored fingerprint of one of the exhibit's messages: that of its copy on another
    phone when one was paired with it (groupmerge.py), else its own."""
    if msg.fingerprint:
        return msg.fingerprint
    sender_key = scoped_key(msg.sender, exhibit_id) if msg.sender else None
    return message_fingerprint(msg, scoped_key(msg.chat, exhibit_id), sender_key)


def _save_messages(
    session: Session,
    exhibit_id: int,
    records: ChatRecords,
    accounts: dict[str, int],
    groups: dict[str, int],
) -> int:
    rows = []
    for msg in records.messages:
        chat_key = scoped_key(msg.chat, exhibit_id)
        sender_key = scoped_key(msg.sender, exhibit_id) if msg.sender else None
        media = msg.media
        rows.append(
            {
                "exhibit_id": exhibit_id,
                "chat_kind": msg.chat_kind,
                "group_id": groups.get(msg.chat) if msg.chat_kind == "group" else None,
                "peer_id": accounts.get(msg.chat) if msg.chat_kind == "direct" else None,
                "chat_key": chat_key,
                "sender_id": accounts.get(msg.sender) if msg.sender else None,
                "timestamp": to_naive_utc(msg.timestamp),
                "local_time": msg.timestamp is not None and msg.timestamp.tzinfo is None,
                "text": msg.text,
                "from_me": msg.from_me,
                "forwarded": msg.forwarded,
                "key_id": msg.key_id,
                "system": msg.system,
                "targets": [accounts[t] for t in msg.targets if t in accounts] or None,
                "media_sha256": media.sha256 if media else None,
                "media_name": media.file_name if media else None,
                "media_mime": media.mime if media else None,
                "media_size": media.size if media else None,
                "media_kind": media.kind if media else None,
                "media_omitted": bool(media and media.omitted),
                "fingerprint": msg.fingerprint or message_fingerprint(msg, chat_key, sender_key),
                "source": msg.where,
                "also_in": list(msg.also_in) or None,
                "only_in_export": msg.only_in_export,
                "utc_offset": msg.utc_offset,
            }
        )
    for batch in chunks(rows, 2000):
        session.execute(table_of(ChatMessage).insert(), batch)
    return len(rows)


def _save_artifacts(
    session: Session,
    exhibit_id: int,
    records: ChatRecords,
    accounts: dict[str, int],
    groups: dict[str, int],
) -> int:
    rows = [
        {
            "exhibit_id": exhibit_id,
            "kind": a.kind,
            "value": a.value[:512],
            "raw": a.raw,
            "source": a.where,
            "chat_key": scoped_key(a.chat, exhibit_id) if a.chat else None,
            "group_id": groups.get(a.group or a.chat or "") or None,
            "sender_id": accounts.get(a.sender) if a.sender else None,
            "site": a.site,
            "seen_at": to_naive_utc(a.seen_at),
        }
        for a in records.artifacts
    ]
    for batch in chunks(rows, 2000):
        session.execute(table_of(ChatArtifact).insert(), batch)
    return len(rows)


def link_media(session: Session, exhibit_id: int | None = None) -> int:
    """Point messages at the media row of their SHA-256 where one exists (the file was ingested).

    Called after saving an exhibit's chats and again after ingesting media, in either order."""
    q = select(ChatMessage.id, ChatMessage.media_sha256).where(
        ChatMessage.media_sha256.is_not(None), ChatMessage.media_id.is_(None)
    )
    if exhibit_id is not None:
        q = q.where(ChatMessage.exhibit_id == exhibit_id)
    pending = session.execute(q).all()
    ids = media_ids(session, {sha for _, sha in pending if sha})
    rows = [{"id": mid, "media_id": ids[sha]} for mid, sha in pending if sha in ids]
    if rows:
        session.execute(update(ChatMessage), rows)
    return len(rows)
