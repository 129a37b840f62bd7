"""Android WhatsApp `msgstore.db`, legacy schema (before 2022): one `messages` table keyed by
`key_remote_jid`, the sender of a group message in `remote_resource`, the base64 SHA-256 of
the media in `media_hash`, system events as `status = 6` with the action code in
`media_size`; `chat_list` (subjects) and `group_participants` (`admin`: 1 admin, 2 creator).
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

from tantalio.chats import sqlite_util
from tantalio.chats.base import ParseContext, SQLiteChatParser
from tantalio.chats.dbchat import DbChatBuilder
from tantalio.chats.record import ChatRecords, MediaRef
from tantalio.chats.values import (
    ANDROID_ACTIONS,
    ANDROID_MEDIA_TYPES,
    from_millis,
    kind_from_mime,
    sha256_hex,
)

LEGACY_SYSTEM_STATUS = 6
_JID_IN_TEXT = re.compile(r"[\w.:-]+@(?:s\.whatsapp\.net|c\.us|lid)")
OPTIONAL_COLUMNS = ("remote_resource", "media_hash", "media_size", "media_mime_type")


class AndroidLegacyMsgstoreParser(SQLiteChatParser):
    name = "android_msgstore_legacy"
    FILE_NAMES = ("msgstore.db", "msgstore*.db")
    SIDECARS = ("msgstore*.db-wal", "wa.db", "wa.db-wal", "com.whatsapp_preferences*.xml")
    REQUIRED_STRUCTURE = {
        "messages": (
            "_id",
            "key_remote_jid",
            "key_from_me",
            "key_id",
            "timestamp",
            "data",
            "status",
            "media_wa_type",
        ),
    }

    def read(
        self, conn: sqlite3.Connection, have: dict[str, set[str]], path: Path, ctx: ParseContext
    ) -> ChatRecords:
        out = self.new_records(ctx)
        b = DbChatBuilder(ctx, out, wadb=path.with_name("wa.db"))
        absent = [c for c in OPTIONAL_COLUMNS if c not in have["messages"]]
        if absent:
            out.warn(ctx.label, f"missing column(s) messages.{', messages.'.join(absent)}")
        return self.read_partly(out, ctx, lambda: self._read(conn, have, b))

    def _read(self, conn: sqlite3.Connection, have: dict[str, set[str]], b: DbChatBuilder) -> None:
        label = b.ctx.label
        chat_names: dict[str, tuple[str | None, object]] = {}
        if sqlite_util.has(have, "chat_list", "key_remote_jid"):
            cols = [c for c in ("subject", "creation") if c in have["chat_list"]]
            select = ", ".join(["key_remote_jid", *cols])
            for row in conn.execute(f"SELECT {select} FROM chat_list"):
                keys = row.keys()
                chat_names[row["key_remote_jid"]] = (
                    row["subject"] if "subject" in keys else None,
                    row["creation"] if "creation" in keys else None,
                )
        else:
            b.out.warn(label, "missing table chat_list; group subjects not read")
        remote = [r[0] for r in conn.execute("SELECT DISTINCT key_remote_jid FROM messages")]
        for jid in dict.fromkeys([*chat_names, *remote]):
            if not jid or jid == "-1":
                continue
            subject, created = chat_names.get(jid, (None, None))
            b.add_chat(jid, b.jid_of(jid), subject, from_millis(created), f"{label}:chat {jid}")
        if sqlite_util.has(have, "group_participants", "gjid", "jid"):
            admin = "admin" if "admin" in have["group_participants"] else "0 AS admin"
            for row in conn.execute(
                f"SELECT _rowid_ AS rid, gjid, jid, {admin} FROM group_participants"
            ):
                role = {1: "admin", 2: "creator"}.get(row["admin"] or 0, "member")
                where = f"{label}:group_participants {row['rid']}"
                b.participant(b.jid_of(row["gjid"]), row["jid"], role, where)
        else:
            b.out.warn(label, "missing table group_participants; memberships from messages only")
        message_cols = have["messages"]

        def opt(c: str) -> str:
            return c if c in message_cols else f"NULL AS {c}"

        select = ", ".join(
            [
                "_id",
                "key_remote_jid",
                "key_from_me",
                "key_id",
                "timestamp",
                "data",
                "status",
                "media_wa_type",
                *(
                    opt(c)
                    for c in (
                        "remote_resource",
                        "media_hash",
                        "media_size",
                        "media_mime_type",
                        "media_name",
                        "media_caption",
                        "forwarded",
                    )
                ),
            ]
        )
        for row in conn.execute(f"SELECT {select} FROM messages ORDER BY _id"):
            where = f"{label}:messages {row['_id']}"
            if row["key_remote_jid"] == "-1":  # the table's sentinel first row
                continue
            system = None
            targets: list[str | int | None] = []
            text = row["data"]
            wa_type = _int(row["media_wa_type"])  # TEXT in the legacy schema ("0", "1")
            if _int(row["status"]) == LEGACY_SYSTEM_STATUS and not wa_type:
                system = ANDROID_ACTIONS.get(_int(row["media_size"]), "other")
                targets = (
                    list(_JID_IN_TEXT.findall(text or "")) if system != "subject_changed" else []
                )
            media = None
            if row["media_hash"] or (wa_type and system is None):
                digest = sha256_hex(row["media_hash"])
                if row["media_hash"] and digest is None:
                    b.out.warn(where, "media_hash is not a base64 SHA-256", "media_hash")
                media = MediaRef(
                    sha256=digest,
                    file_name=row["media_name"],
                    mime=row["media_mime_type"],
                    size=row["media_size"],
                    kind=kind_from_mime(row["media_mime_type"]) or ANDROID_MEDIA_TYPES.get(wa_type),
                )
                text = row["media_caption"] or (text if text else None)
            b.message(
                chat_id=row["key_remote_jid"],
                from_me=bool(row["key_from_me"]),
                sender_row=row["remote_resource"] or None,
                when=from_millis(row["timestamp"]),
                text=text,
                key_id=row["key_id"],
                forwarded=bool(row["forwarded"]),
                media=media,
                system=system,
                target_rows=list(targets),
                where=where,
            )


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0
