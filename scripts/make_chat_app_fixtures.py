#!/usr/bin/env python3
"""Build the synthetic fixtures of the other chat sources under tests/data/chat_apps/ (issue 15).

Everything is invented and benign (numbers reserved for fiction, US 555-01xx; generated
keys; `.onion` hosts that do not exist). Sources:

- `whatsapp_backup/`: the unit world's Android `msgstore.db` (tests/data/chats, made by
  make_chat_fixtures.py) checkpointed into one file, then encrypted as a crypt14 and a
  crypt15 backup with generated keys, and the key files as WhatsApp writes them;
- `telegram/`: an Android `cache4.db` with the real tables and TL-serialized blobs;
- `signal/`: an Android `signal.db` encrypted with SQLCipher (Signal's settings), its key;
- `browsing/`: Tor Browser `places.sqlite` and Chromium `History`, with the saved page of an
  onion site listing a Telegram invite.

Usage: .venv/bin/python scripts/make_chat_app_fixtures.py [OUT_DIR]  (default tests/data/chat_apps)
"""

# ruff: noqa: E501  (SQL statements of the real schemas read better unbroken)
from __future__ import annotations

import base64
import hashlib
import json
import shutil
import struct
import sqlite3
import sys
import tempfile
import zlib
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tantalio.chats.keys import JAVA_BYTE_ARRAY
from tantalio.chats.wacrypt import crypt15_key

ROOT = Path(__file__).resolve().parents[1]
UNIT_ANDROID = ROOT / "tests" / "data" / "chats" / "unit" / "android" / "databases"


def seeded(label: str, n: int = 32) -> bytes:
    """Deterministic bytes, so regenerating the fixtures changes nothing."""
    out = b""
    i = 0
    while len(out) < n:
        out += hashlib.sha256(f"{label}:{i}".encode()).digest()
        i += 1
    return out[:n]


# ------------------------------------------------------------------ WhatsApp crypt14/15
def _pb_bytes(field: int, data: bytes) -> bytes:
    assert len(data) < 128
    return bytes([field << 3 | 2, len(data)]) + data


def _pb_varint(field: int, value: int) -> bytes:
    assert value < 128
    return bytes([field << 3, value])


def java_key_file(payload: bytes) -> bytes:
    return JAVA_BYTE_ARRAY + len(payload).to_bytes(4, "big") + payload


def backup(plain: bytes, version: str, key32: bytes, iv: bytes, salt: bytes = b"") -> bytes:
    """A crypt14/crypt15 container of `plain` (the layout wacrypt.py documents)."""
    if version == "crypt15":
        prefix = _pb_varint(1, 1) + _pb_bytes(3, _pb_bytes(1, iv))
        aes = crypt15_key(key32)
    else:
        c14 = (
            _pb_bytes(1, b"\x00\x01")
            + _pb_bytes(2, b"\x01")
            + _pb_bytes(3, salt)
            + _pb_bytes(4, seeded("google id", 16))
            + _pb_bytes(5, iv)
        )
        prefix = _pb_varint(1, 0) + _pb_bytes(2, c14)
        aes = key32
    head = bytes([len(prefix), 0x01]) + prefix
    body = head + AESGCM(aes).encrypt(iv, zlib.compress(plain, 6), None)
    return body + hashlib.md5(body, usedforsecurity=False).digest()


def checkpointed(db: Path) -> bytes:
    """`db` with its -wal folded in: a backup holds one self-contained database."""
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / db.name
        shutil.copyfile(db, copy)
        wal = db.with_name(db.name + "-wal")
        if wal.is_file():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))
        conn = sqlite3.connect(copy)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.close()
        return copy.read_bytes()


