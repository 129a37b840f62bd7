"""Signal for Android, `signal.db` (issue 15): recipients, groups, threads, messages and
attachments with their SHA-256, from the SQLCipher database opened with the examiner's key
(sqlcipher_util.py), or from a database another tool already decrypted (plain SQLite).

Tables read, with the column names of current versions and, where they were renamed, the
older ones: `recipient` (aci|uuid, e164|phone, group_id, profile/system names, username),
`thread` (recipient_id|thread_recipient_id), `message` (date_sent|date, from_recipient_id|
recipient_id, type, body), `groups` (group_id, title, members) and `group_membership`,
`attachment`|`part` (message_id|mid, content_type|ct, file_name, data_size,
data_hash_end|data_hash: base64 SHA-256 of the file, kept after the file is deleted).

`message.type` is Signal's bit mask: the low five bits are the box (20 inbox; 21-26 outbox,
sending, sent, failed, fallbacks: outgoing), 0x10000 a group update, 0x20000 a member
quitting. A group update's details are a protobuf in `body`, not decoded: it becomes a
system event "other". `date_sent` is the sender's timestamp, the same on every phone that
holds the message, so it is the message's key across phones.
"""

from __future__ import annotations

import sqlite3
import tempfile
from datetime import datetime
from pathlib import Path

from tantalio.chats import sqlite_util
from tantalio.chats.appchat import AppChatBuilder
from tantalio.chats.base import ParseContext, SQLiteChatParser
from tantalio.chats.jid import normalize_phone
from tantalio.chats.record import LOCAL_PREFIX, ChatRecords, MediaRef
from tantalio.chats.sqlcipher_util import CipherError, decrypt_to, sqlcipher_available
from tantalio.chats.values import from_millis, kind_from_mime, sha256_hex

BOX_MASK = 0x1F
OUTGOING_BOXES = {2, 11, 21, 22, 23, 24, 25, 26}
GROUP_UPDATE_BIT, GROUP_QUIT_BIT = 0x10000, 0x20000


class SignalAndroidParser(SQLiteChatParser):
    name = "signal_android"
    FILE_NAMES = ("signal.db",)
    SIDECARS = ("signal.db-wal",)
    ENCRYPTED = True
    REQUIRED_STRUCTURE = {
        "recipient": ("_id",),
        "thread": ("_id",),
        "message": ("_id", "thread_id", "type", "body"),
    }

    def parse(self, path: Path, ctx: ParseContext) -> ChatRecords:
        if sqlite_util.is_sqlite(path):  # decrypted already (by another tool)
            return super().parse(path, ctx)
        out = ChatRecords()
        keys = ctx.keys.for_file(ctx.label) if ctx.keys else []
        if not keys:
            out.warn(
                ctx.label,
                "encrypted Signal database not read: give its key (the 64-hex database "
                "secret) with --key FILE|HEX (`tantalio ingest`: --chat-key)",
            )
            return out
        if not sqlcipher_available():
            out.warn(ctx.label, "encrypted Signal database not read: sqlcipher3 is not installed")
            return out
        with tempfile.TemporaryDirectory(prefix="tantalio-decrypted-") as tmp:
            plain = Path(tmp) / "signal.db"
            try:
                key, profile = decrypt_to(path, keys, plain)
            except (CipherError, OSError) as exc:
                out.warn(ctx.label, str(exc))
                return out
            if ctx.keys is not None:
                ctx.keys.record_use(ctx.label, key)
            parsed = super().parse(plain, ctx)
            parsed.sources = [
                f"{s} decrypted ({profile}), key {key.fingerprint}" for s in parsed.sources
            ]
            return parsed

    def read(
        self, conn: sqlite3.Connection, have: dict[str, set[str]], path: Path, ctx: ParseContext
    ) -> ChatRecords:
        out = self.new_records(ctx)
        return self.read_partly(
            out, ctx, _Reader(conn, have, AppChatBuilder("signal", ctx, out)).run
        )


