"""iOS WhatsApp `ChatStorage.sqlite` (Core Data): `ZWACHATSESSION` (chats), `ZWAMESSAGE`
(Cocoa timestamps: seconds since 2001-01-01 UTC), `ZWAMEDIAITEM` (the SHA-256 of the media,
base64, in `ZVCARDNAME`), `ZWAGROUPMEMBER` (the sender of a group message, admin and active
flags), `ZWAGROUPINFO` (creator), `ZWAPROFILEPUSHNAME` (names accounts chose).

Group events (`ZMESSAGETYPE = 6`) carry their kind in `ZGROUPEVENTTYPE` and the member they
concern in `ZGROUPMEMBER`; the codes in IOS_GROUP_EVENTS are recorded in
docs/decisions/chats.md.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tantalio.chats import sqlite_util
from tantalio.chats.base import ParseContext, SQLiteChatParser
from tantalio.chats.dbchat import DbChatBuilder
from tantalio.chats.record import ChatRecords, MediaRef
from tantalio.chats.values import from_cocoa, kind_from_mime, sha256_hex

IOS_SYSTEM_TYPE = 6
IOS_GROUP_EVENTS = {
    1: "subject_changed",
    2: "added",
    3: "left",
    4: "icon_changed",
    5: "removed",
    6: "admin_granted",
    11: "created",
    20: "joined_invite",
}
IOS_MEDIA_TYPES = {1: "image", 2: "video", 3: "audio", 8: "document", 11: "video", 15: "sticker"}
SESSION_KINDS = {0: "direct", 1: "group", 2: "broadcast", 3: "status"}


class IOSChatStorageParser(SQLiteChatParser):
    name = "ios_chatstorage"
    FILE_NAMES = ("ChatStorage.sqlite",)
    SIDECARS = ("ChatStorage.sqlite-wal",)
    REQUIRED_STRUCTURE = {
        "ZWACHATSESSION": ("Z_PK", "ZCONTACTJID"),
        "ZWAMESSAGE": (
            "Z_PK",
            "ZCHATSESSION",
            "ZISFROMME",
            "ZMESSAGEDATE",
            "ZTEXT",
            "ZMESSAGETYPE",
        ),
    }
    OPTIONAL = {
        "ZWAMEDIAITEM": ("Z_PK", "ZVCARDNAME"),
        "ZWAGROUPMEMBER": ("Z_PK", "ZMEMBERJID", "ZCHATSESSION"),
    }

    def read(
        self, conn: sqlite3.Connection, have: dict[str, set[str]], path: Path, ctx: ParseContext
    ) -> ChatRecords:
        out = self.new_records(ctx)
        b = DbChatBuilder(ctx, out)
        for gap in sqlite_util.missing(self.OPTIONAL, have):
            out.warn(ctx.label, f"missing {gap}; its details not read")
        return self.read_partly(out, ctx, _Reader(conn, have, b).run)


class _Reader:
    def __init__(self, conn: sqlite3.Connection, have: dict[str, set[str]], b: DbChatBuilder):
        self.conn, self.have, self.b = conn, have, b
        self.label = b.ctx.label

    def cols(self, table: str, *names: str) -> str:
        present = self.have.get(table.lower(), set())
        return ", ".join(n if n.lower() in present else f"NULL AS {n}" for n in names)

    def run(self) -> None:
        b, q = self.b, self.conn.execute
        names: dict[str, list[str]] = {}
        if sqlite_util.has(self.have, "ZWAPROFILEPUSHNAME", "ZJID", "ZPUSHNAME"):
            for row in q("SELECT ZJID, ZPUSHNAME FROM ZWAPROFILEPUSHNAME"):
                if row["ZJID"] and row["ZPUSHNAME"]:
                    names.setdefault(row["ZJID"].lower(), []).append(row["ZPUSHNAME"])
        b.contacts.update(names)
        creators: dict[int, tuple[str | None, object]] = {}
        if sqlite_util.has(self.have, "ZWAGROUPINFO", "ZCHATSESSION"):
            for row in q(
                "SELECT ZCHATSESSION, "
                + self.cols("ZWAGROUPINFO", "ZCREATORJID", "ZCREATIONDATE")
                + " FROM ZWAGROUPINFO"
            ):
                creators[row["ZCHATSESSION"]] = (row["ZCREATORJID"], row["ZCREATIONDATE"])
        session_cols = self.cols("ZWACHATSESSION", "ZPARTNERNAME", "ZSESSIONTYPE")
        for row in q(f"SELECT Z_PK, ZCONTACTJID, {session_cols} FROM ZWACHATSESSION"):
            where = f"{self.label}:ZWACHATSESSION {row['Z_PK']}"
            creator, created = creators.get(row["Z_PK"], (None, None))
            b.add_chat(
                row["Z_PK"],
                b.jid_of(row["ZCONTACTJID"]),
                row["ZPARTNERNAME"],
                from_cocoa(created),
                where,
            )
            chat = b.chats.get(row["Z_PK"])
            if creator and chat and chat[1] == "group":
                key = b.account(creator, where)
                if key:
                    b.participant(chat[0], creator, "creator", where)
        members: dict[int, str] = {}
        if sqlite_util.has(self.have, "ZWAGROUPMEMBER", "Z_PK", "ZMEMBERJID", "ZCHATSESSION"):
            mcols = self.cols("ZWAGROUPMEMBER", "ZCONTACTNAME", "ZISADMIN", "ZISACTIVE")
            for row in q(f"SELECT Z_PK, ZMEMBERJID, ZCHATSESSION, {mcols} FROM ZWAGROUPMEMBER"):
                where = f"{self.label}:ZWAGROUPMEMBER {row['Z_PK']}"
                key = b.account(
                    row["ZMEMBERJID"], where, [row["ZCONTACTNAME"]] if row["ZCONTACTNAME"] else None
                )
                chat = b.chats.get(row["ZCHATSESSION"])
                if key is None:
                    continue
                members[row["Z_PK"]] = key
                if chat and chat[1] == "group" and row["ZISACTIVE"] != 0:
                    b.participant(
                        chat[0], row["ZMEMBERJID"], "admin" if row["ZISADMIN"] else "member", where
                    )
        media = self._media()
        mcols = self.cols(
            "ZWAMESSAGE", "ZSTANZAID", "ZGROUPMEMBER", "ZMEDIAITEM", "ZGROUPEVENTTYPE", "ZFROMJID"
        )
        for row in q(
            "SELECT Z_PK, ZCHATSESSION, ZISFROMME, ZMESSAGEDATE, ZTEXT, ZMESSAGETYPE, "
            f"{mcols} FROM ZWAMESSAGE ORDER BY Z_PK"
        ):
            where = f"{self.label}:ZWAMESSAGE {row['Z_PK']}"
            member = members.get(row["ZGROUPMEMBER"]) if row["ZGROUPMEMBER"] else None
            system = None
            targets: list[str | int | None] = []
            sender: str | None = member
            if row["ZMESSAGETYPE"] == IOS_SYSTEM_TYPE:
                system = IOS_GROUP_EVENTS.get(row["ZGROUPEVENTTYPE"] or -1, "other")
                if system not in ("subject_changed", "icon_changed", "created") and member:
                    targets, sender = [member], None  # the event concerns that member
            ref = media.get(row["ZMEDIAITEM"]) if row["ZMEDIAITEM"] else None
            if ref is not None and ref.kind is None:
                ref.kind = IOS_MEDIA_TYPES.get(row["ZMESSAGETYPE"])
            b.message(
                chat_id=row["ZCHATSESSION"],
                from_me=bool(row["ZISFROMME"]),
                sender_row=sender,
                when=from_cocoa(row["ZMESSAGEDATE"]),
                text=row["ZTEXT"],
                key_id=row["ZSTANZAID"],
                forwarded=False,  # where iOS keeps the forwarded flag is not established
                media=ref,
                system=system,
                target_rows=targets,
                where=where,
            )

    def _media(self) -> dict[int, MediaRef]:
        if not sqlite_util.has(self.have, "ZWAMEDIAITEM", "Z_PK", "ZVCARDNAME"):
            return {}
        cols = self.cols("ZWAMEDIAITEM", "ZMEDIALOCALPATH", "ZFILESIZE", "ZVCARDSTRING")
        out: dict[int, MediaRef] = {}
        for row in self.conn.execute(f"SELECT Z_PK, ZVCARDNAME, {cols} FROM ZWAMEDIAITEM"):
            digest = sha256_hex(row["ZVCARDNAME"])
            mime = (
                row["ZVCARDSTRING"]
                if row["ZVCARDSTRING"] and "/" in str(row["ZVCARDSTRING"])
                else None
            )
            out[row["Z_PK"]] = MediaRef(
                sha256=digest,
                file_name=row["ZMEDIALOCALPATH"],
                mime=mime,
                size=row["ZFILESIZE"],
                kind=kind_from_mime(mime),
            )
        return out