def write_whatsapp_backups(dest: Path) -> None:
    plain = checkpointed(UNIT_ANDROID / "msgstore.db")
    (dest / "plain" / "databases").mkdir(parents=True, exist_ok=True)
    (dest / "plain" / "databases" / "msgstore.db").write_bytes(plain)
    shutil.copyfile(UNIT_ANDROID / "wa.db", dest / "plain" / "databases" / "wa.db")
    phone = dest / "phone" / "sdcard" / "WhatsApp" / "Databases"
    phone.mkdir(parents=True, exist_ok=True)
    keys = dest / "keys"
    keys.mkdir(exist_ok=True)
    root15 = seeded("crypt15 root key")
    (phone / "msgstore.db.crypt15").write_bytes(
        backup(plain, "crypt15", root15, seeded("crypt15 iv", 16))
    )
    (keys / "encrypted_backup.key").write_bytes(java_key_file(root15))
    (keys / "crypt15.hex").write_text(root15.hex() + "\n")
    key14 = seeded("crypt14 key")
    salt = seeded("crypt14 server salt")
    (phone / "msgstore-2021-01-20.1.db.crypt14").write_bytes(
        backup(plain, "crypt14", key14, seeded("crypt14 iv", 16), salt)
    )
    key_file = (
        b"\x00\x01\x01"
        + salt
        + seeded("google id salt", 16)
        + seeded("hashed google id", 32)
        + seeded("crypt14 key iv", 16)
        + key14
    )
    (keys / "key").write_bytes(java_key_file(key_file))
    (dest / "keys" / "wrong.hex").write_text(seeded("not the key").hex() + "\n")


# ---------------------------------------------------------------------------- Telegram
from tantalio.demo.telegram_write import (  # noqa: F401  (bench_chat_apps reads them here)
    TELEGRAM_SCHEMA,
    TL,
    flags_of,
    tg_channel,
    tg_chat,
    tg_chat_full,
    tg_document,
    tg_media_document,
    tg_media_photo,
    tg_message,
    tg_participant,
    tg_peer,
    tg_service,
    tg_user,
)


T0 = 1_704_103_200  # 2024-01-01 10:00 UTC
TG = {"owen": 5550100, "alice": 5550101, "bob": 5550102, "carol": 5550103, "dave": 5550104}
TG_GROUP, TG_SUPER = 4001, 1500012345
TG_INVITE = "GardenSwap2024Xy"


def telegram_messages() -> list[tuple[int, int, int, int, bytes]]:
    """(mid, dialog, date, out, data) of the Telegram world."""
    group, sup = tg_peer("chat", TG_GROUP), tg_peer("channel", TG_SUPER)
    g, s, bob = -TG_GROUP, -TG_SUPER, TG["bob"]
    return [
        (1, g, T0, 0, tg_service(1, group, T0, TG["alice"], TL().u32(0xBD47CBAD).string("Garden Swap").vector([struct.pack("<q", TG["bob"]), struct.pack("<q", TG["owen"])]).done())),
        (2, g, T0 + 60, 0, tg_message(2, group, T0 + 60, f"Welcome! Share https://t.me/+{TG_INVITE} with friends", sender=TG["alice"])),
        (3, g, T0 + 120, 0, tg_message(3, group, T0 + 120, "Tomato seedlings", sender=TG["bob"], media=tg_media_photo(880001, 48000))),
        (4, g, T0 + 180, 1, tg_message(4, group, T0 + 180, "The list", sender=TG["owen"], out=True, media=tg_media_document(tg_document(990001, "application/pdf", 12345, "seed_list.pdf")))),
        (5, g, T0 + 240, 0, tg_service(5, group, T0 + 240, TG["dave"], TL().u32(0x031224C3).i64(TG["alice"]).done(), saved_peer=True)),
        (6, g, T0 + 300, 0, tg_message(6, group, T0 + 300, "Forwarding the schedule", sender=TG["dave"], fwd_from=TG["alice"], reply_to=2)),
        (7, g, T0 + 360, 0, tg_service(7, group, T0 + 360, TG["dave"], TL().u32(0xA43F30CC).i64(TG["dave"]).done())),
        (8, g, T0 + 420, 0, tg_service(8, group, T0 + 420, TG["alice"], TL().u32(0xA43F30CC).i64(TG["bob"]).done())),
        (1, bob, T0 + 500, 0, tg_message(1, tg_peer("user", TG["owen"]), T0 + 500, "Old chat: t.me/joinchat/SeedLib00042abc", sender=bob, layer143=True)),
        (2, bob, T0 + 560, 1, tg_message(2, tg_peer("user", bob), T0 + 560, "Thanks Bob", sender=TG["owen"], out=True)),
        (3, bob, T0 + 620, 0, b"\xef\xbe\xad\xde" + b"\x00" * 12),  # a constructor not known
        (10, s, T0 + 700, 0, tg_message(10, sup, T0 + 700, "Seed library opens Saturday", media=None)),
        (11, s, T0 + 760, 0, tg_message(11, sup, T0 + 760, "Clip of the garden", sender=TG["carol"], media=tg_media_document(tg_document(990002, "video/mp4", 2_000_000, "garden.mp4", video=True)))),
        (1, (1 << 62) | 7, T0 + 800, 0, b""),  # a secret chat
    ]


