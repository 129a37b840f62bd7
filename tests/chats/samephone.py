"""A seized phone holding both the WhatsApp database and "Export chat" text files of the same
group, built in a test's temporary folder (harmless text only).

The database keeps UTC; the export writes the phone's wall clock (UTC+2 unless told), at
minute resolution, naming people as the phone shows them: Alice by her contact name (in
wa.db), Bob by his number, Dave by a contact name wa.db does not know, the owner by the name
she chose (`push_name`). One message was deleted from the database after the export was made
(only in the export); one was written after the export (only in the database).
"""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

GROUP = "120363000000000900@g.us"
SUBJECT = "Holiday Club"
OWNER = "12025550100@s.whatsapp.net"
ALICE = "447700900001@s.whatsapp.net"
BOB = "447700900002@s.whatsapp.net"
DAVE = "447700900004@s.whatsapp.net"
BOB_LABEL = "+44 7700 900002"
PHOTO = b"stand-in bytes of a holiday photo"
PHOTO_SHA256 = hashlib.sha256(PHOTO).hexdigest()
EXPORT_NAME = f"WhatsApp Chat with {SUBJECT}.txt"
OTHER_EXPORT = "WhatsApp Chat with Book Club.txt"
EXPORT_ONLY_TEXT = "Deleted later: see the holiday album"
DB_ONLY_TEXT = "Written after the export"

_DDL = """
CREATE TABLE jid (_id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, server TEXT NOT NULL,
  agent INTEGER, device INTEGER, type INTEGER, raw_string TEXT);
CREATE TABLE chat (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid_row_id INTEGER UNIQUE,
  subject TEXT, created_timestamp INTEGER);
CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT, chat_row_id INTEGER NOT NULL,
  from_me INTEGER NOT NULL, key_id TEXT NOT NULL, sender_jid_row_id INTEGER,
  timestamp INTEGER, message_type INTEGER, text_data TEXT);
CREATE TABLE message_media (message_row_id INTEGER PRIMARY KEY, chat_row_id INTEGER,
  file_path TEXT, file_size INTEGER, mime_type TEXT, file_length INTEGER, media_name TEXT,
  file_hash TEXT);
CREATE TABLE jid_map (lid_row_id INTEGER PRIMARY KEY NOT NULL, jid_row_id INTEGER NOT NULL);
CREATE TABLE group_participant_user (_id INTEGER PRIMARY KEY AUTOINCREMENT,
  group_jid_row_id INTEGER NOT NULL, user_jid_row_id INTEGER NOT NULL, rank INTEGER NOT NULL,
  pending INTEGER NOT NULL);
CREATE TABLE message_system (message_row_id INTEGER PRIMARY KEY, action_type INTEGER NOT NULL);
CREATE TABLE message_system_chat_participant (message_row_id INTEGER, user_jid_row_id INTEGER);
CREATE TABLE message_forwarded (message_row_id INTEGER PRIMARY KEY);
CREATE TABLE message_group_invite (message_row_id INTEGER PRIMARY KEY,
  group_jid_row_id INTEGER NOT NULL, invite_code TEXT NOT NULL, group_name TEXT);
"""


@dataclass(frozen=True, slots=True)
class Event:
    """One message: `sender` a JID (None: the owner), `utc` its time in the database."""

    utc: datetime
    sender: str | None
    text: str | None = None
    photo: bool = False
    added: str | None = None  # a system event: sender added this JID
    in_db: bool = True
    in_export: bool = True


def _t(day: int, hh: int, mm: int, ss: int = 0) -> datetime:
    return datetime(2021, 3, day, hh, mm, ss, tzinfo=UTC)


EVENTS = (
    Event(_t(1, 7, 50, 5), ALICE, added=DAVE),
    Event(_t(1, 8, 0, 10), ALICE, "Holiday photos from the beach"),
    Event(_t(1, 8, 5, 30), BOB, "Lovely,\nthanks!"),
    Event(_t(1, 8, 10, 59), None, "See you on Saturday"),
    Event(_t(1, 9, 0, 0), ALICE, "the pier", photo=True),
    Event(_t(1, 9, 30, 1), DAVE, "Where was this taken?"),
    Event(_t(1, 9, 31, 2), DAVE, "Looks sunny"),
    Event(_t(1, 10, 0, 3), ALICE, "ok"),
    Event(_t(1, 10, 0, 45), BOB, "ok"),
    Event(_t(1, 11, 15, 0), BOB, EXPORT_ONLY_TEXT, in_db=False),
    Event(_t(2, 12, 0, 0), ALICE, DB_ONLY_TEXT, in_export=False),
)
EXPORT_ONLY = sum(1 for e in EVENTS if not e.in_db)