class _Reader:
    def __init__(self, conn: sqlite3.Connection, have: dict[str, set[str]], b: AppChatBuilder):
        self.conn, self.have, self.b = conn, have, b
        self.label = b.ctx.label
        self.recipients: dict[int, str] = {}  # recipient id → account key
        self.groups: dict[int, str] = {}  # recipient id → group key
        self.group_ids: dict[str, str] = {}  # groups.group_id → group key
        self.threads: dict[int, tuple[str, str]] = {}  # thread id → (chat key, kind)
        self.owner_row: int | None = None  # the owner's recipient id (sender of outgoing)

    def col(self, table: str, *names: str) -> str:
        """The first of `names` the table has, as `names[0]`; else NULL (older versions)."""
        cols = self.have.get(table, set())
        for name in names:
            if name in cols:
                return f"{name} AS {names[0]}"
        return f"NULL AS {names[0]}"

    def run(self) -> None:
        self._owner()
        self._recipients()
        if "groups" in self.have:
            self._groups()
        self._threads()
        self._messages()

    def _owner(self) -> None:
        sender = self.col("message", "from_recipient_id")
        if sender.startswith("NULL"):
            return
        box = "(type & 31) IN (" + ", ".join(str(b) for b in sorted(OUTGOING_BOXES)) + ")"
        row = self.conn.execute(
            f"SELECT from_recipient_id FROM message WHERE {box} LIMIT 1"
        ).fetchone()
        self.owner_row = row[0] if row is not None else None

    def _recipients(self) -> None:
        cols = ", ".join(
            [
                self.col("recipient", "aci", "uuid"),
                self.col("recipient", "e164", "phone"),
                self.col("recipient", "group_id"),
                self.col("recipient", "profile_joined_name", "signal_profile_name"),
                self.col("recipient", "system_joined_name", "system_display_name"),
                self.col("recipient", "username"),
            ]
        )
        for row in self.conn.execute(f"SELECT _id, {cols} FROM recipient ORDER BY _id"):
            where = f"{self.label}:recipient {row['_id']}"
            if row["group_id"]:
                key = self.b.group_key("group", _group_ident(row["group_id"]))
                self.groups[row["_id"]] = key
                self.group_ids[row["group_id"]] = key
                continue
            phone = normalize_phone(row["e164"]) if row["e164"] else None
            if row["aci"]:
                key = self.b.account_key(str(row["aci"]).lower())
            elif phone:
                key = self.b.account_key(phone)
            else:
                key = f"{LOCAL_PREFIX}signal recipient {row['_id']}"
            if row["_id"] == self.owner_row:
                self.b.set_owner(key, where)
            names = [row["system_joined_name"] or "", row["profile_joined_name"] or ""]
            names += [f"@{row['username']}"] if row["username"] else []
            self.recipients[row["_id"]] = self.b.account(key, where, names, phone)

    def _groups(self) -> None:
        members = self.col("groups", "members")
        active = self.col("groups", "active")
        stamp = self.col("groups", "timestamp")
        rows = self.conn.execute(
            f"SELECT _id, group_id, {self.col('groups', 'title')}, {members}, {active}, {stamp} "
            "FROM groups"
        ).fetchall()
        listed: dict[str, list[int]] = {}
        if sqlite_util.has(self.have, "group_membership", "group_id", "recipient_id"):
            for row in self.conn.execute("SELECT group_id, recipient_id FROM group_membership"):
                listed.setdefault(row[0], []).append(row[1])
        for row in rows:
            where = f"{self.label}:groups {row['_id']}"
            key = self.group_ids.get(row["group_id"]) or self.b.group_key(
                "group", _group_ident(row["group_id"])
            )
            self.group_ids[row["group_id"]] = key
            self.b.group(key, where, subject=row["title"], created_at=from_millis(row["timestamp"]))
            ids = listed.get(row["group_id"], [])
            ids += [int(x) for x in str(row["members"] or "").split(",") if x.strip().isdigit()]
            for rid in dict.fromkeys(ids):
                acc = self.recipients.get(rid)
                if acc:
                    self.b.member(key, acc, where, joined_how="listed")
            if row["active"] == 0:  # the owner is no longer a member
                self.b.member(key, self.b.owner(where), where, left_how="left")

    def _threads(self) -> None:
        rid = self.col("thread", "recipient_id", "thread_recipient_id")
        for row in self.conn.execute(f"SELECT _id, {rid} FROM thread"):
            r = row["recipient_id"]
            if r in self.groups:
                key = self.groups[r]
                self.b.group(key, f"{self.label}:thread {row['_id']}")
                self.threads[row["_id"]] = (key, "group")
            elif r in self.recipients:
                self.threads[row["_id"]] = (self.recipients[r], "direct")

    def _attachments(self) -> dict[int, list[MediaRef]]:
        table = (
            "attachment" if "attachment" in self.have else "part" if "part" in self.have else None
        )
        if table is None:
            self.b.out.warn(self.label, "missing table attachment; attachments not read")
            return {}
        cols = ", ".join(
            [
                self.col(table, "message_id", "mid"),
                self.col(table, "content_type", "ct"),
                self.col(table, "file_name"),
                self.col(table, "data_size"),
                self.col(table, "data_hash_end", "data_hash"),
            ]
        )
        out: dict[int, list[MediaRef]] = {}
        for row in self.conn.execute(f"SELECT _id, {cols} FROM {table} ORDER BY _id"):
            digest = sha256_hex(row["data_hash_end"])
            if row["data_hash_end"] and digest is None:
                self.b.out.warn(
                    f"{self.label}:{table} {row['_id']}",
                    "data hash is not a SHA-256",
                    "data_hash_end",
                )
            out.setdefault(row["message_id"], []).append(
                MediaRef(
                    sha256=digest,
                    file_name=row["file_name"],
                    mime=row["content_type"],
                    size=row["data_size"],
                    kind=kind_from_mime(row["content_type"]),
                )
            )
        return out

    def _messages(self) -> None:
        media = self._attachments()
        cols = ", ".join(
            [
                self.col("message", "date_sent", "date"),
                self.col("message", "from_recipient_id", "recipient_id", "address"),
            ]
        )
        unknown = 0
        for row in self.conn.execute(
            f"SELECT _id, thread_id, type, body, {cols} FROM message ORDER BY date_sent, _id"
        ):
            where = f"{self.label}:message {row['_id']}"
            chat = self.threads.get(row["thread_id"])
            if chat is None:
                unknown += 1
                continue
            chat_key, kind = chat
            mtype = int(row["type"] or 0)
            out = mtype & BOX_MASK in OUTGOING_BOXES
            if out:
                sender: str | None = self.b.owner_key
            elif kind == "direct":
                sender = chat_key
            else:
                sender = self.recipients.get(row["from_recipient_id"])
            system = None
            if mtype & GROUP_QUIT_BIT:
                system = "left"
            elif mtype & GROUP_UPDATE_BIT:
                system = "other"
            when: datetime | None = from_millis(row["date_sent"])
            refs = media.get(row["_id"], [])
            key_id = f"{row['date_sent']}" if row["date_sent"] else None
            for n, ref in enumerate(refs or [None]):
                self.b.message(
                    chat=chat_key,
                    kind=kind,
                    sender=sender,
                    when=when,
                    text=None if system or n else row["body"],
                    from_me=out,
                    where=where if n == 0 else f"{where} attachment {n + 1}",
                    key_id=key_id if n == 0 else f"{key_id}/{n + 1}" if key_id else None,
                    media=ref,
                    system=system if n == 0 else None,
                )
        if unknown:
            self.b.out.warn(self.label, f"{unknown} messages in threads the database lacks skipped")


def _group_ident(group_id: str) -> str:
    """`__signal_group__v2__!<hex>` → `<hex>` (v1: `__textsecure_group__!<hex>` likewise)."""
    return str(group_id).rsplit("!", 1)[-1].lower()
