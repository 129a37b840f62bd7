#!/usr/bin/env python3
"""Build the synthetic chat fixtures under tests/data/chats/ (issue 5).

Everything here is invented and benign: accounts use numbers reserved for fiction
(US 555-01xx), media are small generated pictures (gradients and shapes), and "known
material" is a benign stand-in listed in `known_hashes.json`.

One small *world* (a group, its members, its events) is written in every format tantalio
reads: Android `msgstore.db` (current schema, part of it only in the `-wal`) + `wa.db`,
legacy `msgstore.db`, iOS `ChatStorage.sqlite`, and text exports in seven Android and seven
iOS date styles. Tests parse each and expect the same facts. A second, larger world is the
scenario of the case: three seized phones and a saved web page listing invite links.

Usage: .venv/bin/python scripts/make_chat_fixtures.py [OUT_DIR]  (default tests/data/chats)
"""

# ruff: noqa: E501  (SQL statements of the real schemas read better unbroken)
from __future__ import annotations

import base64
import hashlib
import io
import json
import plistlib
import random
import shutil
import sqlite3
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PIL import Image, ImageDraw

COCOA = datetime(2001, 1, 1, tzinfo=UTC)


# ---------------------------------------------------------------------------- the world model
@dataclass
class Person:
    name: str
    phone: str  # E.164
    lid: str | None = None  # shown instead of the number on Android (current schema)

    @property
    def jid(self) -> str:
        return f"{self.phone.lstrip('+')}@s.whatsapp.net"

    @property
    def display(self) -> str:
        """How an export shows an unsaved number: `+1 202-555-0101`."""
        d = self.phone.lstrip("+")
        if d.startswith("1") and len(d) == 11:
            return f"+1 {d[1:4]}-{d[4:7]}-{d[7:]}"
        return self.phone


@dataclass
class Media:
    data: bytes
    kind: str  # image or video
    present: bool  # False: the phone kept the hash, the file was deleted
    mime: str = "image/jpeg"

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def b64(self) -> str:
        return base64.b64encode(hashlib.sha256(self.data).digest()).decode()


@dataclass
class Event:
    t: datetime
    chat: str  # group JID, or the partner's JID for a direct chat
    sender: Person | None
    kind: str  # text, media, system, invite
    text: str | None = None
    media: Media | None = None
    action: str | None = None  # created, added, joined_invite, left, removed, subject_changed
    targets: list[Person] = field(default_factory=list)
    forwarded: bool = False
    invite: tuple[str, str, str] | None = None  # group jid, code, group name
    key_id: str = ""


@dataclass
class Group:
    jid: str
    subject: str
    creator: Person
    created: datetime
    admins: list[Person] = field(default_factory=list)
    members: list[Person] = field(default_factory=list)  # current members
    code: str | None = None


@dataclass
class World:
    owner: Person
    people: list[Person]
    groups: list[Group]
    events: list[Event]

    def chats(self) -> list[str]:
        return list(dict.fromkeys(e.chat for e in self.events))


ANDROID_ACTION = {
    "subject_changed": 1,
    "left": 5,
    "removed": 14,
    "created": 11,
    "added": 12,
    "joined_invite": 20,
}
IOS_ACTION = {
    "subject_changed": 1,
    "added": 2,
    "left": 3,
    "removed": 5,
    "created": 11,
    "joined_invite": 20,
}