def write_telegram(dest: Path) -> dict[str, object]:
    db = dest / "data" / "data" / "org.telegram.messenger" / "files" / "cache4.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(db)
    conn.executescript(TELEGRAM_SCHEMA)
    users = [
        (TG["owen"], tg_user(TG["owen"], "Owen", "Gardner", "owen_g", "12025550100", me=True)),
        (TG["alice"], tg_user(TG["alice"], "Alice", "Ames", "alice_a", "12025550101")),
        (TG["bob"], tg_user(TG["bob"], "Bob", phone="12125550102")),
        (TG["carol"], tg_user(TG["carol"], "Carol", "Chen", "carol_c")),
        (TG["dave"], tg_user(TG["dave"], "Dave")),
    ]
    conn.executemany("INSERT INTO users VALUES (?, ?, 0, ?)", [(u, f"user {u}", d) for u, d in users])
    conn.execute("INSERT INTO users VALUES (5550199, 'broken', 0, ?)", (b"\x01\x02\x03\x04",))
    conn.executemany(
        "INSERT INTO chats VALUES (?, ?, ?)",
        [
            (TG_GROUP, "garden swap", tg_chat(TG_GROUP, "Garden Swap", T0)),
            (TG_SUPER, "seed library", tg_channel(TG_SUPER, "Seed Library", T0 - 86400, "SeedLibrary")),
        ],
    )
    participants = [
        tg_participant(TG["alice"], "creator"),
        tg_participant(TG["bob"], "admin", TG["alice"], T0),
        tg_participant(TG["owen"], "member", TG["alice"], T0),
    ]
    conn.execute(
        "INSERT INTO chat_settings_v2 VALUES (?, ?, 0, 0, ?, 0, 3)",
        (TG_GROUP, tg_chat_full(TG_GROUP, participants, f"https://t.me/+{TG_INVITE}"), TG["alice"]),
    )
    conn.executemany(
        "INSERT INTO channel_users_v2 VALUES (?, ?, ?, NULL)",
        [(-TG_SUPER, TG["carol"], T0 - 3600), (-TG_SUPER, TG["owen"], T0 - 1800)],
    )
    conn.executemany(
        "INSERT INTO messages_v2 (mid, uid, read_state, send_state, date, data, out, ttl, media, is_channel) VALUES (?, ?, 1, 0, ?, ?, ?, 0, ?, ?)",
        [
            (mid, did, date, data, out, 1 if b"\xd5\x0b\x57\xdd" in data or b"\xd7\x50\x51\x69" in data else 0, 1 if did == -TG_SUPER else 0)
            for mid, did, date, out, data in telegram_messages()
        ],
    )
    conn.executemany("INSERT INTO dialogs (did, date, unread_count, last_mid) VALUES (?, ?, 0, ?)", [(-TG_GROUP, T0 + 420, 8), (TG["bob"], T0 + 620, 3), (-TG_SUPER, T0 + 760, 11)])
    conn.commit()
    conn.close()
    return {
        "owner": f"telegram:{TG['owen']}",
        "group": f"telegram:chat:{TG_GROUP}",
        "supergroup": f"telegram:channel:{TG_SUPER}",
        "invite": f"t.me/+{TG_INVITE}",
        "users": {k: f"telegram:{v}" for k, v in TG.items()},
    }


