"""Shared assembly of records from a chat database (Android current, legacy, iOS).

The format modules read rows; this turns row values into accounts, groups, memberships and
messages, resolving `@lid` identities to phone JIDs where the database maps them, and
applying system events to memberships.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import datetime
from pathlib import Path

from tantalio.chats.base import ParseContext
from tantalio.chats.jid import (
    account_for_jid,
    is_broadcast_jid,
    is_group_jid,
    jid_server,
    normalize_jid,
)
from tantalio.chats.membership import GroupMessageRecorder
from tantalio.chats.record import (
    Account,
    Artifact,
    ChatRecords,
    Group,
    MediaRef,
    Membership,
    Message,
)
from tantalio.chats.wadb import read_contacts

JidRef = int | str | None  # a jid table row id, or a JID string


class DbChatBuilder(GroupMessageRecorder):
    def __init__(self, ctx: ParseContext, out: ChatRecords, wadb: Path | None = None) -> None:
        self.ctx, self.out = ctx, out
        self.jids: dict[int, str] = {}
        self.lid_to_phone: dict[str, str] = {}
        self.lid_names: dict[str, list[str]] = {}  # lid -> the names it shows (lid_display_name)
        self.contacts: dict[str, list[str]] = {}
        if wadb is not None and wadb.is_file():
            self.contacts = read_contacts(wadb, str(Path(ctx.label).with_name(wadb.name)), out)
            out.contacts.update(self.contacts)
        self.chats: dict[Hashable, tuple[str, str]] = {}  # chat id → (key, kind)
        self.owner_key = ctx.owner_key
        owner = (
            account_for_jid(self.owner_key)
            if ctx.owner_jid
            else Account(key=self.owner_key, where=ctx.label)
        )
        owner.is_owner = True
        self.out.add_account(owner)
        self._unknown_chats: set[Hashable] = set()

    # -- identities -------------------------------------------------------------------
    def jid_of(self, ref: JidRef) -> str | None:
        if ref is None:
            return None
        if isinstance(ref, int):
            return self.jids.get(ref)
        return normalize_jid(ref)

    def account(self, ref: JidRef, where: str, names: list[str] | None = None) -> str | None:
        """The key of the account `ref` names (an `@lid` resolved to its phone JID)."""
        jid = self.jid_of(ref)
        if jid is None or is_group_jid(jid) or is_broadcast_jid(jid):
            return None
        if jid == self.owner_key:
            return self.owner_key
        lid = None
        if jid_server(jid) == "lid":
            lid = jid
            jid = self.lid_to_phone.get(jid, jid)
        found = list(names or [])
        lid_names = (self.contacts.get(lid, []) + self.lid_names.get(lid, [])) if lid else []
        for n in self.contacts.get(jid, []) + lid_names:
            if n not in found:
                found.append(n)
        acc = account_for_jid(jid, found, where=where, lid=lid)
        if acc.key == self.owner_key:
            acc.is_owner = True
        return self.out.add_account(acc).key

    def target(self, ref: JidRef, where: str) -> str | None:
        """A system event's target; the phone's own row is written without a JID (0, -1, '')."""
        if ref is None or ref == "" or (isinstance(ref, int) and ref <= 0):
            return self.owner_key
        return self.account(ref, where)

    # -- chats ------------------------------------------------------------------------
    def add_chat(
        self,
        chat_id: Hashable,
        jid: str | None,
        subject: str | None,
        created: datetime | None,
        where: str,
    ) -> None:
        if jid is None:
            self.out.warn(where, "chat without a JID skipped", "jid_row_id")
            return
        if is_group_jid(jid):
            self.out.add_group(
                Group(key=jid, jid=jid, subject=subject, created_at=created, where=where)
            )
            self.out.add_membership(
                Membership(group=jid, account=self.owner_key, joined_how="listed", where=where)
            )
            self.chats[chat_id] = (jid, "group")
        elif is_broadcast_jid(jid):
            kind = "status" if jid.startswith("status@") else "broadcast"
            self.chats[chat_id] = (jid, kind)
        else:
            key = self.account(jid, where, [subject] if subject else None)
            if key is not None:
                self.chats[chat_id] = (key, "direct")

    def participant(self, group_jid: str | None, user: JidRef, role: str, where: str) -> None:
        if group_jid is None or not is_group_jid(group_jid):
            return
        if user is None or user == "" or (isinstance(user, int) and user <= 0):
            key: str | None = self.owner_key  # the phone's own row has no JID
        else:
            key = self.account(user, where)
        if key is None:
            return
        self.out.add_group(Group(key=group_jid, jid=group_jid, where=where))
        self.out.add_membership(
            Membership(group=group_jid, account=key, role=role, joined_how="listed", where=where)
        )
        if role == "creator":
            self.out.groups[group_jid].creator = self.out.groups[group_jid].creator or key

    # -- messages ---------------------------------------------------------------------
    def message(
        self,
        *,
        chat_id: Hashable,
        from_me: bool,
        sender_row: JidRef,
        when: datetime | None,
        text: str | None,
        key_id: str | None,
        forwarded: bool,
        media: MediaRef | None,
        system: str | None,
        target_rows: Sequence[JidRef],
        where: str,
    ) -> None:
        chat = self.chats.get(chat_id)
        if chat is None:
            if chat_id not in self._unknown_chats:
                self._unknown_chats.add(chat_id)
                self.out.warn(where, f"message in unknown chat {chat_id!r} skipped", "chat")
            return
        chat_key, kind = chat
        if from_me:
            sender: str | None = self.owner_key
        elif kind == "direct":
            sender = chat_key
        else:
            sender = self.account(sender_row, where)
        targets = [t for t in (self.target(r, where) for r in target_rows) if t]
        self._record(
            Message(
                chat=chat_key,
                chat_kind=kind,
                sender=sender,
                timestamp=when,
                text=text,
                from_me=from_me,
                forwarded=forwarded,
                key_id=key_id,
                media=media,
                system=system,
                targets=targets,
                where=where,
            ),
            where,
        )

    def invite(
        self,
        group_jid: str | None,
        code: str | None,
        name: str | None,
        chat_id: Hashable,
        where: str,
    ) -> None:
        """An invite card (`message_group_invite`): ties an invite code to its group."""
        if not code:
            return
        chat = self.chats.get(chat_id)
        if group_jid and is_group_jid(group_jid):
            self.out.add_group(
                Group(key=group_jid, jid=group_jid, subject=name, invite_codes=[code], where=where)
            )
        self.out.artifacts.append(
            Artifact(
                kind="whatsapp_invite",
                value=code,
                raw=f"https://chat.whatsapp.com/{code}",
                where=where,
                chat=chat[0] if chat else None,
                group=group_jid if group_jid and is_group_jid(group_jid) else None,
            )
        )
