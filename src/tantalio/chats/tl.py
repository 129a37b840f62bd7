"""Reading Telegram's TL-serialized objects, as Telegram for Android stores them in `cache4.db`.

TL (core.telegram.org/mtproto/serialize): little-endian; every boxed object starts with its
4-byte constructor id; `int` 4 bytes, `long` 8, `double` 8; `string`/`bytes` a length (one
byte, or 0xFE and three bytes) then the data, padded to a multiple of 4; `Vector<T>` the id
0x1cb5c415, a count, the items; `flags:#` a 32-bit word whose bits say which optional fields
(`flags.N?T`) follow.

Only the objects and fields a forensic reader needs are decoded, for the constructors of the
current API schema (layer 185 on) and of layer 143 where they differ. An object whose
constructor is not one of those raises `TLUnsupported`, so the caller keeps what the table
columns tell and counts what it could not read, rather than guessing at bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

VECTOR = 0x1CB5C415
BOOL_TRUE, BOOL_FALSE = 0x997275B5, 0xBC799737


class TLError(ValueError):
    """The bytes end early or do not hold what the constructor says."""


class TLUnsupported(TLError):
    """A constructor this reader does not decode (a newer or older layer)."""

    def __init__(self, what: str, constructor: int) -> None:
        super().__init__(f"{what} constructor {constructor:#010x} not supported")
        self.constructor = constructor


_U32, _I32, _I64, _F64 = (struct.Struct(f) for f in ("<I", "<i", "<q", "<d"))


class Reader:
    __slots__ = ("data", "end", "pos")

    def __init__(self, data: bytes) -> None:
        self.data, self.pos, self.end = data, 0, len(data)

    def _at(self, n: int) -> int:
        """The position of the next `n` bytes, which are then consumed."""
        pos = self.pos
        if pos + n > self.end:
            raise TLError(f"object ends early (wanted {n} bytes at {pos})")
        self.pos = pos + n
        return pos

    def _take(self, n: int) -> bytes:
        pos = self._at(n)
        return self.data[pos : pos + n]

    def u32(self) -> int:
        return int(_U32.unpack_from(self.data, self._at(4))[0])

    def i32(self) -> int:
        return int(_I32.unpack_from(self.data, self._at(4))[0])

    def i64(self) -> int:
        return int(_I64.unpack_from(self.data, self._at(8))[0])

    def double(self) -> float:
        return float(_F64.unpack_from(self.data, self._at(8))[0])

    def bytes_(self) -> bytes:
        first = self.data[self._at(1)]
        if first == 254:
            size, head = int.from_bytes(self._take(3), "little"), 4
        else:
            size, head = first, 1
        data = self._take(size)
        self._at((-(head + size)) % 4)
        return data

    def string(self) -> str:
        return self.bytes_().decode("utf-8", errors="replace")

    def bool_(self) -> bool:
        value = self.u32()
        if value not in (BOOL_TRUE, BOOL_FALSE):
            raise TLError(f"not a Bool: {value:#010x}")
        return value == BOOL_TRUE

    def vector_count(self) -> int:
        if self.u32() != VECTOR:
            raise TLError("not a Vector")
        count = self.u32()
        if count > len(self.data):
            raise TLError(f"implausible vector of {count}")
        return count

    def longs(self) -> list[int]:
        return [self.i64() for _ in range(self.vector_count())]


def _has(flags: int, bit: int) -> bool:
    return bool(flags >> bit & 1)


# ------------------------------------------------------------------------------ peers
PEER_USER, PEER_CHAT, PEER_CHANNEL = 0x59511722, 0x36C6019A, 0xA2A5371E


@dataclass(frozen=True, slots=True)
class Peer:
    kind: str  # "user", "chat", "channel"
    id: int


PEER_KINDS = {PEER_USER: "user", PEER_CHAT: "chat", PEER_CHANNEL: "channel"}
_PEER = struct.Struct("<Iq")


def read_peer(r: Reader) -> Peer:
    cid, ident = _PEER.unpack_from(r.data, r._at(12))
    kind = PEER_KINDS.get(cid)
    if kind is None:
        raise TLUnsupported("Peer", cid)
    return Peer(kind, ident)


# ------------------------------------------------------------------------------ users
USER_EMPTY = 0xD3BC4B7A
# user#83314fca (layer 185), #215c4438, #020b1422 (later): flags, flags2, id, access_hash?0,
# first_name?1, last_name?2, username?3, phone?4, …
USER_CONSTRUCTORS = {0x83314FCA, 0x215C4438, 0x020B1422}


@dataclass(slots=True)
class User:
    id: int
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    phone: str | None = None
    is_self: bool = False
    deleted: bool = False
    bot: bool = False

    @property
    def display(self) -> str | None:
        name = " ".join(p for p in (self.first_name, self.last_name) if p)
        return name or None


def read_user(data: bytes) -> User:
    r = Reader(data)
    cid = r.u32()
    if cid == USER_EMPTY:
        return User(id=r.i64())
    if cid not in USER_CONSTRUCTORS:
        raise TLUnsupported("User", cid)
    flags = r.u32()
    r.u32()  # flags2: none of its fields come before the ones read here
    user = User(id=r.i64(), is_self=_has(flags, 10), deleted=_has(flags, 13), bot=_has(flags, 14))
    if _has(flags, 0):
        r.i64()  # access_hash
    if _has(flags, 1):
        user.first_name = r.string()
    if _has(flags, 2):
        user.last_name = r.string()
    if _has(flags, 3):
        user.username = r.string()
    if _has(flags, 4):
        user.phone = r.string()
    return user


# ------------------------------------------------------------------------------ chats
CHAT, CHAT_FORBIDDEN, CHAT_EMPTY = 0x41CBF256, 0x6592A1A7, 0x29562865
# channel#fe4478bd (layer 185): flags, flags2, id, access_hash?13, title, username?6, photo, date
CHANNEL, CHANNEL_FORBIDDEN = 0xFE4478BD, 0x17D493D5


@dataclass(slots=True)
class Chat:
    id: int
    kind: str  # "chat" (basic group), "channel" (broadcast), "supergroup"
    title: str | None = None
    username: str | None = None
    date: int | None = None
    creator: bool = False
    left: bool = False


def read_chat(data: bytes) -> Chat:
    r = Reader(data)
    cid = r.u32()
    if cid == CHAT_EMPTY:
        return Chat(id=r.i64(), kind="chat")
    if cid == CHAT_FORBIDDEN:
        return Chat(id=r.i64(), kind="chat", title=r.string(), left=True)
    if cid == CHAT:
        flags = r.u32()
        chat = Chat(id=r.i64(), kind="chat", creator=_has(flags, 0), left=_has(flags, 2))
        chat.title = r.string()
        _skip_chat_photo(r)
        r.i32()  # participants_count
        chat.date = r.i32()
        return chat
    if cid == CHANNEL_FORBIDDEN:
        flags = r.u32()
        kind = "supergroup" if _has(flags, 8) else "channel"
        chat = Chat(id=r.i64(), kind=kind, left=True)
        r.i64()
        chat.title = r.string()
        return chat
    if cid == CHANNEL:
        flags = r.u32()
        r.u32()  # flags2
        kind = "supergroup" if _has(flags, 8) else "channel"
        chat = Chat(id=r.i64(), kind=kind, creator=_has(flags, 0), left=_has(flags, 2))
        if _has(flags, 13):
            r.i64()  # access_hash
        chat.title = r.string()
        if _has(flags, 6):
            chat.username = r.string()
        _skip_chat_photo(r)
        chat.date = r.i32()
        return chat
    raise TLUnsupported("Chat", cid)


def _skip_chat_photo(r: Reader) -> None:
    cid = r.u32()
    if cid == 0x37C1011C:  # chatPhotoEmpty
        return
    if (
        cid != 0x1C6E1C11
    ):  # chatPhoto flags:# has_video photo_id:long stripped_thumb:flags.1?bytes dc_id:int
        raise TLUnsupported("ChatPhoto", cid)
    flags = r.u32()
    r.i64()
    if _has(flags, 1):
        r.bytes_()
    r.i32()


# ------------------------------------------------------------------------------ media
@dataclass(slots=True)
class Media:
    kind: str  # image, video, audio, document, sticker, contact, location, poll, webpage, other
    id: int | None = None
    mime: str | None = None
    size: int | None = None
    file_name: str | None = None
    url: str | None = None  # a web page preview's URL


PHOTO_SIZES: dict[int, str] = {
    0x0E17E23C: "empty",  # type:string
    0x75C78E60: "size",  # type w h size:int
    0x021E1AD6: "cached",  # type w h bytes
    0xE0B0BC2E: "stripped",  # type bytes
    0xFA3EFB95: "progressive",  # type w h sizes:Vector<int>
    0xD8214D41: "path",  # type bytes
}


def _photo_size(r: Reader) -> int:
    """Skip one PhotoSize; its byte size where it says so."""
    cid = r.u32()
    kind = PHOTO_SIZES.get(cid)
    if kind is None:
        raise TLUnsupported("PhotoSize", cid)
    r.string()
    if kind == "empty":
        return 0
    if kind in ("stripped", "path"):
        return len(r.bytes_())
    r.i32(), r.i32()
    if kind == "size":
        return r.i32()
    if kind == "cached":
        return len(r.bytes_())
    sizes = [r.i32() for _ in range(r.vector_count())]
    return max(sizes, default=0)


def read_photo(r: Reader) -> Media:
    cid = r.u32()
    if cid == 0x2331B22D:  # photoEmpty
        return Media("image", id=r.i64())
    if (
        cid != 0xFB197A65
    ):  # photo flags:# id access_hash file_reference date sizes video_sizes? dc_id
        raise TLUnsupported("Photo", cid)
    r.u32()
    media = Media("image", id=r.i64(), mime="image/jpeg")
    r.i64(), r.bytes_(), r.i32()
    media.size = max((_photo_size(r) for _ in range(r.vector_count())), default=None)
    return media


DOC_ATTR_FILENAME, DOC_ATTR_IMAGE, DOC_ATTR_ANIMATED = 0x15590068, 0x6C37C15C, 0x11B58939
DOC_ATTR_VIDEO, DOC_ATTR_AUDIO, DOC_ATTR_HAS_STICKERS = 0x43C57C48, 0x9852F9C6, 0x9801D2F7
DOC_ATTR_STICKER = 0x6319D612


def read_document(r: Reader) -> Media:
    cid = r.u32()
    if cid == 0x36F8C871:  # documentEmpty
        return Media("document", id=r.i64())
    if cid != 0x8FD4C4D8:  # document flags id access_hash file_reference date mime_type size:long …
        raise TLUnsupported("Document", cid)
    flags = r.u32()
    media = Media("document", id=r.i64())
    r.i64(), r.bytes_(), r.i32()
    media.mime = r.string()
    media.size = r.i64()
    if _has(flags, 0):
        for _ in range(r.vector_count()):
            _photo_size(r)
    if _has(flags, 1):
        return media  # video thumbnails: the attributes after them are not read
    r.i32()  # dc_id
    for _ in range(r.vector_count()):
        attr = r.u32()
        if attr == DOC_ATTR_FILENAME:
            media.file_name = r.string()
        elif attr == DOC_ATTR_IMAGE:
            r.i32(), r.i32()
        elif attr in (DOC_ATTR_ANIMATED, DOC_ATTR_HAS_STICKERS):
            pass
        elif attr == DOC_ATTR_VIDEO:
            vflags = r.u32()
            r.double(), r.i32(), r.i32()
            if _has(vflags, 2):
                r.i32()
            if _has(vflags, 4):
                r.double()
            if _has(vflags, 5):
                r.string()
            media.kind = "video"
        elif attr == DOC_ATTR_AUDIO:
            aflags = r.u32()
            r.i32()
            for bit in (0, 1):
                if _has(aflags, bit):
                    r.string()
            if _has(aflags, 2):
                r.bytes_()
            media.kind = "audio"
        elif attr == DOC_ATTR_STICKER:
            media.kind = "sticker"
            break  # its stickerset and mask are not needed
        else:
            break  # an attribute this reader does not know: keep what was read
    return media


def read_media(r: Reader) -> Media:
    cid = r.u32()
    if cid == 0x695150D7:  # messageMediaPhoto flags spoiler photo:flags.0?Photo ttl:flags.2?int
        flags = r.u32()
        return read_photo(r) if _has(flags, 0) else Media("image")
    if cid == 0xDD570BD5:  # messageMediaDocument flags document:flags.0?Document …
        flags = r.u32()
        media = read_document(r) if _has(flags, 0) else Media("document")
        if media.kind == "document" and media.mime:
            major = media.mime.split("/", 1)[0]
            media.kind = {"image": "image", "video": "video", "audio": "audio"}.get(
                major, "document"
            )
        return media
    if cid == 0x70322949:  # messageMediaContact
        return Media("contact")
    if cid in (0x56E0D474, 0x2EC0533F, 0xB940C666):
        return Media("location")
    if cid == 0xDDF10C3B:  # messageMediaWebPage flags webpage:WebPage
        r.u32()
        return _webpage(r)
    if cid == 0x4BD6E798:
        return Media("poll")
    return Media("other")


def _webpage(r: Reader) -> Media:
    cid = r.u32()
    # webPage#e89c45b2 flags id:long url:string …; webPageEmpty/Pending#… flags id url:flags.0?
    if cid == 0xE89C45B2:
        r.u32(), r.i64()
        return Media("webpage", url=r.string())
    if cid in (
        0x211A1788,
        0xB0D13E47,
    ):  # webPageEmpty, webPagePending: flags id:long url:flags.0?string
        flags = r.u32()
        r.i64()
        return Media("webpage", url=r.string() if _has(flags, 0) else None)
    return Media("webpage")


# ------------------------------------------------------------------------------ messages
# message#94345242 (layer 185), #9815cec8, #7600b9d3, #9cb490e9 (to layer 222): flags, flags2,
# id, from_id?8, from_boosts_applied?29, peer_id, saved_peer_id?28, fwd_from?2, via_bot_id?11,
# via_business_bot_id?flags2.0, reply_to?3, date, message, media?9, …
MESSAGE_CURRENT = {0x94345242, 0x9815CEC8, 0x7600B9D3, 0x9CB490E9}
# message#38116ee0 (layer 143): flags, id, from_id?8, peer_id, fwd_from?2, via_bot_id?11,
# reply_to?3, date, message, media?9, …
MESSAGE_LAYER_143 = 0x38116EE0
# messageService#2b085862 (layers 143-185): flags, id, from_id?8, peer_id, reply_to?3, date,
# action; #7a800e0a (layer 216 on) adds saved_peer_id?28 after peer_id.
SERVICE_OLD, SERVICE_SAVED_PEER = 0x2B085862, 0x7A800E0A
MESSAGE_EMPTY = 0x90A6CA84
_FLAGS2_ID, _FLAGS_ID = struct.Struct("<IIi"), struct.Struct("<Ii")

FWD_HEADER = 0x4E4DF4BB
REPLY_HEADERS = {0xAFBC09DB, 0x6917560B, 0xA6D57763}  # same field order; later ones add flags
REPLY_STORY = 0x0E5AF939


@dataclass(slots=True)
class TLMessage:
    id: int
    out: bool = False
    sender: Peer | None = None
    peer: Peer | None = None
    date: int | None = None
    text: str | None = None
    forwarded: bool = False
    forwarded_from: Peer | None = None
    media: Media | None = None
    action: str | None = None  # service messages: created, added, left, removed, …
    action_users: list[int] = field(default_factory=list)
    action_title: str | None = None
    media_error: str | None = None  # the media object could not be read


def _fwd_header(r: Reader) -> Peer | None:
    cid = r.u32()
    if cid != FWD_HEADER:
        raise TLUnsupported("MessageFwdHeader", cid)
    flags = r.u32()
    origin = read_peer(r) if _has(flags, 0) else None
    if _has(flags, 5):
        r.string()
    r.i32()  # date
    if _has(flags, 2):
        r.i32()
    if _has(flags, 3):
        r.string()
    if _has(flags, 4):
        read_peer(r), r.i32()
    if _has(flags, 8):
        read_peer(r)
    if _has(flags, 9):
        r.string()
    if _has(flags, 10):
        r.i32()
    if _has(flags, 6):
        r.string()
    return origin


def _reply_header(r: Reader) -> None:
    cid = r.u32()
    if cid == REPLY_STORY:
        read_peer(r), r.i32()
        return
    if cid not in REPLY_HEADERS:
        raise TLUnsupported("MessageReplyHeader", cid)
    flags = r.u32()
    if _has(flags, 4):
        r.i32()
    if _has(flags, 0):
        read_peer(r)
    if _has(flags, 5):
        _fwd_header(r)
    if _has(flags, 8):
        read_media(r)
    if _has(flags, 1):
        r.i32()
    if _has(flags, 6):
        r.string()
    if _has(flags, 7):
        raise TLUnsupported("MessageEntity vector in a reply quote", cid)
    if _has(flags, 10):
        r.i32()
    if _has(flags, 11):
        r.i32()


ACTIONS: dict[int, str] = {
    0xBD47CBAD: "created",  # messageActionChatCreate title users
    0x95D2AC92: "created",  # messageActionChannelCreate title
    0x15CEFD00: "added",  # messageActionChatAddUser users
    0xA43F30CC: "left",  # messageActionChatDeleteUser user_id (left when it is the sender)
    0x031224C3: "joined_invite",  # messageActionChatJoinedByLink inviter_id
    0xEBBCA3CB: "joined_invite",  # messageActionChatJoinedByRequest
    0xB5A1CE5A: "subject_changed",  # messageActionChatEditTitle title
    0x7FCB13A8: "icon_changed",
    0x95E3FBEF: "icon_changed",
}


def _action(r: Reader, msg: TLMessage) -> None:
    cid = r.u32()
    msg.action = ACTIONS.get(cid, "other")
    if cid == 0xBD47CBAD:
        msg.action_title = r.string()
        msg.action_users = r.longs()
    elif cid in (0x95D2AC92, 0xB5A1CE5A):
        msg.action_title = r.string()
    elif cid == 0x15CEFD00:
        msg.action_users = r.longs()
    elif cid == 0xA43F30CC:
        msg.action_users = [r.i64()]
    elif cid == 0x031224C3:
        msg.action_users = [r.i64()]  # the inviter (the link's owner)


def read_message(data: bytes) -> TLMessage:
    r = Reader(data)
    cid = r.u32()
    if cid == MESSAGE_EMPTY:
        flags = r.u32()
        msg = TLMessage(id=r.i32())
        msg.peer = read_peer(r) if _has(flags, 0) else None
        return msg
    service = cid in (SERVICE_OLD, SERVICE_SAVED_PEER)
    two = cid in MESSAGE_CURRENT
    if not service and not two and cid != MESSAGE_LAYER_143:
        raise TLUnsupported("Message", cid)
    if two:  # the hot path: flags, flags2, id in one read
        flags, flags2, ident = _FLAGS2_ID.unpack_from(r.data, r._at(12))
    else:
        flags, ident = _FLAGS_ID.unpack_from(r.data, r._at(8))
        flags2 = 0
    msg = TLMessage(id=ident, out=bool(flags & 2))
    if flags & (1 << 8):
        msg.sender = read_peer(r)
    if two and flags & (1 << 29):
        r.i32()  # from_boosts_applied
    msg.peer = read_peer(r)
    if (two or cid == SERVICE_SAVED_PEER) and flags & (1 << 28):
        read_peer(r)  # saved_peer_id
    if service:
        if _has(flags, 3):
            _reply_header(r)
        msg.date = r.i32()
        _action(r, msg)
        return msg
    if _has(flags, 2):
        msg.forwarded = True
        msg.forwarded_from = _fwd_header(r)
    if _has(flags, 11):
        r.i64()  # via_bot_id
    if two and _has(flags2, 0):
        r.i64()  # via_business_bot_id
    if _has(flags, 3):
        _reply_header(r)
    msg.date = r.i32()
    msg.text = r.string() or None
    if _has(flags, 9):
        try:
            msg.media = read_media(r)
        except TLError as exc:
            msg.media, msg.media_error = Media("other"), str(exc)
    return msg


# ------------------------------------------------------------------------------ chat full
CHAT_FULL = 0x2633421B  # chatFull (layer 185): flags id about participants chat_photo?2 …
PARTICIPANTS, PARTICIPANTS_FORBIDDEN = 0x3CBC93F8, 0x8763D3E1
PARTICIPANT, PARTICIPANT_CREATOR, PARTICIPANT_ADMIN = 0xC02D4007, 0xE46BCEE4, 0xA0933F5B
INVITE_EXPORTED = {0xA22CBD96, 0x0AB4A819}  # flags, link:string, admin_id, date, …
SOUNDS = {0x97E8BEBE: 0, 0x6F0C34DF: 0, 0x830B9AE4: 2, 0xFF6C8049: -1}  # strings, or a long


@dataclass(slots=True)
class Participant:
    user_id: int
    role: str  # member, admin, creator
    inviter_id: int | None = None
    date: int | None = None


@dataclass(slots=True)
class ChatFull:
    id: int
    about: str | None = None
    participants: list[Participant] = field(default_factory=list)
    invite_link: str | None = None


def _participant(r: Reader) -> Participant:
    cid = r.u32()
    if cid == PARTICIPANT_CREATOR:
        return Participant(r.i64(), "creator")
    if cid in (PARTICIPANT, PARTICIPANT_ADMIN):
        user, inviter, date = r.i64(), r.i64(), r.i32()
        role = "admin" if cid == PARTICIPANT_ADMIN else "member"
        return Participant(user, role, inviter, date)
    raise TLUnsupported("ChatParticipant", cid)


def _skip_sound(r: Reader) -> None:
    cid = r.u32()
    strings = SOUNDS.get(cid)
    if strings is None:
        raise TLUnsupported("NotificationSound", cid)
    if strings < 0:
        r.i64()
    for _ in range(strings):
        r.string()


def _skip_notify_settings(r: Reader) -> None:
    cid = r.u32()
    if cid != 0x99622C0C:  # peerNotifySettings flags show_previews?0 silent?1 mute_until?2 …
        raise TLUnsupported("PeerNotifySettings", cid)
    flags = r.u32()
    for bit, kind in (
        (0, "bool"),
        (1, "bool"),
        (2, "int"),
        (3, "sound"),
        (4, "sound"),
        (5, "sound"),
        (6, "bool"),
        (7, "bool"),
        (8, "sound"),
        (9, "sound"),
        (10, "sound"),
    ):
        if not _has(flags, bit):
            continue
        if kind == "bool":
            r.bool_()
        elif kind == "int":
            r.i32()
        else:
            _skip_sound(r)


def read_chat_full(data: bytes) -> ChatFull:
    """A basic group's full info (`chat_settings_v2.info`): members and its invite link."""
    r = Reader(data)
    cid = r.u32()
    if cid != CHAT_FULL:
        raise TLUnsupported("ChatFull", cid)
    flags = r.u32()
    full = ChatFull(id=r.i64())
    full.about = r.string() or None
    pid = r.u32()
    if pid == PARTICIPANTS:
        r.i64()
        full.participants = [_participant(r) for _ in range(r.vector_count())]
        r.i32()
    elif pid == PARTICIPANTS_FORBIDDEN:
        pflags = r.u32()
        r.i64()
        if _has(pflags, 0):
            full.participants = [_participant(r)]
    else:
        raise TLUnsupported("ChatParticipants", pid)
    if _has(flags, 2):
        read_photo(r)
    _skip_notify_settings(r)
    if _has(flags, 13):
        icid = r.u32()
        if icid in INVITE_EXPORTED:
            r.u32()
            full.invite_link = r.string()
    return full