# ---------------------------------------------------------------------------- Signal
SIGNAL_SCHEMA = """
CREATE TABLE recipient (_id INTEGER PRIMARY KEY AUTOINCREMENT, type INTEGER DEFAULT 0, e164 TEXT UNIQUE DEFAULT NULL, aci TEXT UNIQUE DEFAULT NULL, pni TEXT UNIQUE DEFAULT NULL, username TEXT UNIQUE DEFAULT NULL, email TEXT UNIQUE DEFAULT NULL, group_id TEXT UNIQUE DEFAULT NULL, distribution_list_id INTEGER DEFAULT NULL, call_link_room_id TEXT DEFAULT NULL, registered INTEGER DEFAULT 0, unregistered_timestamp INTEGER DEFAULT 0, blocked INTEGER DEFAULT 0, hidden INTEGER DEFAULT 0, profile_key TEXT DEFAULT NULL, profile_given_name TEXT DEFAULT NULL, profile_family_name TEXT DEFAULT NULL, profile_joined_name TEXT DEFAULT NULL, system_given_name TEXT DEFAULT NULL, system_family_name TEXT DEFAULT NULL, system_joined_name TEXT DEFAULT NULL, system_contact_uri TEXT DEFAULT NULL, nickname_joined_name TEXT DEFAULT NULL, note TEXT DEFAULT NULL);
CREATE TABLE thread (_id INTEGER PRIMARY KEY AUTOINCREMENT, date INTEGER DEFAULT 0, meaningful_messages INTEGER DEFAULT 0, recipient_id INTEGER NOT NULL UNIQUE REFERENCES recipient (_id) ON DELETE CASCADE, read INTEGER DEFAULT 1, type INTEGER DEFAULT 0, error INTEGER DEFAULT 0, snippet TEXT, snippet_type INTEGER DEFAULT 0, snippet_uri TEXT DEFAULT NULL, archived INTEGER DEFAULT 0, status INTEGER DEFAULT 0, has_sent INTEGER DEFAULT 0, last_seen INTEGER DEFAULT 0, pinned_order INTEGER DEFAULT NULL, unread_count INTEGER DEFAULT 0, active INTEGER DEFAULT 0);
CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT, date_sent INTEGER NOT NULL, date_received INTEGER NOT NULL, date_server INTEGER DEFAULT -1, thread_id INTEGER NOT NULL REFERENCES thread (_id) ON DELETE CASCADE, from_recipient_id INTEGER NOT NULL REFERENCES recipient (_id) ON DELETE CASCADE, from_device_id INTEGER, to_recipient_id INTEGER NOT NULL REFERENCES recipient (_id) ON DELETE CASCADE, type INTEGER NOT NULL, body TEXT, read INTEGER DEFAULT 0, m_type INTEGER, m_size INTEGER, st INTEGER, receipt_timestamp INTEGER DEFAULT -1, has_delivery_receipt INTEGER DEFAULT 0, has_read_receipt INTEGER DEFAULT 0, viewed INTEGER DEFAULT 0, expires_in INTEGER DEFAULT 0, expire_started INTEGER DEFAULT 0, quote_id INTEGER DEFAULT 0, quote_author INTEGER DEFAULT 0, quote_body TEXT DEFAULT NULL, link_previews TEXT DEFAULT NULL, view_once INTEGER DEFAULT 0, remote_deleted INTEGER DEFAULT 0, server_guid TEXT DEFAULT NULL, story_type INTEGER DEFAULT 0, parent_story_id INTEGER DEFAULT 0, scheduled_date INTEGER DEFAULT -1, latest_revision_id INTEGER DEFAULT NULL, original_message_id INTEGER DEFAULT NULL, revision_number INTEGER DEFAULT 0, message_extras BLOB DEFAULT NULL);
CREATE INDEX message_thread_date_index ON message (thread_id, date_received);
CREATE TABLE groups (_id INTEGER PRIMARY KEY, group_id TEXT NOT NULL UNIQUE, recipient_id INTEGER NOT NULL UNIQUE REFERENCES recipient (_id) ON DELETE CASCADE, title TEXT DEFAULT NULL, avatar_id INTEGER DEFAULT 0, avatar_key BLOB DEFAULT NULL, avatar_content_type TEXT DEFAULT NULL, avatar_digest BLOB DEFAULT NULL, timestamp INTEGER DEFAULT 0, active INTEGER DEFAULT 1, mms INTEGER DEFAULT 0, master_key BLOB DEFAULT NULL, revision BLOB DEFAULT NULL, decrypted_group BLOB DEFAULT NULL, expected_v2_id TEXT UNIQUE DEFAULT NULL, unmigrated_v1_members TEXT DEFAULT NULL, distribution_id TEXT UNIQUE DEFAULT NULL, show_as_story_state INTEGER DEFAULT 0, last_force_update_timestamp INTEGER DEFAULT 0);
CREATE TABLE group_membership (_id INTEGER PRIMARY KEY, group_id TEXT NOT NULL REFERENCES groups (group_id) ON DELETE CASCADE, recipient_id INTEGER NOT NULL REFERENCES recipient (_id) ON DELETE CASCADE, endorsement BLOB DEFAULT NULL, UNIQUE(group_id, recipient_id));
CREATE TABLE attachment (_id INTEGER PRIMARY KEY AUTOINCREMENT, message_id INTEGER, content_type TEXT, remote_key TEXT, remote_location TEXT, remote_digest BLOB, remote_incremental_digest BLOB, remote_incremental_digest_chunk_size INTEGER DEFAULT 0, cdn_number INTEGER DEFAULT 0, transfer_state INTEGER, transfer_file TEXT DEFAULT NULL, data_file TEXT, data_size INTEGER, data_random BLOB, file_name TEXT, fast_preflight_id TEXT, voice_note INTEGER DEFAULT 0, borderless INTEGER DEFAULT 0, video_gif INTEGER DEFAULT 0, quote INTEGER DEFAULT 0, width INTEGER DEFAULT 0, height INTEGER DEFAULT 0, caption TEXT DEFAULT NULL, sticker_pack_id TEXT DEFAULT NULL, sticker_pack_key DEFAULT NULL, sticker_id INTEGER DEFAULT -1, sticker_emoji STRING DEFAULT NULL, blur_hash DEFAULT NULL, transform_properties TEXT DEFAULT NULL, display_order INTEGER DEFAULT 0, upload_timestamp INTEGER DEFAULT 0, data_hash_start TEXT DEFAULT NULL, data_hash_end TEXT DEFAULT NULL, archive_media_id TEXT DEFAULT NULL);
CREATE INDEX attachment_message_id_index ON attachment (message_id);
"""

