"""Write Telegram for Android's `cache4.db`: its tables and the TL-serialized blobs that
tantalio reads (layouts in `tantalio/chats/tl.py`).

Shared by the test fixtures (`scripts/make_chat_app_fixtures.py`), the chat benchmark and the
demo's chat scenario (a Telegram database on one of its phones), so that the three write the
same bytes and the parser is tested against one writer. Synthetic data only.
"""

# ruff: noqa: E501  (SQL statements of the real schema read better unbroken)
from __future__ import annotations

import struct


class TL:
    """A TL serializer for the objects tantalio reads (layouts in src/tantalio/chats/tl.py)."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def u32(self, v: int) -> TL:
        self.buf += struct.pack("<I", v & 0xFFFFFFFF)
        return self

    def i32(self, v: int) -> TL:
        self.buf += struct.pack("<i", v)
        return self

    def i64(self, v: int) -> TL:
        self.buf += struct.pack("<q", v)
        return self

    def double(self, v: float) -> TL:
        self.buf += struct.pack("<d", v)
        return self

    def bytes_(self, data: bytes) -> TL:
        head = bytes([len(data)]) if len(data) < 254 else b"\xfe" + len(data).to_bytes(3, "little")
        self.buf += head + data + b"\x00" * ((-(len(head) + len(data))) % 4)
        return self

    def string(self, text: str) -> TL:
        return self.bytes_(text.encode())

    def raw(self, data: bytes) -> TL:
        self.buf += data
        return self

    def vector(self, items: list[bytes]) -> TL:
        self.u32(0x1CB5C415).i32(len(items))
        for item in items:
            self.buf += item
        return self

    def done(self) -> bytes:
        return bytes(self.buf)


def flags_of(*bits: int) -> int:
    return sum(1 << b for b in bits)


def tg_user(
    uid: int, first: str, last: str = "", username: str = "", phone: str = "", me: bool = False
) -> bytes:
    bits = [0, 1] + ([2] if last else []) + ([3] if username else []) + ([4] if phone else [])
    bits += [10] if me else []
    t = TL().u32(0x83314FCA).u32(flags_of(*bits)).u32(0).i64(uid).i64(uid * 7919)
    t.string(first)
    if last:
        t.string(last)
    if username:
        t.string(username)
    if phone:
        t.string(phone)
    return t.u32(0x9D05049).done()  # status: userStatusEmpty (not read)


def tg_peer(kind: str, ident: int) -> bytes:
    cid = {"user": 0x59511722, "chat": 0x36C6019A, "channel": 0xA2A5371E}[kind]
    return TL().u32(cid).i64(ident).done()


CHAT_PHOTO_EMPTY = struct.pack("<I", 0x37C1011C)


def tg_chat(cid: int, title: str, date: int, creator: bool = False) -> bytes:
    t = TL().u32(0x41CBF256).u32(flags_of(0) if creator else 0).i64(cid).string(title)
    return t.raw(CHAT_PHOTO_EMPTY).i32(4).i32(date).i32(1).done()


def tg_channel(
    cid: int, title: str, date: int, username: str = "", megagroup: bool = True
) -> bytes:
    bits = [13] + ([6] if username else []) + ([8] if megagroup else [])
    t = TL().u32(0xFE4478BD).u32(flags_of(*bits)).u32(0).i64(cid).i64(cid * 31).string(title)
    if username:
        t.string(username)
    return t.raw(CHAT_PHOTO_EMPTY).i32(date).done()


def tg_chat_full(
    cid: int,
    participants: list[bytes],
    link: str,
    about: str = "Swapping seeds and cuttings",
    link_admin: int = 5550101,
) -> bytes:
    t = TL().u32(0x2633421B).u32(flags_of(13)).i64(cid).string(about)
    t.u32(0x3CBC93F8).i64(cid).vector(participants).i32(3)
    t.u32(0x99622C0C).u32(flags_of(2, 4)).i32(0).u32(0x97E8BEBE)  # notify: mute_until, sound
    t.u32(0xA22CBD96).u32(flags_of(5)).string(link).i64(link_admin).i32(1_700_000_000)
    return t.done()


def tg_participant(uid: int, role: str = "member", inviter: int = 0, date: int = 0) -> bytes:
    if role == "creator":
        return TL().u32(0xE46BCEE4).i64(uid).done()
    cid = 0xA0933F5B if role == "admin" else 0xC02D4007
    return TL().u32(cid).i64(uid).i64(inviter).i32(date).done()


def tg_photo(pid: int, size: int) -> bytes:
    sizes = [
        TL().u32(0xE0B0BC2E).string("i").bytes_(b"\x01\x28\x28stripped").done(),
        TL().u32(0x75C78E60).string("m").i32(320).i32(240).i32(size // 4).done(),
        TL()
        .u32(0xFA3EFB95)
        .string("y")
        .i32(1280)
        .i32(960)
        .vector([struct.pack("<i", v) for v in (size // 8, size // 2, size)])
        .done(),
    ]
    t = TL().u32(0xFB197A65).u32(0).i64(pid).i64(pid * 3).bytes_(b"ref").i32(1_700_000_000)
    return t.vector(sizes).i32(2).done()


def tg_document(did: int, mime: str, size: int, name: str, video: bool = False) -> bytes:
    attrs = [TL().u32(0x15590068).string(name).done()]
    if video:
        attrs.insert(0, TL().u32(0x43C57C48).u32(flags_of(1)).double(12.5).i32(640).i32(360).done())
    t = TL().u32(0x8FD4C4D8).u32(0).i64(did).i64(did * 5).bytes_(b"ref").i32(1_700_000_000)
    return t.string(mime).i64(size).i32(2).vector(attrs).done()


def tg_media_photo(pid: int, size: int) -> bytes:
    return TL().u32(0x695150D7).u32(flags_of(0)).raw(tg_photo(pid, size)).done()


def tg_media_document(doc: bytes) -> bytes:
    return TL().u32(0xDD570BD5).u32(flags_of(0)).raw(doc).done()


def tg_message(
    mid: int,
    peer: bytes,
    date: int,
    text: str,
    sender: int | None = None,
    out: bool = False,
    media: bytes | None = None,
    fwd_from: int | None = None,
    reply_to: int | None = None,
    layer143: bool = False,
) -> bytes:
    bits = ([1] if out else []) + ([8] if sender else []) + ([9] if media else [])
    bits += ([2] if fwd_from else []) + ([3] if reply_to else [])
    t = TL().u32(0x38116EE0 if layer143 else 0x94345242).u32(flags_of(*bits))
    if not layer143:
        t.u32(0)
    t.i32(mid)
    if sender:
        t.raw(tg_peer("user", sender))
    t.raw(peer)
    if fwd_from:
        t.u32(0x4E4DF4BB).u32(flags_of(0)).raw(tg_peer("user", fwd_from)).i32(date - 3600)
    if reply_to:
        t.u32(0xAFBC09DB).u32(flags_of(4)).i32(reply_to)
    t.i32(date).string(text)
    if media:
        t.raw(media)
    return t.done()


def tg_service(
    mid: int, peer: bytes, date: int, sender: int, action: bytes, saved_peer: bool = False
) -> bytes:
    t = TL().u32(0x7A800E0A if saved_peer else 0x2B085862).u32(flags_of(8)).i32(mid)
    return t.raw(tg_peer("user", sender)).raw(peer).i32(date).raw(action).done()


TELEGRAM_SCHEMA = """
CREATE TABLE users(uid INTEGER PRIMARY KEY, name TEXT, status INTEGER, data BLOB);
CREATE TABLE chats(uid INTEGER PRIMARY KEY, name TEXT, data BLOB);
CREATE TABLE contacts(uid INTEGER PRIMARY KEY, mutual INTEGER);
CREATE TABLE messages_v2(mid INTEGER, uid INTEGER, read_state INTEGER, send_state INTEGER, date INTEGER, data BLOB, out INTEGER, ttl INTEGER, media INTEGER, replydata BLOB, imp INTEGER, mention INTEGER, forwards INTEGER, replies_data BLOB, thread_reply_id INTEGER, is_channel INTEGER, reply_to_message_id INTEGER, custom_params BLOB, group_id INTEGER, reply_to_story_id INTEGER, PRIMARY KEY(mid, uid));
CREATE INDEX uid_mid_read_out_idx_messages_v2 ON messages_v2(uid, mid, read_state, out);
CREATE INDEX uid_date_mid_idx_messages_v2 ON messages_v2(uid, date, mid);
CREATE TABLE dialogs(did INTEGER PRIMARY KEY, date INTEGER, unread_count INTEGER, last_mid INTEGER, inbox_max INTEGER, outbox_max INTEGER, last_mid_i INTEGER, unread_count_i INTEGER, pts INTEGER, date_i INTEGER, pinned INTEGER, flags INTEGER, folder_id INTEGER, data BLOB, unread_reactions INTEGER, last_mid_group INTEGER, ttl_period INTEGER);
CREATE TABLE chat_settings_v2(uid INTEGER PRIMARY KEY, info BLOB, pinned INTEGER, online INTEGER, inviter INTEGER, links INTEGER, participants_count INTEGER);
CREATE TABLE channel_users_v2(did INTEGER, uid INTEGER, date INTEGER, data BLOB, PRIMARY KEY(did, uid));
CREATE TABLE media_v4(mid INTEGER, uid INTEGER, date INTEGER, type INTEGER, data BLOB, PRIMARY KEY(mid, uid, type));
CREATE TABLE enc_chats(uid INTEGER PRIMARY KEY, user INTEGER, name TEXT, data BLOB, g BLOB, authkey BLOB, ttl INTEGER, layer INTEGER, seq_in INTEGER, seq_out INTEGER, use_count INTEGER, exchange_id INTEGER, key_date INTEGER, fprint INTEGER, fauthkey BLOB, khash BLOB, in_seq_no INTEGER, admin_id INTEGER, mtproto_seq INTEGER);
CREATE TABLE keyvalue(id TEXT PRIMARY KEY, value TEXT);
CREATE TABLE params(id INTEGER PRIMARY KEY, seq INTEGER, pts INTEGER, date INTEGER, qts INTEGER, lsv INTEGER, sg INTEGER, pbytes BLOB);
"""