def write_phone(
    root: Path,
    *,
    offset: timedelta = timedelta(hours=2),
    export: bool = True,
    other_chat: bool = True,
    events: tuple[Event, ...] = EVENTS,
) -> Path:
    """The phone under `root`: databases, preferences, and the text export(s)."""
    data = root / "data" / "data" / "com.whatsapp"
    _write_msgstore(data / "databases", events)
    prefs = data / "shared_prefs"
    prefs.mkdir(parents=True, exist_ok=True)
    (prefs / "com.whatsapp_preferences_light.xml").write_text(
        "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n"
        '    <string name="cc">1</string>\n    <string name="ph">2025550100</string>\n'
        '    <string name="push_name">Olivia</string>\n</map>\n'
    )
    exports = root / "sdcard" / "WhatsApp" / "Exports"
    exports.mkdir(parents=True, exist_ok=True)
    if export:
        (exports / EXPORT_NAME).write_text(_export_text(events, offset), encoding="utf-8")
        (exports / "IMG-20210301-WA0001.jpg").write_bytes(PHOTO)
    if other_chat:
        (exports / OTHER_EXPORT).write_text(
            "05/03/2021, 18:00 - Carla: Reading list for the holidays\n"
            "05/03/2021, 18:02 - Erik: Thanks, holiday reading sorted\n"
            "05/03/2021, 18:03 - Mira: See you at the library\n",
            encoding="utf-8",
        )
    return root


def _export_text(events: tuple[Event, ...], offset: timedelta) -> str:
    labels = {ALICE: "Alice", BOB: BOB_LABEL, DAVE: "Dave", None: "Olivia"}
    first = min(e.utc for e in events) + offset
    lines = [
        f"{first:%d/%m/%Y, %H:%M} - Messages and calls are end-to-end encrypted. No one outside "
        "of this chat, not even WhatsApp, can read or listen to them."
    ]
    for e in events:
        if not e.in_export:
            continue
        stamp = f"{(e.utc + offset).replace(tzinfo=None):%d/%m/%Y, %H:%M}"
        if e.added:
            lines.append(f"{stamp} - {labels[e.sender]} added {labels[e.added]}")
        elif e.photo:
            lines.append(f"{stamp} - {labels[e.sender]}: IMG-20210301-WA0001.jpg (file attached)")
            lines.append(e.text or "")
        else:
            lines.append(f"{stamp} - {labels[e.sender]}: {e.text}")
    return "\n".join(lines) + "\n"


def _write_msgstore(dest: Path, events: tuple[Event, ...]) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(dest / "msgstore.db")
    conn.executescript(_DDL)
    rows: dict[str, int] = {}

    def jid(value: str) -> int:
        if value not in rows:
            user, server = value.split("@")
            cur = conn.execute(
                "INSERT INTO jid (user, server, raw_string) VALUES (?, ?, ?)", (user, server, value)
            )
            rows[value] = int(cur.lastrowid or 0)
        return rows[value]

    chat = conn.execute(
        "INSERT INTO chat (jid_row_id, subject, created_timestamp) VALUES (?, ?, ?)",
        (jid(GROUP), SUBJECT, _ms(_t(1, 7, 0))),
    ).lastrowid
    for member, rank in ((ALICE, 2), (BOB, 0), (DAVE, 0)):
        conn.execute(
            "INSERT INTO group_participant_user (group_jid_row_id, user_jid_row_id, rank, pending)"
            " VALUES (?, ?, ?, 0)",
            (jid(GROUP), jid(member), rank),
        )
    for n, e in enumerate(events, start=1):
        if not e.in_db:
            continue
        mtype = 7 if e.added else 1 if e.photo else 0
        mid = conn.execute(
            "INSERT INTO message (chat_row_id, from_me, key_id, sender_jid_row_id, timestamp,"
            " message_type, text_data) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                chat,
                int(e.sender is None),
                f"3EB0{n:016X}",
                jid(e.sender) if e.sender else 0,
                _ms(e.utc),
                mtype,
                None if e.added else e.text,
            ),
        ).lastrowid
        if e.added:
            conn.execute("INSERT INTO message_system VALUES (?, 12)", (mid,))
            conn.execute(
                "INSERT INTO message_system_chat_participant VALUES (?, ?)", (mid, jid(e.added))
            )
        if e.photo:
            conn.execute(
                "INSERT INTO message_media (message_row_id, chat_row_id, file_path, file_size,"
                " mime_type, file_length, file_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    mid,
                    chat,
                    "Media/WhatsApp Images/IMG-20210301-WA0001.jpg",
                    len(PHOTO),
                    "image/jpeg",
                    len(PHOTO),
                    base64.b64encode(hashlib.sha256(PHOTO).digest()).decode(),
                ),
            )
    conn.commit()
    conn.close()
    wa = sqlite3.connect(dest / "wa.db")
    wa.execute(
        "CREATE TABLE wa_contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid TEXT NOT NULL,"
        " is_whatsapp_user BOOLEAN NOT NULL, display_name TEXT)"
    )
    wa.execute(
        "INSERT INTO wa_contacts (jid, is_whatsapp_user, display_name) VALUES (?, 1, ?)",
        (ALICE, "Alice"),
    )
    wa.commit()
    wa.close()


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)