SIGNAL_GROUP = "__signal_group__v2__!" + hashlib.sha256(b"garden signal").hexdigest()
SIGNAL_ACI = {n: f"{hashlib.md5(n.encode(), usedforsecurity=False).hexdigest()[:8]}-0000-4000-8000-00000000000{i}" for i, n in enumerate(("owen", "alice", "bob", "carol", "dave"))}


def signal_db(dest: Path, picture_sha: str) -> dict[str, object]:
    """A plain Signal database of the benign world (encrypted by `write_signal`)."""
    conn = sqlite3.connect(dest)
    conn.executescript(SIGNAL_SCHEMA)
    people = [
        (1, "owen", "+12025550100", "Owen G", "", ""),
        (2, "alice", "+12025550101", "Alice A", "Alice Ames", ""),
        (3, "bob", "+12125550102", "Bob", "", ""),
        (4, "carol", None, "Carol", "", "carol.01"),
        (6, "dave", "+14155550104", "Dave", "", ""),
    ]
    for rid, name, phone, profile, system, username in people:
        conn.execute(
            "INSERT INTO recipient (_id, type, e164, aci, username, profile_joined_name, system_joined_name, registered) VALUES (?, 0, ?, ?, ?, ?, ?, 1)",
            (rid, phone, SIGNAL_ACI[name], username or None, profile, system or None),
        )
    conn.execute("INSERT INTO recipient (_id, type, group_id) VALUES (5, 3, ?)", (SIGNAL_GROUP,))
    conn.execute("INSERT INTO groups (_id, group_id, recipient_id, title, timestamp, active, master_key) VALUES (1, ?, 5, 'Garden Signal', ?, 1, ?)", (SIGNAL_GROUP, (T0 - 86400) * 1000, seeded("master", 32)))
    conn.executemany("INSERT INTO group_membership (group_id, recipient_id) VALUES (?, ?)", [(SIGNAL_GROUP, r) for r in (1, 2, 3, 4, 6)])
    conn.executemany("INSERT INTO thread (_id, recipient_id, date) VALUES (?, ?, ?)", [(1, 5, T0 * 1000), (2, 2, T0 * 1000)])
    inbox, sent = 20 | 0x800000 | 0x200000, 23 | 0x800000 | 0x200000
    ms = T0 * 1000
    rows = [
        (1, ms + 1000, 1, 2, 5, inbox, "Morning all, see t.me/+SignalGardenX1"),
        (2, ms + 2000, 1, 3, 5, inbox, "Photos from the allotment"),
        (3, ms + 3000, 1, 1, 5, sent, "Lovely!"),
        (4, ms + 4000, 1, 2, 5, inbox | 0x10000 | 0x80000, "CgQIARAB"),  # a group update (protobuf)
        (5, ms + 5000, 1, 6, 5, inbox | 0x20000, None),  # dave quits
        (6, ms + 6000, 2, 2, 1, inbox, "Private hello"),
        (7, ms + 7000, 2, 1, 2, sent, "Hi Alice"),
        (8, ms + 8000, 99, 2, 1, inbox, "In a thread that is gone"),
    ]
    conn.executemany(
        "INSERT INTO message (_id, date_sent, date_received, thread_id, from_recipient_id, to_recipient_id, type, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [(i, d, d + 500, t, f, to, ty, b) for i, d, t, f, to, ty, b in rows],
    )
    other = hashlib.sha256(b"second benign picture").digest()
    conn.executemany(
        "INSERT INTO attachment (_id, message_id, content_type, data_file, data_size, file_name, data_hash_start, data_hash_end) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (1, 2, "image/jpeg", "/data/user/0/org.thoughtcrime.securesms/app_parts/part1.mms", 2048, "allotment1.jpg", base64.b64encode(bytes.fromhex(picture_sha)).decode(), base64.b64encode(bytes.fromhex(picture_sha)).decode()),
            (2, 2, "image/jpeg", "/data/user/0/org.thoughtcrime.securesms/app_parts/part2.mms", 1024, "allotment2.jpg", base64.b64encode(other).decode(), base64.b64encode(other).decode()),
        ],
    )
    conn.commit()
    conn.close()
    return {
        "owner": f"signal:{SIGNAL_ACI['owen']}",
        "group": "signal:group:" + SIGNAL_GROUP.rsplit("!", 1)[1],
        "accounts": {n: f"signal:{a}" for n, a in SIGNAL_ACI.items()},
        "photo_sha256": picture_sha,
        "other_sha256": other.hex(),
    }


