"""Telegram for Android, `cache4.db` (issue 15): users, groups and channels, messages, media
references and invite links.

Tables read (names as Telegram writes them): `users` (uid, data: a TL `User`), `chats`
(uid, data: `Chat`/`Channel`), `messages_v2` (mid, uid = the dialog, date, out, data: a TL
`Message`), and when present `chat_settings_v2` (uid, info: a basic group's `ChatFull`, whose
participants and exported invite link are read) and `channel_users_v2` (did, uid, date:
members of supergroups and channels). The TL objects are decoded by `tl.py`; a blob whose
constructor it does not know keeps the row's own columns (dialog, date, direction) and is
counted in one warning per kind, never guessed at.

Dialog ids: a user's id for a private chat, minus the chat or channel id for groups;
secret chats (bit 62 set) are counted, not read. Telegram keeps no hash of media in
`cache4.db`: media references carry the kind, name, type and size only.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from tantalio.chats import sqlite_util, tl
from tantalio.chats.appchat import AppChatBuilder
from tantalio.chats.artifacts import telegram_invite
from tantalio.chats.base import ParseContext, SQLiteChatParser
from tantalio.chats.jid import normalize_phone
from tantalio.chats.record import ChatRecords, MediaRef

OPTIONAL = {
    "chat_settings_v2": ("uid", "info"),
    "channel_users_v2": ("did", "uid", "date"),
}
SECRET_BIT = 1 << 62


def from_unix(value: object) -> datetime | None:
    if not isinstance(value, int) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


class TelegramAndroidParser(SQLiteChatParser):
    name = "telegram_android"
    FILE_NAMES = ("cache4.db",)
    SIDECARS = ("cache4.db-wal",)
    REQUIRED_STRUCTURE = {
        "users": ("uid", "data"),
        "chats": ("uid", "data"),
        "messages_v2": ("mid", "uid", "date", "data", "out"),
    }

    def read(
        self, conn: sqlite3.Connection, have: dict[str, set[str]], path: Path, ctx: ParseContext
    ) -> ChatRecords:
        out = self.new_records(ctx)
        reader = _Reader(conn, have, AppChatBuilder("telegram", ctx, out))
        self.read_partly(out, ctx, reader.run)
        reader.report()
        return out


class _Reader:
    def __init__(self, conn: sqlite3.Connection, have: dict[str, set[str]], b: AppChatBuilder):
        self.conn, self.have, self.b = conn, have, b
        self.label = b.ctx.label
        self.users: dict[int, str] = {}
        self.chats: dict[int, str] = {}  # chat or channel id → group key
        self.channels: set[int] = set()
        self.unread: Counter[str] = Counter()  # what could not be decoded, by reason
        self.secret = 0

    def ok(self, table: str) -> bool:
        return sqlite_util.has(self.have, table, *OPTIONAL[table])

    def report(self) -> None:
        for why, n in sorted(self.unread.items()):
            self.b.out.warn(self.label, f"{n} {why}")
        if self.secret:
            self.b.out.warn(self.label, f"{self.secret} messages of secret chats not read")

    def run(self) -> None:
        self._users()
        self._chats()
        if self.ok("chat_settings_v2"):
            self._chat_full()
        if self.ok("channel_users_v2"):
            self._channel_users()
        self._messages()

    # -- identities -----------------------------------------------------------------
    def _users(self) -> None:
        rows = self.conn.execute("SELECT uid, data FROM users ORDER BY uid").fetchall()
        for row in rows:  # the owner first: messages and memberships name it
            if row["data"]:
                try:
                    if tl.read_user(bytes(row["data"])).is_self:
                        key = self.b.account_key(row["uid"])
                        self.b.set_owner(key, f"{self.label}:users {row['uid']}")
                except tl.TLError:
                    pass
        for row in rows:
            where = f"{self.label}:users {row['uid']}"
            try:
                user = tl.read_user(bytes(row["data"] or b""))
            except tl.TLError as exc:
                self.unread[f"users not decoded ({_reason(exc)})"] += 1
                self.users[row["uid"]] = self.b.account(self.b.account_key(row["uid"]), where)
                continue
            names = [user.display or "", f"@{user.username}" if user.username else ""]
            phone = normalize_phone("+" + user.phone) if user.phone else None
            self.users[user.id] = self.b.account(self.b.account_key(user.id), where, names, phone)

    def user(self, ident: int, where: str) -> str:
        key = self.users.get(ident)
        if key is None:
            key = self.users[ident] = self.b.account(self.b.account_key(ident), where)
        return key

    def _chats(self) -> None:
        for row in self.conn.execute("SELECT uid, data FROM chats ORDER BY uid"):
            where = f"{self.label}:chats {row['uid']}"
            try:
                chat = tl.read_chat(bytes(row["data"] or b""))
            except tl.TLError as exc:
                self.unread[f"chats not decoded ({_reason(exc)})"] += 1
                continue
            kind = "chat" if chat.kind == "chat" else "channel"
            key = self.b.group_key(kind, chat.id)
            self.chats[chat.id] = key
            if kind == "channel":
                self.channels.add(chat.id)
            codes = [f"t.me/{chat.username.lower()}"] if chat.username else []
            self.b.group(
                key,
                where,
                subject=chat.title,
                created_at=from_unix(chat.date),
                invite_codes=codes,
            )
            if not chat.left:
                role = "creator" if chat.creator else "member"
                self.b.member(key, self.b.owner(where), where, role=role, joined_how="listed")
            if chat.creator:
                g = self.b.out.groups[key]
                g.creator = g.creator or self.b.owner(where)

    def _chat_full(self) -> None:
        for row in self.conn.execute("SELECT uid, info FROM chat_settings_v2 ORDER BY uid"):
            where = f"{self.label}:chat_settings_v2 {row['uid']}"
            key = self.chats.get(row["uid"])
            if key is None or not row["info"]:
                continue
            try:
                full = tl.read_chat_full(bytes(row["info"]))
            except tl.TLError as exc:
                self.unread[f"group details not decoded ({_reason(exc)})"] += 1
                continue
            if full.invite_link:
                code = telegram_invite(full.invite_link)
                if code:
                    self.b.group(key, where, invite_codes=[code])
            for p in full.participants:
                member = self.user(p.user_id, where)
                when = from_unix(p.date)
                if p.role == "creator":
                    self.b.member(key, member, where, role="creator", joined_how="created")
                    g = self.b.out.groups[key]
                    g.creator = g.creator or member
                elif p.inviter_id and p.inviter_id != p.user_id:
                    by = self.user(p.inviter_id, where)
                    self.b.member(
                        key,
                        member,
                        where,
                        role=p.role,
                        joined_at=when,
                        joined_how="added",
                        added_by=by,
                    )
                else:
                    self.b.member(
                        key, member, where, role=p.role, joined_at=when, joined_how="listed"
                    )

    def _channel_users(self) -> None:
        for row in self.conn.execute("SELECT did, uid, date FROM channel_users_v2"):
            key = self.chats.get(-row["did"]) or self.chats.get(row["did"])
            if key is None or not isinstance(row["uid"], int) or row["uid"] <= 0:
                continue
            where = f"{self.label}:channel_users_v2 {row['did']}/{row['uid']}"
            member = self.user(row["uid"], where)
            self.b.member(key, member, where, joined_at=from_unix(row["date"]), joined_how="listed")

    # -- messages ---------------------------------------------------------------------
    def _chat_of(self, did: int, peer: tl.Peer | None, where: str) -> tuple[str, str] | None:
        if did > 0:
            return self.user(did, where), "direct"
        ident = -did
        key = self.chats.get(ident)
        if key is None:
            kind = "channel" if peer is not None and peer.kind == "channel" else "chat"
            key = self.chats[ident] = self.b.group_key(kind, ident)
            self.b.group(key, where)
            if kind == "channel":
                self.channels.add(ident)
        return key, "group"

    def _messages(self) -> None:
        for row in self.conn.execute(
            "SELECT mid, uid, date, out, data FROM messages_v2 ORDER BY date, mid"
        ):
            did = row["uid"]
            where = f"{self.label}:messages_v2 {did}/{row['mid']}"
            if not isinstance(did, int) or did == 0:
                continue
            if did > 0 and did & SECRET_BIT:
                self.secret += 1
                continue
            msg: tl.TLMessage | None = None
            try:
                msg = tl.read_message(bytes(row["data"] or b""))
            except tl.TLError as exc:
                self.unread[f"messages whose content was not decoded ({_reason(exc)})"] += 1
            chat = self._chat_of(did, msg.peer if msg else None, where)
            if chat is None:
                continue
            self._message(row, did, chat, msg, where)

    def _message(
        self,
        row: sqlite3.Row,
        did: int,
        chat: tuple[str, str],
        msg: tl.TLMessage | None,
        where: str,
    ) -> None:
        chat_key, kind = chat
        from_me = bool(row["out"]) or bool(msg and msg.out)
        if from_me:
            sender: str | None = self.b.owner_key
        elif kind == "direct":
            sender = chat_key
        elif msg and msg.sender and msg.sender.kind == "user":
            sender = self.user(msg.sender.id, where)
        else:
            sender = None  # a channel post, or a message whose blob was not decoded
        media = None
        if msg and msg.media and msg.media.kind != "webpage":
            m = msg.media
            label = "photo" if m.kind == "image" else m.kind
            name = m.file_name or (f"{label} {m.id}" if m.id else None)
            media = MediaRef(file_name=name, mime=m.mime, size=m.size, kind=m.kind)
            if msg.media_error:
                self.unread[f"media references not decoded ({msg.media_error})"] += 1
        targets: list[str] = []
        system = msg.action if msg else None
        if msg and msg.action:
            targets = [self.user(u, where) for u in msg.action_users]
            if msg.action == "left" and targets and targets != [sender]:
                system = "removed"
            elif msg.action == "joined_invite":
                targets = []  # the users listed are the link's owner, not who joined
        channel = -did if kind == "group" and -did in self.channels else None
        self.b.message(
            chat=chat_key,
            kind=kind,
            sender=sender,
            when=from_unix(row["date"]) or (from_unix(msg.date) if msg else None),
            text=(msg.action_title if msg and msg.action else msg.text) if msg else None,
            from_me=from_me,
            where=where,
            key_id=f"{channel}:{row['mid']}" if channel else None,
            forwarded=bool(msg and msg.forwarded),
            media=media,
            system=system,
            targets=targets,
        )


def _reason(exc: tl.TLError) -> str:
    return str(exc)
