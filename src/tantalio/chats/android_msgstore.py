"""Android WhatsApp `msgstore.db`, current schema (2022 on): `message`, `chat`, `jid`,
`jid_map` (`@lid` → phone), `lid_display_name` (the name a `@lid` member shows, 2024 on;
docs/decisions/chats.md), `message_media.file_hash` (base64 SHA-256 of the file, kept after
the file is deleted), `group_participant_user`, `message_system` and its companion tables,
`message_forwarded`, `message_group_invite`. Names come from `wa.db` beside it.

Only the core tables are required; each optional table that is absent costs one warning
naming it and the rest is still read.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tantalio.chats import sqlite_util
from tantalio.chats.base import ParseContext, SQLiteChatParser
from tantalio.chats.dbchat import DbChatBuilder
from tantalio.chats.jid import normalize_jid
from tantalio.chats.record import ChatRecords, MediaRef
from tantalio.chats.values import (
    ANDROID_ACTIONS,
    ANDROID_MEDIA_TYPES,
    ANDROID_SYSTEM_TYPE,
    from_millis,
    kind_from_mime,
    sha256_hex,
)

OPTIONAL = {
    "message_media": ("message_row_id", "file_hash"),
    "jid_map": ("lid_row_id", "jid_row_id"),
    "group_participant_user": ("group_jid_row_id", "user_jid_row_id", "rank"),
    "message_system": ("message_row_id", "action_type"),
    "message_system_chat_participant": ("message_row_id", "user_jid_row_id"),
    "message_forwarded": ("message_row_id",),
    "message_group_invite": ("message_row_id", "group_jid_row_id", "invite_code"),
}


# Tables of newer versions only: their absence is the normal state of an older phone, so it
# costs no warning.
RECENT = {
    "lid_display_name": ("lid_row_id", "display_name"),
}


class AndroidMsgstoreParser(SQLiteChatParser):
    name = "android_msgstore"
    FILE_NAMES = ("msgstore.db", "msgstore*.db")
    SIDECARS = ("msgstore*.db-wal", "wa.db", "wa.db-wal", "com.whatsapp_preferences*.xml")
    REQUIRED_STRUCTURE = {
        "jid": ("_id", "user", "server"),
        "chat": ("_id", "jid_row_id"),
        "message": (
            "_id",
            "chat_row_id",
            "from_me",
            "key_id",
            "sender_jid_row_id",
            "timestamp",
            "message_type",
            "text_data",
        ),
    }

    def read(
        self, conn: sqlite3.Connection, have: dict[str, set[str]], path: Path, ctx: ParseContext
    ) -> ChatRecords:
        out = self.new_records(ctx)
        b = DbChatBuilder(ctx, out, wadb=path.with_name("wa.db"))
        for table, cols in OPTIONAL.items():
            absent = sqlite_util.missing({table: cols}, have)
            if absent:
                out.warn(ctx.label, f"missing {', '.join(absent)}; its details not read")
        return self.read_partly(out, ctx, _Reader(conn, have, b).run)


class _Reader:
    def __init__(self, conn: sqlite3.Connection, have: dict[str, set[str]], b: DbChatBuilder):
        self.conn, self.have, self.b = conn, have, b
        self.label = b.ctx.label

    def ok(self, table: str) -> bool:
        cols = OPTIONAL.get(table) or RECENT[table]
        return sqlite_util.has(self.have, table, *cols)

    def col(self, table: str, column: str, alias: str | None = None) -> str:
        """`column` when the table has it, else NULL (so one query serves all versions)."""
        name = alias or column
        return column if column in self.have.get(table, set()) else f"NULL AS {name}"

    def run(self) -> None:
        b, q = self.b, self.conn.execute
        raw = self.col("jid", "raw_string")
        for row in q(f"SELECT _id, user, server, {raw} FROM jid"):
            jid = normalize_jid(row["raw_string"] or f"{row['user']}@{row['server']}")
            if jid:
                b.jids[row["_id"]] = jid
        if self.ok("jid_map"):
            for row in q("SELECT lid_row_id, jid_row_id FROM jid_map"):
                lid, phone = b.jids.get(row["lid_row_id"]), b.jids.get(row["jid_row_id"])
                if lid and phone:
                    b.lid_to_phone[lid] = phone
        if self.ok("lid_display_name"):
            for row in q("SELECT lid_row_id, display_name FROM lid_display_name"):
                lid = b.jids.get(row["lid_row_id"])
                name = (row["display_name"] or "").strip()
                if lid and name:
                    b.lid_names.setdefault(lid, []).append(name)
        subject = self.col("chat", "subject")
        created = self.col("chat", "created_timestamp")
        for row in q(f"SELECT _id, jid_row_id, {subject}, {created} FROM chat"):
            b.add_chat(
                row["_id"],
                b.jids.get(row["jid_row_id"]),
                row["subject"],
                from_millis(row["created_timestamp"]),
                where=f"{self.label}:chat {row['_id']}",
            )
        if self.ok("group_participant_user"):
            pending = self.col("group_participant_user", "pending")
            for row in q(
                f"SELECT _id, group_jid_row_id, user_jid_row_id, rank, {pending} "
                "FROM group_participant_user"
            ):
                if row["pending"]:
                    continue
                b.participant(
                    b.jids.get(row["group_jid_row_id"]),
                    row["user_jid_row_id"],
                    {1: "admin", 2: "creator"}.get(row["rank"] or 0, "member"),
                    where=f"{self.label}:group_participant_user {row['_id']}",
                )
        forwarded = set()
        if self.ok("message_forwarded"):
            forwarded = {r[0] for r in q("SELECT message_row_id FROM message_forwarded")}
        media = self._media()
        actions, targets = self._system()
        invites = self._invites()
        for row in q(
            "SELECT _id, chat_row_id, from_me, key_id, sender_jid_row_id, timestamp,"
            " message_type, text_data FROM message ORDER BY _id"
        ):
            mid = row["_id"]
            where = f"{self.label}:message {mid}"
            is_system = row["message_type"] == ANDROID_SYSTEM_TYPE or mid in actions
            action = ANDROID_ACTIONS.get(actions.get(mid, -1), "other") if is_system else None
            ref = media.get(mid)
            if ref is not None and ref.kind is None:
                ref.kind = ANDROID_MEDIA_TYPES.get(row["message_type"])
            b.message(
                chat_id=row["chat_row_id"],
                from_me=bool(row["from_me"]),
                sender_row=row["sender_jid_row_id"],
                when=from_millis(row["timestamp"]),
                text=row["text_data"],
                key_id=row["key_id"],
                forwarded=mid in forwarded,
                media=ref,
                system=action,
                target_rows=targets.get(mid, []),
                where=where,
            )
            if mid in invites:
                group_row, code, name = invites[mid]
                b.invite(b.jids.get(group_row), code, name, row["chat_row_id"], where)

    def _media(self) -> dict[int, MediaRef]:
        if not self.ok("message_media"):
            return {}
        cols = ", ".join(
            self.col("message_media", c)
            for c in ("file_path", "mime_type", "file_size", "file_length", "media_name")
        )
        out: dict[int, MediaRef] = {}
        for row in self.conn.execute(
            f"SELECT message_row_id, file_hash, {cols} FROM message_media"
        ):
            digest = sha256_hex(row["file_hash"])
            if row["file_hash"] and digest is None:
                self.b.out.warn(
                    f"{self.label}:message_media {row['message_row_id']}",
                    "file_hash is not a base64 SHA-256",
                    "file_hash",
                )
            out[row["message_row_id"]] = MediaRef(
                sha256=digest,
                file_name=row["file_path"] or row["media_name"],
                mime=row["mime_type"],
                size=row["file_size"] or row["file_length"],
                kind=kind_from_mime(row["mime_type"]),
            )
        return out

    def _system(self) -> tuple[dict[int, int], dict[int, list[int]]]:
        actions: dict[int, int] = {}
        targets: dict[int, list[int]] = {}
        if self.ok("message_system"):
            for row in self.conn.execute("SELECT message_row_id, action_type FROM message_system"):
                actions[row[0]] = row[1]
        if self.ok("message_system_chat_participant"):
            for row in self.conn.execute(
                "SELECT message_row_id, user_jid_row_id FROM message_system_chat_participant"
            ):
                targets.setdefault(row[0], []).append(row[1])
        return actions, targets

    def _invites(self) -> dict[int, tuple[int, str, str | None]]:
        if not self.ok("message_group_invite"):
            return {}
        name = self.col("message_group_invite", "group_name")
        return {
            row["message_row_id"]: (row["group_jid_row_id"], row["invite_code"], row["group_name"])
            for row in self.conn.execute(
                f"SELECT message_row_id, group_jid_row_id, invite_code, {name} "
                "FROM message_group_invite"
            )
        }