def write_signal(dest: Path) -> dict[str, object]:
    import sqlcipher3

    picture = json.loads((ROOT / "tests" / "data" / "chats" / "unit" / "facts.json").read_text())["photo_sha256"]
    plain = dest / "plain" / "databases" / "signal.db"
    plain.parent.mkdir(parents=True, exist_ok=True)
    facts = signal_db(plain, picture)
    secret = seeded("signal database secret").hex()
    db = dest / "phone" / "data" / "data" / "org.thoughtcrime.securesms" / "databases" / "signal.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlcipher3.connect(str(plain))
    conn.execute(f"ATTACH DATABASE '{db}' AS encrypted KEY '{secret}'")
    conn.execute("PRAGMA encrypted.kdf_iter = 1")
    conn.execute("PRAGMA encrypted.cipher_page_size = 4096")
    conn.execute("SELECT sqlcipher_export('encrypted')")
    conn.execute("DETACH DATABASE encrypted")
    conn.close()
    (dest / "keys").mkdir(exist_ok=True)
    (dest / "keys" / "signal.hex").write_text(secret + "\n")
    return facts


# ---------------------------------------------------------------------------- browsing
ONION_SITE = base64.b32encode(seeded("garden onion site", 35)).decode().lower()  # 56 chars
PRTIME_MS = 1000  # Firefox for Android (application-services) counts milliseconds
WEBKIT_OFFSET_US = 11_644_473_600 * 1_000_000