def picture(seed: int, size: int = 24) -> bytes:
    """A benign generated picture: a gradient with a shape, different for every seed."""
    rng = random.Random(seed)
    img = Image.new("RGB", (size, size))
    a, b = [tuple(rng.randrange(256) for _ in range(3)) for _ in range(2)]
    for y in range(size):
        c = tuple(int(a[i] + (b[i] - a[i]) * y / size) for i in range(3))
        ImageDraw.Draw(img).line([(0, y), (size, y)], fill=c)
    x0, y0 = rng.randrange(size // 2), rng.randrange(size // 2)
    ImageDraw.Draw(img).ellipse([x0, y0, x0 + size // 3, y0 + size // 3], fill=b)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=70)
    return buf.getvalue()


def key_id(n: int) -> str:
    return hashlib.md5(f"msg{n}".encode()).hexdigest()[:20].upper()


# ---------------------------------------------------------------------------- unit world
def unit_world() -> World:
    owen = Person("Owen", "+12025550100")
    alice = Person("Alice", "+12025550101")
    bob = Person("Bob", "+12125550102")
    carol = Person("Carol", "+13105550103", lid="987654321012345@lid")
    dave = Person("Dave", "+14155550104")
    erin = Person("Erin", "+16175550105")
    g = "120363000000000001@g.us"
    day = datetime(2021, 1, 13, 9, 0, tzinfo=UTC)
    photo = Media(picture(1), "image", present=True)
    video = Media(picture(2, 20), "video", present=False, mime="video/mp4")
    card = Media(picture(3), "image", present=True)
    code = "Gk3Lm9Qp2Rs7Tv1Wx5Yz8"

    def at(days: int, hours: float) -> datetime:
        return day + timedelta(days=days, hours=hours)

    ev = [
        Event(at(0, 0), g, alice, "system", action="created", text="Garden Club"),
        Event(at(0, 0.02), g, alice, "system", action="added", targets=[owen, bob]),
        Event(at(0, 0.03), g, alice, "system", action="added", targets=[carol, erin]),
        Event(at(1, 1), g, dave, "system", action="joined_invite"),
        Event(at(1, 1.1), g, alice, "text", text="Welcome! Rules at https://example.org/rules"),
        Event(at(2, 9.5), g, bob, "media", media=photo, text="sunset"),
        Event(at(3, 11.25), g, carol, "media", media=video, forwarded=True),
        Event(at(4, -1), g, owen, "text", text="Thanks, call me on +1 202-555-0199"),
        Event(at(5, 3), g, alice, "system", action="subject_changed", text="Garden Club Weekly"),
        Event(at(6, 4), g, erin, "system", action="left"),
        Event(at(7, 5), g, alice, "system", action="removed", targets=[dave]),
        Event(at(2, 2), alice.jid, alice, "invite", text=None, invite=(g, code, "Garden Club")),
        Event(at(2, 2.1), alice.jid, owen, "text", text="ok, see you there"),
        Event(at(8, 12.75), g, bob, "text", text="Line one\nLine two\nwa.me/12125550102"),
        Event(at(8, 13), alice.jid, alice, "media", media=card),
    ]
    ev.sort(key=lambda e: e.t)
    for n, e in enumerate(ev, start=1):
        e.key_id = key_id(n)
    group = Group(
        g, "Garden Club Weekly", alice, at(0, 0), [alice, bob], [alice, owen, bob, carol], code
    )
    return World(owen, [owen, alice, bob, carol, dave, erin], [group], ev)


# ---------------------------------------------------------------------------- Android current
ANDROID_DDL = """
CREATE TABLE jid (_id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, server TEXT NOT NULL,
  agent INTEGER, device INTEGER, type INTEGER, raw_string TEXT);
CREATE TABLE chat (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid_row_id INTEGER UNIQUE, hidden INTEGER,
  subject TEXT, created_timestamp INTEGER, display_message_row_id INTEGER,
  last_message_row_id INTEGER, last_read_message_row_id INTEGER, archived INTEGER,
  sort_timestamp INTEGER, mod_tag INTEGER, gen REAL, spam_detection INTEGER,
  unseen_message_count INTEGER, group_type INTEGER);
CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT, chat_row_id INTEGER NOT NULL,
  from_me INTEGER NOT NULL, key_id TEXT NOT NULL, sender_jid_row_id INTEGER, status INTEGER,
  broadcast INTEGER, recipient_count INTEGER, participant_hash TEXT, origination_flags INTEGER,
  origin INTEGER, timestamp INTEGER, received_timestamp INTEGER, receipt_server_timestamp INTEGER,
  message_type INTEGER, text_data TEXT, starred INTEGER, lookup_tables INTEGER,
  sort_id INTEGER NOT NULL DEFAULT 0, message_add_on_flags INTEGER);
CREATE TABLE message_media (message_row_id INTEGER PRIMARY KEY, chat_row_id INTEGER,
  autotransfer_retry_enabled INTEGER, multicast_id TEXT, media_job_uuid TEXT, transferred INTEGER,
  transcoded INTEGER, file_path TEXT, file_size INTEGER, suspicious_content INTEGER,
  trim_from INTEGER, trim_to INTEGER, face_x INTEGER, face_y INTEGER, media_key BLOB,
  media_key_timestamp INTEGER, width INTEGER, height INTEGER, has_streaming_sidecar INTEGER,
  gif_attribution INTEGER, thumbnail_height_width_ratio REAL, direct_path TEXT,
  first_scan_sidecar BLOB, first_scan_length INTEGER, message_url TEXT, mime_type TEXT,
  file_length INTEGER, media_name TEXT, file_hash TEXT, media_duration INTEGER,
  page_count INTEGER, enc_file_hash TEXT, partial_media_hash TEXT,
  partial_media_enc_hash TEXT, is_animated_sticker INTEGER, original_file_hash TEXT,
  mute_video INTEGER, media_caption TEXT);
CREATE TABLE jid_map (lid_row_id INTEGER PRIMARY KEY NOT NULL, jid_row_id INTEGER NOT NULL,
  sort_id INTEGER NOT NULL DEFAULT 0);
CREATE TABLE lid_display_name (lid_row_id INTEGER PRIMARY KEY NOT NULL, display_name TEXT,
  username TEXT);
CREATE TABLE group_participant_user (_id INTEGER PRIMARY KEY AUTOINCREMENT,
  group_jid_row_id INTEGER NOT NULL, user_jid_row_id INTEGER NOT NULL, rank INTEGER NOT NULL,
  pending INTEGER NOT NULL);
CREATE TABLE message_system (message_row_id INTEGER PRIMARY KEY, action_type INTEGER NOT NULL);
CREATE TABLE message_system_chat_participant (message_row_id INTEGER, user_jid_row_id INTEGER);
CREATE TABLE message_system_value_change (message_row_id INTEGER PRIMARY KEY, old_data TEXT);
CREATE TABLE message_system_group (message_row_id INTEGER PRIMARY KEY, is_me_joined INTEGER);
CREATE TABLE message_forwarded (message_row_id INTEGER PRIMARY KEY, forward_score INTEGER);
CREATE TABLE message_group_invite (message_row_id INTEGER PRIMARY KEY,
  group_jid_row_id INTEGER NOT NULL, admin_jid_row_id INTEGER NOT NULL, group_name TEXT,
  invite_code TEXT NOT NULL, expiration INTEGER NOT NULL, invite_time INTEGER,
  expired INTEGER NOT NULL, group_type INTEGER);
CREATE TABLE props (_id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT UNIQUE, value TEXT);
"""

WADB_DDL = """
CREATE TABLE wa_contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid TEXT NOT NULL,
  is_whatsapp_user BOOLEAN NOT NULL, status TEXT, status_timestamp INTEGER, number TEXT,
  raw_contact_id INTEGER, display_name TEXT, phone_type INTEGER, phone_label TEXT,
  unseen_msg_count INTEGER, photo_ts INTEGER, thumb_ts INTEGER, photo_id_timestamp INTEGER,
  given_name TEXT, family_name TEXT, wa_name TEXT, sort_name TEXT, nickname TEXT, company TEXT,
  title TEXT, status_autodownload_disabled INTEGER, keep_timestamp INTEGER,
  is_spam_reported INTEGER, is_sidelist_synced BOOLEAN DEFAULT 0,
  is_business_synced BOOLEAN DEFAULT 0);
"""


def ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def media_file_name(e: Event, n: int) -> str:
    stamp = e.t.strftime("%Y%m%d")
    tag = "IMG" if e.media and e.media.kind == "image" else "VID"
    ext = "jpg" if tag == "IMG" else "mp4"
    return f"{tag}-{stamp}-WA{n:04d}.{ext}"


class _Jids:
    def __init__(self, conn: sqlite3.Connection):
        self.conn, self.ids = conn, {}

    def __call__(self, jid: str) -> int:
        if jid not in self.ids:
            user, server = jid.split("@")
            cur = self.conn.execute(
                "INSERT INTO jid (user, server, agent, device, type, raw_string) VALUES (?,?,0,0,0,?)",
                (user, server, jid),
            )
            self.ids[jid] = cur.lastrowid
        return self.ids[jid]


def write_android(
    world: World,
    dest: Path,
    wal_after: int | None = None,
    lid_people: tuple[str, ...] = (),
    unmapped_lids: tuple[str, ...] = (),
) -> list[tuple[str, Media]]:
    """msgstore.db (+ -wal holding events from index `wal_after` on) and wa.db in `dest`.

    People named in `lid_people` appear as their `@lid` identity, mapped in jid_map; people
    in `unmapped_lids` as their `@lid` only, with the name they show in lid_display_name
    (a group member whose number the phone never learnt: not in its contacts either).
    Returns the media files the phone still holds (relative path, media)."""
    dest.mkdir(parents=True, exist_ok=True)
    work = dest / ".build"
    work.mkdir(exist_ok=True)
    db = work / "msgstore.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.executescript(ANDROID_DDL)
    jid = _Jids(conn)

    def person_row(p: Person) -> int:
        if p.lid and p.name in unmapped_lids:
            lid_row = jid(p.lid)
            conn.execute(
                "INSERT OR IGNORE INTO lid_display_name (lid_row_id, display_name) VALUES (?, ?)",
                (lid_row, p.name),
            )
            return lid_row
        if p.lid and p.name in lid_people:
            lid_row = jid(p.lid)
            conn.execute(
                "INSERT OR IGNORE INTO jid_map (lid_row_id, jid_row_id) VALUES (?, ?)",
                (lid_row, jid(p.jid)),
            )
            return lid_row
        return jid(p.jid)

    chats = {}
    groups = {g.jid: g for g in world.groups}
    for chat in world.chats():
        g = groups.get(chat)
        cur = conn.execute(
            "INSERT INTO chat (jid_row_id, hidden, subject, created_timestamp, group_type)"
            " VALUES (?, 0, ?, ?, ?)",
            (jid(chat), g.subject if g else None, ms(g.created) if g else None, 0),
        )
        chats[chat] = cur.lastrowid
    for g in world.groups:
        for p in g.members:
            rank = 2 if p is g.creator else 1 if p in g.admins else 0
            user = -1 if p is world.owner else person_row(p)
            conn.execute(
                "INSERT INTO group_participant_user (group_jid_row_id, user_jid_row_id, rank,"
                " pending) VALUES (?, ?, ?, 0)",
                (jid(g.jid), user, rank),
            )
    conn.commit()
    kept: list[tuple[str, Media]] = []
    for i, e in enumerate(world.events):
        if wal_after is not None and i == wal_after:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        from_me = e.sender is world.owner
        group = e.chat in groups
        sender = person_row(e.sender) if e.sender and group and not from_me else 0
        mtype = {"text": 0, "system": 7, "invite": 0}.get(e.kind, 1)
        if e.kind == "media" and e.media and e.media.kind == "video":
            mtype = 3
        text = e.text
        if e.kind == "system" and e.action != "subject_changed":
            text = None
        cur = conn.execute(
            "INSERT INTO message (chat_row_id, from_me, key_id, sender_jid_row_id, status,"
            " timestamp, received_timestamp, message_type, text_data, sort_id)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                chats[e.chat],
                int(from_me),
                e.key_id,
                sender,
                13 if from_me else 0,
                ms(e.t),
                ms(e.t) + 500,
                mtype,
                text,
                i + 1,
            ),
        )
        mid = cur.lastrowid
        if e.kind == "system":
            conn.execute(
                "INSERT INTO message_system (message_row_id, action_type) VALUES (?, ?)",
                (mid, ANDROID_ACTION[e.action or ""]),
            )
            for t in e.targets:
                conn.execute(
                    "INSERT INTO message_system_chat_participant VALUES (?, ?)",
                    (mid, -1 if t is world.owner else person_row(t)),
                )
            if e.action == "subject_changed":
                conn.execute(
                    "INSERT INTO message_system_value_change VALUES (?, ?)", (mid, "Garden Club")
                )
        if e.media:
            name = media_file_name(e, mid)
            folder = "WhatsApp Images" if e.media.kind == "image" else "WhatsApp Video"
            rel = f"Media/{folder}/{name}"
            conn.execute(
                "INSERT INTO message_media (message_row_id, chat_row_id, file_path, file_size,"
                " mime_type, file_length, file_hash, enc_file_hash, media_caption, transferred)"
                " VALUES (?,?,?,?,?,?,?,?,?,1)",
                (
                    mid,
                    chats[e.chat],
                    rel,
                    len(e.media.data),
                    e.media.mime,
                    len(e.media.data),
                    e.media.b64,
                    base64.b64encode(hashlib.sha256(b"enc" + e.media.data).digest()).decode(),
                    e.text,
                ),
            )
            if e.text:
                conn.execute("UPDATE message SET text_data = ? WHERE _id = ?", (e.text, mid))
            if e.media.present:
                kept.append((rel, e.media))
        if e.forwarded:
            conn.execute("INSERT INTO message_forwarded VALUES (?, 1)", (mid,))
        if e.invite:
            gj, code, gname = e.invite
            conn.execute(
                "INSERT INTO message_group_invite (message_row_id, group_jid_row_id,"
                " admin_jid_row_id, group_name, invite_code, expiration, invite_time, expired,"
                " group_type) VALUES (?,?,?,?,?,?,?,0,0)",
                (
                    mid,
                    jid(gj),
                    person_row(e.sender or world.owner),
                    gname,
                    code,
                    ms(e.t + timedelta(days=3)),
                    ms(e.t),
                ),
            )
        conn.commit()
    if wal_after is None:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("", "-wal"):
        src = db.with_name(db.name + suffix)
        if src.exists() and (suffix == "" or src.stat().st_size > 0):
            shutil.copyfile(src, dest / f"msgstore.db{suffix}")
    conn.close()
    shutil.rmtree(work)
    wa = dest / "wa.db"
    wa.unlink(missing_ok=True)
    wconn = sqlite3.connect(wa)
    wconn.executescript(WADB_DDL)
    for p in world.people:
        if p is world.owner or p.name in unmapped_lids:
            continue
        wconn.execute(
            "INSERT INTO wa_contacts (jid, is_whatsapp_user, number, display_name, wa_name)"
            " VALUES (?, 1, ?, ?, ?)",
            (p.jid, p.phone, p.name, f"{p.name} ~"),
        )
    wconn.commit()
    wconn.close()
    return kept


def write_android_prefs(owner: Person, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    cc, rest = owner.phone[1:2], owner.phone[2:]
    (dest / "com.whatsapp_preferences_light.xml").write_text(
        "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n"
        f'    <string name="cc">{cc}</string>\n    <string name="ph">{rest}</string>\n'
        '    <string name="push_name">' + owner.name + "</string>\n</map>\n"
    )


# ---------------------------------------------------------------------------- Android legacy
LEGACY_DDL = """
CREATE TABLE messages (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT NOT NULL,
  key_from_me INTEGER, key_id TEXT NOT NULL, status INTEGER, needs_push INTEGER, data TEXT,
  timestamp INTEGER, media_url TEXT, media_mime_type TEXT, media_wa_type TEXT, media_size INTEGER,
  media_name TEXT, media_caption TEXT, media_hash TEXT, media_duration INTEGER, origin INTEGER,
  latitude REAL, longitude REAL, thumb_image TEXT, remote_resource TEXT,
  received_timestamp INTEGER, send_timestamp INTEGER, receipt_server_timestamp INTEGER,
  receipt_device_timestamp INTEGER, read_device_timestamp INTEGER,
  played_device_timestamp INTEGER, raw_data BLOB, recipient_count INTEGER,
  participant_hash TEXT, starred INTEGER, quoted_row_id INTEGER, mentioned_jids TEXT,
  multicast_id TEXT, edit_version INTEGER, media_enc_hash TEXT, payment_transaction_id TEXT,
  forwarded INTEGER, preview_type INTEGER, send_count INTEGER);
CREATE TABLE chat_list (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT UNIQUE,
  message_table_id INTEGER, subject TEXT, creation INTEGER, last_read_message_table_id INTEGER,
  archived INTEGER, sort_timestamp INTEGER, mod_tag INTEGER, gen REAL, my_messages INTEGER,
  plaintext_disabled BOOLEAN, last_message_table_id INTEGER, unseen_message_count INTEGER);
CREATE TABLE group_participants (_id INTEGER PRIMARY KEY AUTOINCREMENT, gjid TEXT NOT NULL,
  jid TEXT NOT NULL, admin INTEGER, pending INTEGER, sent_sender_key INTEGER);
"""


def write_legacy(world: World, dest: Path) -> list[tuple[str, Media]]:
    dest.mkdir(parents=True, exist_ok=True)
    db = dest / "msgstore.db"
    db.unlink(missing_ok=True)
    conn = sqlite3.connect(db)
    conn.executescript(LEGACY_DDL)
    conn.execute(  # the sentinel row legacy databases start with
        "INSERT INTO messages (key_remote_jid, key_from_me, key_id, status) VALUES ('-1', 0, '-1', -1)"
    )
    groups = {g.jid: g for g in world.groups}
    for chat in world.chats():
        g = groups.get(chat)
        conn.execute(
            "INSERT INTO chat_list (key_remote_jid, subject, creation) VALUES (?, ?, ?)",
            (chat, g.subject if g else None, ms(g.created) if g else None),
        )
    for g in world.groups:
        for p in g.members:
            admin = 2 if p is g.creator else 1 if p in g.admins else 0
            conn.execute(
                "INSERT INTO group_participants (gjid, jid, admin, pending) VALUES (?, ?, ?, 0)",
                (g.jid, "" if p is world.owner else p.jid, admin),
            )
    kept = []
    for i, e in enumerate(world.events):
        from_me = e.sender is world.owner
        group = e.chat in groups
        remote = e.sender.jid if e.sender and group and not from_me else None
        if e.kind == "system":
            data = (
                e.text
                if e.action == "subject_changed"
                else ",".join(t.jid for t in e.targets) or None
            )
            conn.execute(
                "INSERT INTO messages (key_remote_jid, key_from_me, key_id, status, data, timestamp,"
                " media_wa_type, media_size, remote_resource) VALUES (?,?,?,6,?,?,'0',?,?)",
                (
                    e.chat,
                    int(from_me),
                    e.key_id,
                    data,
                    ms(e.t),
                    ANDROID_ACTION[e.action or ""],
                    remote,
                ),
            )
        elif e.media:
            name = media_file_name(e, i + 1)
            conn.execute(
                "INSERT INTO messages (key_remote_jid, key_from_me, key_id, status, timestamp,"
                " media_wa_type, media_size, media_mime_type, media_name, media_caption, media_hash,"
                " remote_resource, forwarded) VALUES (?,?,?,0,?,?,?,?,?,?,?,?,?)",
                (
                    e.chat,
                    int(from_me),
                    e.key_id,
                    ms(e.t),
                    "1" if e.media.kind == "image" else "3",
                    len(e.media.data),
                    e.media.mime,
                    name,
                    e.text,
                    e.media.b64,
                    remote,
                    int(e.forwarded),
                ),
            )
            if e.media.present:
                folder = "WhatsApp Images" if e.media.kind == "image" else "WhatsApp Video"
                kept.append((f"Media/{folder}/{name}", e.media))
        else:
            text = e.text or (f"https://chat.whatsapp.com/{e.invite[1]}" if e.invite else None)
            conn.execute(
                "INSERT INTO messages (key_remote_jid, key_from_me, key_id, status, data, timestamp,"
                " media_wa_type, remote_resource, forwarded) VALUES (?,?,?,0,?,?,'0',?,?)",
                (e.chat, int(from_me), e.key_id, text, ms(e.t), remote, int(e.forwarded)),
            )
    conn.commit()
    conn.close()
    return kept


# ---------------------------------------------------------------------------- iOS
IOS_DDL = """
CREATE TABLE ZWACHATSESSION ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
  ZARCHIVED INTEGER, ZCONTACTABID INTEGER, ZFLAGS INTEGER, ZHIDDEN INTEGER,
  ZMESSAGECOUNTER INTEGER, ZREMOVED INTEGER, ZSESSIONTYPE INTEGER, ZSPOTLIGHTSTATUS INTEGER,
  ZUNREADCOUNT INTEGER, ZGROUPINFO INTEGER, ZLASTMESSAGE INTEGER, ZPROPERTIES INTEGER,
  ZLASTMESSAGEDATE TIMESTAMP, ZCONTACTIDENTIFIER VARCHAR, ZCONTACTJID VARCHAR, ZETAG VARCHAR,
  ZLASTMESSAGETEXT VARCHAR, ZPARTNERNAME VARCHAR, ZSAVEDINPUT VARCHAR );
CREATE TABLE ZWAMESSAGE ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
  ZCHILDMESSAGESDELIVEREDCOUNT INTEGER, ZCHILDMESSAGESPLAYEDCOUNT INTEGER,
  ZCHILDMESSAGESREADCOUNT INTEGER, ZDATAITEMVERSION INTEGER, ZDOCID INTEGER,
  ZENCRETRYCOUNT INTEGER, ZFILTEREDRECIPIENTCOUNT INTEGER, ZFLAGS INTEGER,
  ZGROUPEVENTTYPE INTEGER, ZISFROMME INTEGER, ZMESSAGEERRORSTATUS INTEGER,
  ZMESSAGESTATUS INTEGER, ZMESSAGETYPE INTEGER, ZSORT INTEGER, ZSPOTLIGHTSTATUS INTEGER,
  ZSTARRED INTEGER, ZCHATSESSION INTEGER, ZGROUPMEMBER INTEGER, ZLASTSESSION INTEGER,
  ZMEDIAITEM INTEGER, ZMESSAGEINFO INTEGER, ZPARENTMESSAGE INTEGER, ZMESSAGEDATE TIMESTAMP,
  ZSENTDATE TIMESTAMP, ZFROMJID VARCHAR, ZMEDIASECTIONID VARCHAR, ZPHASH VARCHAR,
  ZPUSHNAME VARCHAR, ZSTANZAID VARCHAR, ZTEXT VARCHAR, ZTOJID VARCHAR );
CREATE TABLE ZWAMEDIAITEM ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
  ZCLOUDSTATUS INTEGER, ZFILESIZE INTEGER, ZMEDIAORIGIN INTEGER, ZMOVIEDURATION INTEGER,
  ZMESSAGE INTEGER, ZASPECTRATIO FLOAT, ZHACCURACY FLOAT, ZLATITUDE FLOAT, ZLONGITUDE FLOAT,
  ZMEDIAURLDATE TIMESTAMP, ZAUTHORNAME VARCHAR, ZCOLLECTIONNAME VARCHAR,
  ZMEDIALOCALPATH VARCHAR, ZMEDIAURL VARCHAR, ZTHUMBNAILLOCALPATH VARCHAR, ZTITLE VARCHAR,
  ZVCARDNAME VARCHAR, ZVCARDSTRING VARCHAR, ZXMPPTHUMBPATH VARCHAR, ZMEDIAKEY BLOB,
  ZMETADATA BLOB );
CREATE TABLE ZWAGROUPMEMBER ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
  ZCONTACTABID INTEGER, ZISACTIVE INTEGER, ZISADMIN INTEGER, ZSENDERKEYSENT INTEGER,
  ZCHATSESSION INTEGER, ZRECENTGROUPCHAT INTEGER, ZCONTACTIDENTIFIER VARCHAR,
  ZCONTACTNAME VARCHAR, ZFIRSTNAME VARCHAR, ZMEMBERJID VARCHAR );
CREATE TABLE ZWAGROUPINFO ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
  ZSTATE INTEGER, ZCHATSESSION INTEGER, ZLASTMESSAGEOWNER INTEGER, ZCREATIONDATE TIMESTAMP,
  ZSUBJECTTIMESTAMP TIMESTAMP, ZCREATORJID VARCHAR, ZOWNERJID VARCHAR, ZPICTUREID VARCHAR,
  ZPICTUREPATH VARCHAR, ZSOURCEJID VARCHAR, ZSUBJECTOWNERJID VARCHAR );
CREATE TABLE ZWAPROFILEPUSHNAME ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
  ZJID VARCHAR, ZPUSHNAME VARCHAR );
"""


def cocoa(t: datetime) -> float:
    return (t - COCOA).total_seconds()


def write_ios(world: World, dest: Path) -> list[tuple[str, Media]]:
    dest.mkdir(parents=True, exist_ok=True)
    db = dest / "ChatStorage.sqlite"
    db.unlink(missing_ok=True)
    conn = sqlite3.connect(db)
    conn.executescript(IOS_DDL)
    groups = {g.jid: g for g in world.groups}
    sessions, members = {}, {}
    for chat in world.chats():
        g = groups.get(chat)
        partner = g.subject if g else next(p.name for p in world.people if p.jid == chat)
        cur = conn.execute(
            "INSERT INTO ZWACHATSESSION (ZCONTACTJID, ZPARTNERNAME, ZSESSIONTYPE) VALUES (?,?,?)",
            (chat, partner, 1 if g else 0),
        )
        sessions[chat] = cur.lastrowid
        if g:
            conn.execute(
                "INSERT INTO ZWAGROUPINFO (ZCHATSESSION, ZCREATORJID, ZCREATIONDATE) VALUES (?,?,?)",
                (cur.lastrowid, g.creator.jid, cocoa(g.created)),
            )
    everyone = {p.jid: p for p in world.people}
    for g in world.groups:
        posting = {e.sender.jid for e in world.events if e.chat == g.jid and e.sender}
        targets = {t.jid for e in world.events if e.chat == g.jid for t in e.targets}
        for jid in sorted(posting | targets | {p.jid for p in g.members}):
            p = everyone[jid]
            if p is world.owner:
                continue
            cur = conn.execute(
                "INSERT INTO ZWAGROUPMEMBER (ZCHATSESSION, ZMEMBERJID, ZCONTACTNAME, ZISADMIN,"
                " ZISACTIVE) VALUES (?,?,?,?,?)",
                (
                    sessions[g.jid],
                    jid,
                    p.name,
                    int(p in g.admins or p is g.creator),
                    int(p in g.members),
                ),
            )
            members[(g.jid, jid)] = cur.lastrowid
    for p in world.people:
        conn.execute(
            "INSERT INTO ZWAPROFILEPUSHNAME (ZJID, ZPUSHNAME) VALUES (?, ?)", (p.jid, p.name)
        )
    kept = []
    rows: list[Event] = []
    for e in world.events:  # iOS writes one group event per member concerned
        if e.kind == "system" and len(e.targets) > 1:
            rows.extend(
                Event(
                    e.t,
                    e.chat,
                    e.sender,
                    e.kind,
                    e.text,
                    action=e.action,
                    targets=[t],
                    key_id=f"{e.key_id}-{n}",
                )
                for n, t in enumerate(e.targets)
            )
        else:
            rows.append(e)
    for i, e in enumerate(rows):
        from_me = e.sender is world.owner and e.kind != "system"
        group = e.chat in groups
        who = e.targets[0] if e.kind == "system" and e.targets else e.sender
        member = (
            members.get((e.chat, who.jid)) if who and group and who is not world.owner else None
        )
        mtype = {"text": 0, "system": 6, "invite": 0}.get(e.kind, 1)
        if e.media and e.media.kind == "video":
            mtype = 2
        text = e.text
        if e.kind == "invite" and e.invite:
            text = f"https://chat.whatsapp.com/{e.invite[1]}"
        cur = conn.execute(
            "INSERT INTO ZWAMESSAGE (ZCHATSESSION, ZISFROMME, ZMESSAGEDATE, ZTEXT, ZMESSAGETYPE,"
            " ZGROUPEVENTTYPE, ZGROUPMEMBER, ZSTANZAID, ZFROMJID, ZSORT) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                sessions[e.chat],
                int(from_me),
                cocoa(e.t),
                text,
                mtype,
                IOS_ACTION.get(e.action or "") if e.kind == "system" else None,
                member,
                e.key_id,
                None if from_me else e.chat,
                i,
            ),
        )
        if e.media:
            name = media_file_name(e, i + 1)
            rel = f"Message/Media/{e.chat}/{name[0]}/{name[1]}/{name}"
            mcur = conn.execute(
                "INSERT INTO ZWAMEDIAITEM (ZMESSAGE, ZFILESIZE, ZMEDIALOCALPATH, ZVCARDNAME,"
                " ZVCARDSTRING, ZTITLE) VALUES (?,?,?,?,?,?)",
                (cur.lastrowid, len(e.media.data), rel, e.media.b64, e.media.mime, e.text),
            )
            conn.execute(
                "UPDATE ZWAMESSAGE SET ZMEDIAITEM = ? WHERE Z_PK = ?",
                (mcur.lastrowid, cur.lastrowid),
            )
            if e.media.present:
                kept.append((rel, e.media))
    conn.commit()
    conn.close()
    return kept


def write_ios_owner(owner: Person, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with (dest / "group.net.whatsapp.WhatsApp.shared.plist").open("wb") as fh:
        plistlib.dump({"OwnJID": owner.jid, "OwnPushName": owner.name}, fh)


def write_files(kept: list[tuple[str, Media]], root: Path) -> None:
    for rel, media in kept:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(media.data)


# ---------------------------------------------------------------------------- text exports
@dataclass(frozen=True)
class Style:
    name: str
    platform: str  # android or ios
    fmt: str  # strftime-like with {d} {m} {y} {Y} {H} {I} {M} {S} {p}
    ampm: tuple[str, str] = ("AM", "PM")


STYLES = (
    Style("android_en_us", "android", "{m}/{d}/{y}, {I}:{M} {p}"),
    Style("android_en_gb", "android", "{d}/{m}/{Y}, {H}:{M}"),
    Style("android_de", "android", "{d}.{m}.{y}, {H}:{M}"),
    Style("android_iso", "android", "{Y}-{m}-{d}, {H}:{M}"),
    Style("android_es", "android", "{d}/{m}/{y}, {I}:{M}\u202f{p}", ("a.\u00a0m.", "p.\u00a0m.")),
    Style("android_en_us_nnbsp", "android", "{m}/{d}/{y}, {I}:{M}\u202f{p}"),
    Style("android_nl", "android", "{d}-{m}-{Y} {H}:{M}"),
    Style("ios_en_us", "ios", "[{m}/{d}/{y}, {I}:{M}:{S} {p}]"),
    Style("ios_en_gb", "ios", "[{d}/{m}/{Y}, {H}:{M}:{S}]"),
    Style("ios_de", "ios", "[{d}.{m}.{y}, {H}:{M}:{S}]"),
    Style("ios_iso", "ios", "[{Y}-{m}-{d}, {H}:{M}:{S}]"),
    Style("ios_es", "ios", "[{d}/{m}/{y}, {I}:{M}:{S} {p}]", ("a. m.", "p. m.")),
    Style("ios_en_us_nnbsp", "ios", "[{m}/{d}/{y}, {I}:{M}:{S}\u202f{p}]"),
    Style("ios_ru", "ios", "[{d}.{m}.{Y}, {H}:{M}:{S}]"),
)


def stamp(style: Style, t: datetime) -> str:
    hour12 = t.hour % 12 or 12
    return style.fmt.format(
        d=f"{t.day:02d}",
        m=f"{t.month:02d}",
        y=f"{t.year % 100:02d}",
        Y=str(t.year),
        H=f"{t.hour:02d}",
        I=str(hour12),
        dn=str(t.day),
        mn=str(t.month),
        M=f"{t.minute:02d}",
        S=f"{t.second:02d}",
        p=style.ampm[t.hour >= 12],
    )


def label(world: World, p: Person | None, saved: set[str]) -> str:
    if p is None:
        return ""
    if p is world.owner:
        return "You"
    return p.name if p.name in saved else p.display


def write_text_export(world: World, style: Style, dest: Path, saved: set[str]) -> None:
    """The group chat of `world` as exported on a phone of `style`, with its photo attached."""
    g = world.groups[0]
    ios = style.platform == "ios"
    folder = dest / style.name / ("WhatsApp Chat - Garden Club" if ios else "")
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    subject = "Garden Club"
    lrm = "\u200e"

    def head(t: datetime, who: str) -> str:
        return f"{stamp(style, t)} {who}: " if ios else f"{stamp(style, t)} - {who}: "

    def system(t: datetime, text: str) -> str:
        if ios:
            return f"{stamp(style, t)} {subject}: {lrm}{text}"
        return f"{stamp(style, t)} - {text}"

    lines.append(
        system(
            g.created,
            "Messages and calls are end-to-end encrypted. No one outside of "
            "this chat, not even WhatsApp, can read or listen to them.",
        )
    )
    n_att = 0
    for e in world.events:
        if e.chat != g.jid:
            continue
        who = label(world, e.sender, saved)
        if e.kind == "system":
            targets = ", ".join(label(world, t, saved) for t in e.targets)
            q = ("\u201c", "\u201d") if ios else ('"', '"')
            text = {
                "created": f"{who} created group {q[0]}{e.text}{q[1]}",
                "added": f"{who} added {targets}",
                "joined_invite": f"{who} joined using this group's invite link",
                "subject_changed": f"{who} changed the subject from {q[0]}{subject}{q[1]} to {q[0]}{e.text}{q[1]}",
                "left": f"{who} left",
                "removed": f"{who} removed {targets}",
            }[e.action or ""]
            lines.append(system(e.t, text))
            if e.action == "subject_changed" and e.text:
                subject = e.text
            continue
        if who == "You":
            who = world.owner.name
        if e.media:
            if e.media.present:
                n_att += 1
                if ios:
                    name = f"{n_att:08d}-PHOTO-{e.t:%Y-%m-%d-%H-%M-%S}.jpg"
                    body = f"{lrm}<attached: {name}>"
                    lines.append(lrm + head(e.t, who) + body)
                else:
                    name = f"IMG-{e.t:%Y%m%d}-WA{n_att:04d}.jpg"
                    lines.append(head(e.t, who) + f"{name} (file attached)")
                if e.text:
                    lines.append(e.text)
                (folder / name).write_bytes(e.media.data)
            else:
                omitted = f"{lrm}video omitted" if ios else "<Media omitted>"
                lines.append((lrm if ios else "") + head(e.t, who) + omitted)
            continue
        lines.append(head(e.t, who) + (e.text or ""))
    name = "_chat.txt" if ios else "WhatsApp Chat with Garden Club.txt"
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------- languages
# The group chat of the unit world as phones set to each language export it (issue 15): the
# system lines, attachment markers, left-out media and file names in that language, and the
# date style usual there. Written from what those phones write, independently of the parser's
# tables (src/tantalio/chats/lang/), so the tests check one against the other.
@dataclass(frozen=True)
class Lang:
    code: str
    android: Style
    ios: Style
    quotes: tuple[str, str]
    e2e: str
    created: str  # {who} {subject}
    added: str  # {who} {targets}
    added_you: str  # {who}
    joined: str  # {who}
    subject: str  # {who} {old} {new}
    left: str  # {who}
    removed: str  # {who} {targets}
    and_word: str
    target_prefix: str  # Spanish: "a "
    attached_android: str  # {name}
    attached_ios: str  # {name}
    omitted_android: str
    omitted_ios_video: str
    chat_file: str  # {name}: the Android file name, without .txt
    chat_folder: str  # {name}: the iOS export folder


LANGS = (
    Lang(
        "en",
        Style("en_android", "android", "{mn}/{dn}/{y}, {I}:{M}\u202f{p}"),
        Style("en_ios", "ios", "[{mn}/{dn}/{y}, {I}:{M}:{S}\u202f{p}]"),
        ("\u201c", "\u201d"),
        "Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them. Tap to learn more.",
        "{who} created group {q}{subject}{qc}",
        "{who} added {targets}",
        "{who} added you",
        "{who} joined using this group's invite link",
        "{who} changed the subject from {q}{old}{qc} to {q}{new}{qc}",
        "{who} left",
        "{who} removed {targets}",
        "and",
        "",
        "{name} (file attached)",
        "<attached: {name}>",
        "<Media omitted>",
        "video omitted",
        "WhatsApp Chat with {name}",
        "WhatsApp Chat - {name}",
    ),
    Lang(
        "es",
        Style("es_android", "android", "{dn}/{mn}/{y}, {H}:{M}"),
        Style(
            "es_ios", "ios", "[{dn}/{mn}/{y}, {I}:{M}:{S}\u202f{p}]", ("a.\u00a0m.", "p.\u00a0m.")
        ),
        ("\u201c", "\u201d"),
        "Los mensajes y las llamadas están cifrados de extremo a extremo. Nadie fuera de este chat, ni siquiera WhatsApp, puede leerlos ni escucharlos. Toca para obtener más información.",
        "{who} creó el grupo {q}{subject}{qc}",
        "{who} añadió a {targets}",
        "{who} te añadió",
        "{who} se unió usando el enlace de invitación de este grupo",
        "{who} cambió el asunto de {q}{old}{qc} a {q}{new}{qc}",
        "{who} salió",
        "{who} eliminó a {targets}",
        "y",
        "a ",
        "{name} (archivo adjunto)",
        "<adjunto: {name}>",
        "<Multimedia omitido>",
        "video omitido",
        "Chat de WhatsApp con {name}",
        "Chat de WhatsApp - {name}",
    ),
    Lang(
        "pt_br",
        Style("pt_br_android", "android", "{d}/{m}/{Y} {H}:{M}"),
        Style("pt_br_ios", "ios", "[{d}/{m}/{Y} {H}:{M}:{S}]"),
        ("\u201c", "\u201d"),
        "As mensagens e as chamadas são protegidas com a criptografia de ponta a ponta e ficam somente entre você e os participantes desta conversa. Nem mesmo o WhatsApp pode ler ou ouvi-las.",
        "{who} criou o grupo {q}{subject}{qc}",
        "{who} adicionou {targets}",
        "{who} adicionou você",
        "{who} entrou usando o link de convite deste grupo",
        "{who} mudou o assunto de {q}{old}{qc} para {q}{new}{qc}",
        "{who} saiu",
        "{who} removeu {targets}",
        "e",
        "",
        "{name} (arquivo anexado)",
        "<anexado: {name}>",
        "<Mídia oculta>",
        "vídeo omitido",
        "Conversa do WhatsApp com {name}",
        "Conversa do WhatsApp - {name}",
    ),
    Lang(
        "pt_pt",
        Style("pt_pt_android", "android", "{d}/{m}/{y}, {H}:{M}"),
        Style("pt_pt_ios", "ios", "[{d}/{m}/{y}, {H}:{M}:{S}]"),
        ("\u201c", "\u201d"),
        "As mensagens e as chamadas são encriptadas ponto a ponto. Ninguém fora desta conversa, nem mesmo o WhatsApp, as pode ler ou ouvir.",
        "{who} criou o grupo {q}{subject}{qc}",
        "{who} adicionou {targets}",
        "{who} adicionou-te",
        "{who} entrou através da ligação de convite deste grupo",
        "{who} alterou o assunto de {q}{old}{qc} para {q}{new}{qc}",
        "{who} saiu",
        "{who} removeu {targets}",
        "e",
        "",
        "{name} (ficheiro anexado)",
        "<anexado: {name}>",
        "<Multimédia omitido>",
        "vídeo omitido",
        "Conversa do WhatsApp com {name}",
        "Conversa do WhatsApp - {name}",
    ),
    Lang(
        "fr",
        Style("fr_android", "android", "{d}/{m}/{Y} à {H}:{M}"),
        Style("fr_ios", "ios", "[{d}/{m}/{Y} {H}:{M}:{S}]"),
        ("\u00ab\u00a0", "\u00a0\u00bb"),
        "Les messages et les appels sont chiffrés de bout en bout. Aucun tiers, pas même WhatsApp, ne peut les lire ou les écouter. Appuyez pour en savoir plus.",
        "{who} a créé le groupe {q}{subject}{qc}",
        "{who} a ajouté {targets}",
        "{who} vous a ajouté",
        "{who} a rejoint ce groupe via le lien d\u2019invitation",
        "{who} a modifié le sujet de {q}{old}{qc} en {q}{new}{qc}",
        "{who} est parti",
        "{who} a retiré {targets}",
        "et",
        "",
        "{name} (fichier joint)",
        "<pièce jointe\u00a0: {name}>",
        "<Médias omis>",
        "vidéo omise",
        "Discussion WhatsApp avec {name}",
        "Discussion WhatsApp - {name}",
    ),
    Lang(
        "it",
        Style("it_android", "android", "{d}/{m}/{y}, {H}:{M}"),
        Style("it_ios", "ios", "[{d}/{m}/{y}, {H}:{M}:{S}]"),
        ("\u201c", "\u201d"),
        "I messaggi e le chiamate sono crittografati end-to-end. Nessuno al di fuori di questa chat, nemmeno WhatsApp, può leggerne o ascoltarne il contenuto.",
        "{who} ha creato il gruppo {q}{subject}{qc}",
        "{who} ha aggiunto {targets}",
        "{who} ti ha aggiunto",
        "{who} si è unito tramite il link d'invito di questo gruppo",
        "{who} ha cambiato l'oggetto da {q}{old}{qc} a {q}{new}{qc}",
        "{who} è uscito",
        "{who} ha rimosso {targets}",
        "e",
        "",
        "{name} (file allegato)",
        "<allegato: {name}>",
        "<Media omessi>",
        "video omesso",
        "Chat WhatsApp con {name}",
        "Chat WhatsApp - {name}",
    ),
    Lang(
        "de",
        Style("de_android", "android", "{d}.{m}.{y}, {H}:{M}"),
        Style("de_ios", "ios", "[{d}.{m}.{y}, {H}:{M}:{S}]"),
        ("\u201e", "\u201c"),
        "Nachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt. Niemand außerhalb dieses Chats kann sie lesen oder anhören, nicht einmal WhatsApp.",
        "{who} hat die Gruppe {q}{subject}{qc} erstellt",
        "{who} hat {targets} hinzugefügt",
        "{who} hat dich hinzugefügt",
        "{who} ist über den Einladungslink dieser Gruppe beigetreten",
        "{who} hat den Betreff von {q}{old}{qc} zu {q}{new}{qc} geändert",
        "{who} hat die Gruppe verlassen",
        "{who} hat {targets} entfernt",
        "und",
        "",
        "{name} (Datei angehängt)",
        "<Anhang: {name}>",
        "<Medien ausgeschlossen>",
        "Video weggelassen",
        "WhatsApp Chat mit {name}",
        "WhatsApp Chat - {name}",
    ),
    # A language tantalio has no table for: its system lines must cost a warning.
    Lang(
        "nl",
        Style("nl_android", "android", "{d}-{m}-{Y} {H}:{M}"),
        Style("nl_ios", "ios", "[{d}-{m}-{Y} {H}:{M}:{S}]"),
        ("\u201c", "\u201d"),
        "Berichten en oproepen zijn end-to-end versleuteld. Niemand buiten deze chat, zelfs WhatsApp niet, kan ze lezen of beluisteren.",
        "{who} heeft groep {q}{subject}{qc} aangemaakt",
        "{who} heeft {targets} toegevoegd",
        "{who} heeft je toegevoegd",
        "{who} is lid geworden via de uitnodigingslink van deze groep",
        "{who} heeft het onderwerp gewijzigd van {q}{old}{qc} naar {q}{new}{qc}",
        "{who} heeft de groep verlaten",
        "{who} heeft {targets} verwijderd",
        "en",
        "",
        "{name} (bestand bijgevoegd)",
        "<bijgevoegd: {name}>",
        "<Media weggelaten>",
        "video weggelaten",
        "WhatsApp-chat met {name}",
        "WhatsApp-chat - {name}",
    ),
)


def lang_stamp(style: Style, t: datetime) -> str:
    """`stamp` with unpadded day and month too ({dn}, {mn}), as Spanish and US phones write."""
    return stamp(
        Style(
            style.name,
            style.platform,
            style.fmt.replace("{dn}", str(t.day)).replace("{mn}", str(t.month)),
            style.ampm,
        ),
        t,
    )


def write_language_export(world: World, lang: Lang, ios: bool, dest: Path, saved: set[str]) -> None:
    style = lang.ios if ios else lang.android
    g = world.groups[0]
    folder = dest / style.name / (lang.chat_folder.format(name="Garden Club") if ios else "")
    folder.mkdir(parents=True, exist_ok=True)
    lrm = "\u200e"
    q, qc = lang.quotes
    subject = "Garden Club"
    lines: list[str] = []

    def who_of(p: Person | None) -> str:
        return label(world, p, saved)

    def head(t: datetime, who: str) -> str:
        return f"{lang_stamp(style, t)} {who}: " if ios else f"{lang_stamp(style, t)} - {who}: "

    def system(t: datetime, text: str) -> None:
        if ios:
            lines.append(f"{lang_stamp(style, t)} {subject}: {lrm}{text}")
        else:
            lines.append(f"{lang_stamp(style, t)} - {text}")

    def listed(people: list[Person]) -> str:
        names = [lang.target_prefix + who_of(p) for p in people]
        if not names:
            return ""
        if len(names) == 1:
            return names[0].removeprefix(lang.target_prefix)
        joined = ", ".join(names[:-1]) + f" {lang.and_word} " + names[-1]
        return joined.removeprefix(lang.target_prefix)

    system(g.created, lang.e2e)
    n_att = 0
    for e in world.events:
        if e.chat != g.jid:
            continue
        who = who_of(e.sender)
        if e.kind == "system":
            if e.action == "added" and world.owner in e.targets:
                system(e.t, lang.added_you.format(who=who))
                others = [p for p in e.targets if p is not world.owner]
                if others:
                    system(e.t, lang.added.format(who=who, targets=listed(others)))
                continue
            fmt = {
                "created": lang.created,
                "added": lang.added,
                "joined_invite": lang.joined,
                "subject_changed": lang.subject,
                "left": lang.left,
                "removed": lang.removed,
            }[e.action or ""]
            system(
                e.t,
                fmt.format(
                    who=who,
                    targets=listed(e.targets),
                    subject=e.text,
                    old=subject,
                    new=e.text,
                    q=q,
                    qc=qc,
                ),
            )
            if e.action == "subject_changed" and e.text:
                subject = e.text
            continue
        if e.sender is world.owner:
            who = world.owner.name
        if e.media:
            if e.media.present:
                n_att += 1
                if ios:
                    name = f"{n_att:08d}-PHOTO-{e.t:%Y-%m-%d-%H-%M-%S}.jpg"
                    lines.append(lrm + head(e.t, who) + lrm + lang.attached_ios.format(name=name))
                else:
                    name = f"IMG-{e.t:%Y%m%d}-WA{n_att:04d}.jpg"
                    lines.append(head(e.t, who) + lang.attached_android.format(name=name))
                if e.text:
                    lines.append(e.text)
                (folder / name).write_bytes(e.media.data)
            else:
                omitted = lrm + lang.omitted_ios_video if ios else lang.omitted_android
                lines.append((lrm if ios else "") + head(e.t, who) + omitted)
            continue
        lines.append(head(e.t, who) + (e.text or ""))
    name = "_chat.txt" if ios else lang.chat_file.format(name="Garden Club") + ".txt"
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_direct_export(world: World, dest: Path) -> None:
    """A two-party chat exported on Android (en_GB): the other voice is the phone's owner."""
    alice = world.people[1]
    dest.mkdir(parents=True, exist_ok=True)
    style = STYLES[1]
    lines = []
    for e in world.events:
        if e.chat != alice.jid:
            continue
        who = world.owner.name if e.sender is world.owner else alice.name
        text = e.text or (
            f"https://chat.whatsapp.com/{e.invite[1]}" if e.invite else "<Media omitted>"
        )
        lines.append(f"{stamp(style, e.t)} - {who}: {text}")
    (dest / "WhatsApp Chat with Alice.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_bad_inputs(dest: Path) -> None:
    """Inputs that must cost a warning, not the exhibit."""
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "corrupt").mkdir(exist_ok=True)
    (dest / "corrupt" / "msgstore.db").write_bytes(b"SQLite format 3\x00" + b"\xde\xad" * 300)
    (dest / "encrypted").mkdir(exist_ok=True)
    (dest / "encrypted" / "msgstore.db").write_bytes(bytes(range(256)) * 4)
    unknown = dest / "unknown_schema" / "msgstore.db"
    unknown.parent.mkdir(exist_ok=True)
    unknown.unlink(missing_ok=True)
    conn = sqlite3.connect(unknown)
    conn.executescript(
        "CREATE TABLE message (_id INTEGER PRIMARY KEY, chat_row_id INTEGER, body TEXT);"
        "CREATE TABLE jid (_id INTEGER PRIMARY KEY, user TEXT, server TEXT);"
    )
    conn.close()
    text = (
        "31/12/2020, 23:59 - Alice: fine line\n31/12/2020, 23:59 - Alice: bad \xff\xfe bytes here\n"
    ).encode("latin-1")
    (dest / "WhatsApp Chat with Alice.txt").write_bytes(
        b"31/12/2020, 23:58 - Alice: first\n"
        + text
        + b"13/01/2021, 25:61 - Alice: impossible time\n"
    )
    # A text export whose dates are all ambiguous (day and month <= 12); only their order tells.
    (dest / "ambiguous").mkdir(exist_ok=True)
    (dest / "ambiguous" / "WhatsApp Chat with Bob.txt").write_text(
        "03/01/21, 10:00 - Bob: one\n"
        "03/02/21, 10:00 - Bob: two\n"
        "04/01/21, 10:00 - Bob: three\n"
        "05/01/21, 10:00 - Bob: four\n",
        encoding="utf-8",
    )


def write_pages(dest: Path) -> None:
    """A saved web page (with the comment browsers write) and a .docx listing artifacts."""
    dest.mkdir(parents=True, exist_ok=True)
    onion = (
        "examplesiteforchatfixtures" + "a2b3c4d5e6f7g2h3i4j5k6l7m2n3o4" + ".onion"
    )  # 56 + .onion
    url = f"http://{onion}/links.html"
    (dest / "links.html").write_text(
        f"<!DOCTYPE html>\n<!-- saved from url=({len(url):04d}){url} -->\n"
        "<html><head><title>Links</title></head><body>\n"
        '<p><a href="https://chat.whatsapp.com/Gk3Lm9Qp2Rs7Tv1Wx5Yz8">Garden Club</a></p>\n'
        "<p>Write to contact&#64;example.org or wa.me/12125550102</p>\n"
        "<p>Old mirror: abcdefghij234567.onion &amp; https://example.net/a?b=1&amp;c=2.</p>\n"
        "</body></html>\n",
        encoding="utf-8",
    )
    import zipfile

    body = (
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        "<w:body><w:p><w:r><w:t>Call +1 310-555-0188 or see</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv</w:t></w:r></w:p>"
        "</w:body></w:document>"
    )
    with zipfile.ZipFile(dest / "notes.docx", "w") as zf:
        zf.writestr(zipfile.ZipInfo("[Content_Types].xml", (2021, 1, 1, 0, 0, 0)), "<Types/>")
        zf.writestr(zipfile.ZipInfo("word/document.xml", (2021, 1, 1, 0, 0, 0)), body)


# ---------------------------------------------------------------------------- scenario
# Three seized phones, a saved page listing invite links, twelve groups, three planted
# distributors posting benign "known" stand-ins (some deleted: only their hashes remain)
# among many ordinary members. Each phone holds the full history of its own groups.
SCENARIO_START = datetime(2017, 3, 1, 8, 0, tzinfo=UTC)
CATEGORIES = (1, 1, 1, 1, 1, 1, 2, 2, 3, None)  # of the ten known stand-ins
DELETED_KNOWN = (4, 5, 8)  # indexes of stand-ins whose files no phone kept


def scenario_world() -> tuple[dict[str, Person], list[Group], list[Event], list[Media]]:
    rng = random.Random(2017)
    area = ("702", "303", "206", "512", "305", "213", "646", "718")
    numbers = [f"+1{a}55501{n:02d}" for a in area for n in range(100)]
    rng.shuffle(numbers)
    cast = {
        "D1": Person("Dist One", "+12025550150"),
        "D2": Person("Dist Two", "+13105550151", lid="555000111222333@lid"),
        "D3": Person("Dist Three", "+14155550152"),
        "O1": Person("Owner One", "+12125550160"),
        "O2": Person("Owner Two", "+16175550161"),
        "CHATTY": Person("Chatty", numbers.pop()),
        "FWD": Person("Forwarder", numbers.pop()),
    }
    ordinary = [Person(f"Member {i:02d}", numbers.pop()) for i in range(60)]
    known = [Media(picture(1000 + i), "image", i not in DELETED_KNOWN) for i in range(10)]
    groups = []
    seats = {
        "D1": {1, 2, 3, 5, 7, 8},
        "D2": {4, 6, 8, 12},
        "D3": {9, 10, 11, 12},
        "O1": {1, 2, 3, 4, 5, 6},
        "O2": {5, 6, 7, 8, 9},
        "CHATTY": {2, 6},
        "FWD": {3},
    }
    events: list[Event] = []
    seq = 0

    def ev(e: Event) -> None:
        nonlocal seq
        seq += 1
        e.key_id = f"3EB0{seq:012X}"
        events.append(e)

    new_seed = 5000
    for n in range(1, 13):
        jid = f"1203630000000001{n:02d}@g.us"
        regulars = rng.sample(ordinary, rng.randint(8, 14))
        planted = [cast[k] for k, gs in seats.items() if n in gs]
        creator = next((p for p in planted if p.name.startswith("Dist")), regulars[0])
        created = SCENARIO_START + timedelta(days=rng.randint(0, 10), minutes=rng.randint(0, 600))
        code = (
            "".join(
                rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
                for _ in range(22)
            )
            if n <= 8
            else None
        )
        g = Group(jid, f"Circle {n:02d}", creator, created, [creator], [], code)
        groups.append(g)
        ev(Event(created, jid, creator, "system", action="created", text=g.subject))
        everyone = [p for p in planted + regulars if p is not creator]
        joiners = everyone[len(everyone) // 2 :] if code else []
        added = [p for p in everyone if p not in joiners]
        ev(
            Event(
                created + timedelta(minutes=1),
                jid,
                creator,
                "system",
                action="added",
                targets=added,
            )
        )
        t = created + timedelta(hours=2)
        for p in joiners:
            t += timedelta(minutes=rng.randint(5, 600))
            ev(Event(t, jid, p, "system", action="joined_invite"))
        g.members = [creator, *everyone]
        leaver = rng.choice(regulars[1:]) if len(regulars) > 2 else None
        talk = []
        for _ in range(rng.randint(18, 30)):
            p = rng.choice(g.members)
            if rng.random() < 0.15:
                new_seed += 1
                talk.append((p, Media(picture(new_seed), "image", True), None))
            else:
                talk.append((p, None, rng.choice(("hello", "ok", "thanks", "see you", "nice"))))
        if cast["D1"] in g.members:
            for i in range(3):
                talk.append((cast["D1"], known[(n + i) % 6], None))
            new_seed += 1
            talk.append((cast["D1"], Media(picture(new_seed), "image", True), None))
        if cast["D2"] in g.members:
            for i in range(3):
                talk.append((cast["D2"], known[3 + (n + i) % 6], None))
        if cast["D3"] in g.members and n != 12:
            for k in (0, 1, 6, 9)[n % 2 :: 2] if n % 3 else (0, 6):
                talk.append((cast["D3"], known[k], None))
        if cast["FWD"] in g.members:
            talk.append((cast["FWD"], known[0], "fwd"))
        if cast["CHATTY"] in g.members:
            for _ in range(12):
                new_seed += 1
                talk.append((cast["CHATTY"], Media(picture(new_seed), "image", True), None))
        rng.shuffle(talk)
        for p, media, text in talk:
            t += timedelta(minutes=rng.randint(10, 900))
            if media is not None:
                ev(Event(t, jid, p, "media", media=media, forwarded=text == "fwd"))
            else:
                ev(Event(t, jid, p, "text", text=text))
        if leaver is not None:
            t += timedelta(hours=3)
            ev(Event(t, jid, leaver, "system", action="left"))
            g.members.remove(leaver)
    d1, o1, o2 = cast["D1"], cast["O1"], cast["O2"]
    t = SCENARIO_START + timedelta(days=12)
    for g in groups[:6]:  # invite cards D1 sent the first phone's owner
        t += timedelta(hours=5)
        ev(Event(t, d1.jid, d1, "invite", invite=(g.jid, g.code or "", g.subject)))
    for g in groups[6:8]:  # on the iPhone the invites are plain links
        t += timedelta(hours=5)
        ev(Event(t, d1.jid, d1, "text", text=f"join https://chat.whatsapp.com/{g.code}"))
    ev(Event(t + timedelta(hours=1), d1.jid, o1, "text", text="thanks"))
    ev(Event(t + timedelta(hours=2), d1.jid, o2, "text", text="ok"))
    events.sort(key=lambda e: e.t)
    return cast, groups, events, known


def _phone_world(
    owner: Person,
    group_ids: set[int],
    partners: set[str],
    cast: dict[str, Person],
    groups: list[Group],
    events: list[Event],
) -> World:
    mine = [g for i, g in enumerate(groups, start=1) if i in group_ids]
    jids = {g.jid for g in mine}
    evs = [
        e
        for e in events
        if e.chat in jids
        or (
            e.chat in partners
            and e.sender in (owner, cast["D1"])
            and (e.kind != "invite" or owner is cast["O1"])
            and (e.kind != "text" or e.text != "thanks" or owner is cast["O1"])
            and (e.text != "ok" or owner is cast["O2"])
            and (not (e.text or "").startswith("join") or owner is cast["O2"])
        )
    ]
    people = {id(p): p for g in mine for p in g.members}
    for e in evs:
        for p in [e.sender, *e.targets]:
            if p is not None:
                people[id(p)] = p
    people[id(owner)] = owner
    return World(owner, list(people.values()), mine, evs)


def write_scenario(dest: Path) -> None:
    cast, groups, events, known = scenario_world()
    if dest.exists():
        shutil.rmtree(dest)
    d1 = cast["D1"].jid
    android = Path("data/data/com.whatsapp")
    p1 = dest / "phone1"
    w1 = _phone_world(cast["O1"], {1, 2, 3, 4, 5, 6}, {d1}, cast, groups, events)
    kept = write_android(
        w1, p1 / android / "databases", wal_after=len(w1.events) * 9 // 10, lid_people=("Dist Two",)
    )
    write_android_prefs(cast["O1"], p1 / android / "shared_prefs")
    write_files(kept, p1 / "sdcard/WhatsApp")
    p2 = dest / "phone2"
    ios = p2 / "AppDomainGroup-group.net.whatsapp.WhatsApp.shared"
    w2 = _phone_world(cast["O2"], {5, 6, 7, 8, 9}, {d1}, cast, groups, events)
    write_files(write_ios(w2, ios), ios)
    write_ios_owner(cast["O2"], ios)
    p3 = dest / "phone3"
    w3 = _phone_world(cast["D3"], {9, 10, 11, 12}, set(), cast, groups, events)
    write_files(write_legacy(w3, p3 / android / "databases"), p3 / "sdcard/WhatsApp")
    write_android_prefs(cast["D3"], p3 / android / "shared_prefs")
    site = dest / "saved_site"
    site.mkdir(parents=True)
    onion = "circlesdirectoryexample" + "a2b3c4d5e6f7g2h3i4j5k6l7m2n3o4p5q" + ".onion"
    url = f"http://{onion}/groups.html"
    links = "\n".join(
        f'<li><a href="https://chat.whatsapp.com/{g.code}">{g.subject}</a></li>'
        for g in groups
        if g.code
    )
    (site / "groups.html").write_text(
        f"<!DOCTYPE html>\n<!-- saved from url=({len(url):04d}){url} -->\n"
        f"<html><body><h1>Circles</h1>\n<ul>\n{links}\n</ul>\n</body></html>\n",
        encoding="utf-8",
    )
    vics = {
        "@odata.context": "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/"
        "$metadata#Media",
        "value": [
            {
                "MediaID": 9000 + i,
                "Category": CATEGORIES[i],
                "MD5": hashlib.md5(m.data).hexdigest(),
                "SHA1": hashlib.sha1(m.data).hexdigest(),
                "AlternativeHashes": [{"HashName": "SHA256", "HashValue": m.sha256}],
                "Series": "Series Alpha" if i < 3 else "Series Beta" if i < 5 else None,
            }
            for i, m in enumerate(known)
        ],
    }
    (dest / "known_standins_vics.json").write_text(json.dumps(vics, indent=2) + "\n")
    expected = {
        "distributors": [cast[k].jid for k in ("D1", "D2", "D3")],
        "owners": {"phone1": cast["O1"].jid, "phone2": cast["O2"].jid, "phone3": cast["D3"].jid},
        "chatty": cast["CHATTY"].jid,
        "forwarder": cast["FWD"].jid,
        "deleted_known_sha256": [known[i].sha256 for i in DELETED_KNOWN],
        "site": onion,
        "groups": len(groups),
        "invite_codes": {g.jid: g.code for g in groups if g.code},
    }
    (dest / "expected.json").write_text(json.dumps(expected, indent=2) + "\n")


def main(out: Path) -> None:
    world = unit_world()
    saved = {"Alice", "Bob", "Erin"}
    unit = out / "unit"
    kept = write_android(world, unit / "android" / "databases", wal_after=12, lid_people=("Carol",))
    write_android_prefs(world.owner, unit / "android" / "shared_prefs")
    write_files(kept, unit / "android" / "media")
    write_legacy(world, unit / "android_legacy" / "databases")
    write_android(world, unit / "android_lid" / "databases", unmapped_lids=("Carol",))
    write_ios(world, unit / "ios")
    write_ios_owner(world.owner, unit / "ios")
    for style in STYLES:
        write_text_export(world, style, out / "text", saved)
    write_direct_export(world, out / "text" / "direct")
    if (out / "lang").exists():
        shutil.rmtree(out / "lang")
    for lang in LANGS:
        for ios in (False, True):
            write_language_export(world, lang, ios, out / "lang", saved)
    write_bad_inputs(out / "bad")
    write_pages(out / "pages")
    facts = {
        "group": world.groups[0].jid,
        "owner": world.owner.jid,
        "photo_sha256": next(
            e.media.sha256 for e in world.events if e.media and e.text == "sunset"
        ),
        "video_sha256": next(e.media.sha256 for e in world.events if e.media and e.forwarded),
        "invite_code": world.groups[0].code,
    }
    (out / "unit" / "facts.json").write_text(json.dumps(facts, indent=2) + "\n")
    write_scenario(out / "scenario")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("tests/data/chats"))