def write_browsing(dest: Path) -> dict[str, object]:
    tor = dest / "data" / "data" / "org.torproject.torbrowser" / "databases" / "places.sqlite"
    tor.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(tor)
    conn.executescript(
        """
        CREATE TABLE moz_origins (id INTEGER PRIMARY KEY, prefix TEXT NOT NULL, host TEXT NOT NULL, rev_host TEXT NOT NULL, frecency INTEGER NOT NULL, UNIQUE (prefix, host));
        CREATE TABLE moz_places (id INTEGER PRIMARY KEY, url LONGVARCHAR NOT NULL, title LONGVARCHAR, url_hash INTEGER NOT NULL DEFAULT 0, description TEXT, preview_image_url TEXT, origin_id INTEGER REFERENCES moz_origins(id), frecency INTEGER NOT NULL DEFAULT -1, last_visit_date_local INTEGER NOT NULL DEFAULT 0, last_visit_date_remote INTEGER NOT NULL DEFAULT 0, guid TEXT NOT NULL UNIQUE, visit_count_local INTEGER NOT NULL DEFAULT 0, visit_count_remote INTEGER NOT NULL DEFAULT 0, hidden INTEGER DEFAULT 0 NOT NULL, typed INTEGER DEFAULT 0 NOT NULL, sync_status INTEGER NOT NULL DEFAULT 1, sync_change_counter INTEGER NOT NULL DEFAULT 0);
        CREATE TABLE moz_historyvisits (id INTEGER PRIMARY KEY, is_local INTEGER NOT NULL, from_visit INTEGER, place_id INTEGER NOT NULL, visit_date INTEGER NOT NULL, visit_type INTEGER NOT NULL, UNIQUE (place_id, visit_date));
        CREATE TABLE moz_bookmarks (id INTEGER PRIMARY KEY, fk INTEGER DEFAULT NULL, type INTEGER NOT NULL, parent INTEGER, position INTEGER NOT NULL, title TEXT, dateAdded INTEGER NOT NULL DEFAULT 0, lastModified INTEGER NOT NULL DEFAULT 0, guid TEXT NOT NULL UNIQUE, syncStatus INTEGER NOT NULL DEFAULT 0, syncChangeCounter INTEGER NOT NULL DEFAULT 1);
        """
    )
    places = [
        (1, f"http://{ONION_SITE}.onion/", "Garden links"),
        (2, f"http://{ONION_SITE}.onion/links.html", "Groups"),
        (3, "https://duckduckgo.com/?q=seed+swap", "seed swap at DuckDuckGo"),
        (4, "about:tor", "About Tor"),
    ]
    conn.executemany("INSERT INTO moz_places (id, url, title, guid) VALUES (?, ?, ?, ?)", [(i, u, t, f"guid{i:08d}") for i, u, t in places])
    visits = [(1, 1, T0 + 900), (2, 2, T0 + 960), (3, 2, T0 + 4000), (4, 3, T0 + 600), (5, 4, T0 + 500)]
    conn.executemany("INSERT INTO moz_historyvisits (id, is_local, place_id, visit_date, visit_type) VALUES (?, 1, ?, ?, 1)", [(i, p, t * PRTIME_MS) for i, p, t in visits])
    conn.commit()
    conn.close()
    chrome = dest / "data" / "data" / "com.android.chrome" / "app_chrome" / "Default" / "History"
    chrome.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(chrome)
    conn.executescript(
        """
        CREATE TABLE meta(key LONGVARCHAR NOT NULL UNIQUE PRIMARY KEY, value LONGVARCHAR);
        CREATE TABLE urls(id INTEGER PRIMARY KEY AUTOINCREMENT, url LONGVARCHAR, title LONGVARCHAR, visit_count INTEGER DEFAULT 0 NOT NULL, typed_count INTEGER DEFAULT 0 NOT NULL, last_visit_time INTEGER NOT NULL, hidden INTEGER DEFAULT 0 NOT NULL);
        CREATE TABLE visits(id INTEGER PRIMARY KEY AUTOINCREMENT, url INTEGER NOT NULL, visit_time INTEGER NOT NULL, from_visit INTEGER, external_referrer_url TEXT, transition INTEGER DEFAULT 0 NOT NULL, segment_id INTEGER, visit_duration INTEGER DEFAULT 0 NOT NULL, incremented_omnibox_typed_score BOOLEAN DEFAULT FALSE NOT NULL, opener_visit INTEGER, originator_cache_guid TEXT, originator_visit_id INTEGER, originator_from_visit INTEGER, originator_opener_visit INTEGER, is_known_to_sync BOOLEAN DEFAULT FALSE NOT NULL, consider_for_ntp_most_visited BOOLEAN DEFAULT FALSE NOT NULL, visited_link_id INTEGER DEFAULT 0 NOT NULL, app_id TEXT);
        INSERT INTO meta VALUES ('version', '67');
        """
    )
    urls = [
        (1, "https://www.torproject.org/download/", "Download Tor Browser"),
        (2, f"https://t.me/+{TG_INVITE}", "Join group chat on Telegram"),
    ]
    conn.executemany("INSERT INTO urls (id, url, title, last_visit_time) VALUES (?, ?, ?, 0)", urls)
    conn.executemany(
        "INSERT INTO visits (id, url, visit_time) VALUES (?, ?, ?)",
        [(1, 1, (T0 + 100) * 1_000_000 + WEBKIT_OFFSET_US), (2, 2, (T0 + 1000) * 1_000_000 + WEBKIT_OFFSET_US)],
    )
    conn.commit()
    conn.close()
    page = dest / "sdcard" / "Download" / "links.html"
    page.parent.mkdir(parents=True, exist_ok=True)
    url = f"http://{ONION_SITE}.onion/links.html"
    page.write_text(
        f"<!DOCTYPE html>\n<!-- saved from url=({len(url):04d}){url} -->\n<html><head><title>Groups</title></head>\n"
        f"<body><h1>Garden groups</h1>\n<p>Seed swap: <a href=\"https://t.me/+{TG_INVITE}\">t.me/+{TG_INVITE}</a></p>\n"
        "<p>Compost tips: https://chat.whatsapp.com/AbCdEfGhIjKlMnOpQrStUv</p>\n</body></html>\n"
    )
    return {"onion": f"{ONION_SITE}.onion", "invite": f"t.me/+{TG_INVITE}"}


def main(out: Path) -> None:
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    write_whatsapp_backups(out / "whatsapp_backup")
    facts: dict[str, object] = {
        "telegram": write_telegram(out / "telegram"),
        "signal": write_signal(out / "signal"),
        "browsing": write_browsing(out / "browsing"),
    }
    (out / "facts.json").write_text(json.dumps(facts, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "data" / "chat_apps")
