"""A benign three-phone chat scenario in the languages of the case (issue 15), for the demo
and the tests: a phone from Spain (Spanish Android text exports of two groups, exported with
their media, and a small `msgstore.db` that maps a LID member to their number), a phone from
Brazil (Portuguese iOS text exports, its clock 7 minutes fast), and a phone set to English
(a current-schema `msgstore.db` whose groups show members by `@lid`, one of them mapped
on this phone, one only on the Spanish phone). The English phone also carries Telegram
(`cache4.db`): a group of the same three distributors, who post the same stand-ins there
(Telegram keeps no hash of media), and whose invite link Dist Uno posts in a WhatsApp group;
their Telegram accounts carry the same phone numbers as their WhatsApp ones, so the graph
links the two apps (`same_number` edges) without merging the accounts.

Three planted distributors post benign "known" stand-ins (generated pictures listed in a
VICS hash set) across six groups, among ordinary members who chat and post new pictures; a
"chatty" member posts many new pictures, a forwarder one known picture. Each stand-in is
first posted by one planted distributor and then forwarded into other groups on other
phones, so that phone-local times (Madrid, São Paulo) put the wrong person first unless
the clocks are aligned.

`build_chat_phones(root)` is the hook: it writes every phone of the scenario (each builder
in `PHONE_BUILDERS` writes one, from the shared `World`) and returns what was planted.
Another app's database joins the scenario by appending a builder.
"""

from __future__ import annotations

import base64
import hashlib
import random
import sqlite3
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tantalio.demo import synth

START = datetime(2024, 2, 5, 8, 0, tzinfo=UTC)
MADRID = timedelta(hours=1)  # CET in February
SAO_PAULO = timedelta(hours=-3, minutes=7)  # BRT, and the phone's clock 7 minutes fast
CASE = "OP-LENGUAS"


@dataclass(eq=False)
class Person:
    name: str
    phone: str  # E.164
    lid: str | None = None

    @property
    def jid(self) -> str:
        return f"{self.phone.lstrip('+')}@s.whatsapp.net"

    @property
    def display(self) -> str:
        """How a phone shows an unsaved number (grouped in threes after the country code)."""
        digits = self.phone.lstrip("+")
        cc = 2 if digits[:2] in ("34", "55", "44") else 1
        rest = digits[cc:]
        return f"+{digits[:cc]} " + " ".join(rest[i : i + 3] for i in range(0, len(rest), 3))


@dataclass(eq=False)
class Post:
    t: datetime  # UTC
    group: ChatGroup
    sender: Person | None
    kind: str  # text, media, created, added, joined
    text: str | None = None
    media: bytes | None = None
    targets: list[Person] = field(default_factory=list)
    forwarded: bool = False
    key_id: str = ""


@dataclass(eq=False)
class ChatGroup:
    jid: str
    subject: str
    lang: str  # es, pt, en
    creator: Person
    members: list[Person]
    created: datetime


@dataclass
class World:
    cast: dict[str, Person]
    groups: list[ChatGroup]
    posts: list[Post]
    known: list[bytes]
    first_uploaders: dict[str, str]  # stand-in sha256 -> JID


@dataclass
class ChatScenario:
    root: Path
    case: str
    phones: dict[str, Path]  # exhibit label -> folder to import
    hashset: Path  # VICS 2.0 list of the stand-ins
    distributors: list[str]  # planted, JIDs
    first_uploaders: dict[str, str]  # stand-in sha256 -> JID of its first poster
    lids: dict[str, str]  # planted LID members: lid -> phone JID
    chatty: str = ""
    forwarder: str = ""
    telegram_group: str = ""  # the Telegram group's key
    telegram_invite: str = ""  # its invite link as stored (`t.me/+…`), posted on WhatsApp
    telegram_accounts: dict[str, str] = field(default_factory=dict)  # WhatsApp JID -> Telegram


PhoneBuilder = Callable[[World, Path], tuple[str, Path]]


def _jpeg(rng: random.Random) -> bytes:
    return synth.jpeg_bytes(synth.picture(rng, 160, 120), 80)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------------------ the world
def build_world(seed: int = 2026) -> World:
    rng = random.Random(seed)
    cast = {
        "D1": Person("Dist Uno", "+34612000101"),
        "D2": Person("Dist Dois", "+5511912000102", lid="204000000000102@lid"),
        "D3": Person("Dist Three", "+447700900103", lid="204000000000103@lid"),
        "OES": Person("Lucía", "+34612000110"),
        "OBR": Person("João", "+5511912000111"),
        "OEN": Person("Sam", "+447700900112"),
        "CHATTY": Person("Charla", "+34612000120"),
        "FWD": Person("Reenvío", "+34612000121"),
    }
    ordinary = [Person(f"Miembro {i:02d}", f"+346120002{i:02d}") for i in range(20)]
    ordinary += [Person(f"Membro {i:02d}", f"+55119120002{i:02d}") for i in range(20)]
    ordinary += [Person(f"Member {i:02d}", f"+4477009002{i:02d}") for i in range(20)]
    c = cast
    plan = (  # jid, subject, language, planted members
        (
            "G1",
            "Amigos del Parque",
            "es",
            [c["D1"], c["D2"], c["OES"], c["OEN"], c["CHATTY"], c["FWD"]],
        ),
        ("G2", "Intercambio", "es", [c["D1"], c["D3"], c["OES"]]),
        ("G3", "Turma da Praia", "pt", [c["D2"], c["D1"], c["OBR"], c["OEN"]]),
        ("G4", "Galera", "pt", [c["D2"], c["D3"], c["OBR"]]),
        ("G5", "Night Owls", "en", [c["D3"], c["D2"], c["OEN"]]),
        ("G6", "Photo Swap", "en", [c["D1"], c["D2"], c["OEN"]]),
    )
    pools = {"es": ordinary[:20], "pt": ordinary[20:40], "en": ordinary[40:]}
    groups: dict[str, ChatGroup] = {}
    posts: list[Post] = []
    for n, (gid, subject, lang, planted) in enumerate(plan, start=1):
        regulars = rng.sample(pools[lang], 8)
        created = START + timedelta(hours=n * 3)
        g = ChatGroup(f"1203630000002000{n:02d}@g.us", subject, lang, planted[0], [], created)
        g.members = [*planted, *regulars]
        groups[gid] = g
        posts.append(Post(created, g, g.creator, "created", text=subject))
        added = [p for p in g.members[1:] if p not in regulars[4:]]
        posts.append(Post(created + timedelta(minutes=1), g, g.creator, "added", targets=added))
        for i, p in enumerate(regulars[4:]):
            posts.append(Post(created + timedelta(minutes=30 + 7 * i), g, p, "joined"))
        t = created + timedelta(hours=2)
        for _ in range(24):  # ordinary talk and new pictures over the following days
            t += timedelta(minutes=rng.randint(40, 400))
            p = rng.choice(regulars + planted[1:])
            if rng.random() < 0.2:
                posts.append(Post(t, g, p, "media", media=_jpeg(rng)))
            else:
                words = {
                    "es": ("hola", "vale", "gracias", "buenas"),
                    "pt": ("oi", "valeu", "beleza", "bom dia"),
                }
                text = rng.choice(words.get(lang, ("hi", "ok", "thanks", "morning")))
                posts.append(Post(t, g, p, "text", text=f"{text} {rng.randint(1, 99)}"))
        if gid == "G1":
            for _ in range(14):
                t += timedelta(minutes=rng.randint(20, 90))
                posts.append(Post(t, g, c["CHATTY"], "media", media=_jpeg(rng)))
    known = [_jpeg(rng) for _ in range(6)]
    d1, d2, d3 = c["D1"], c["D2"], c["D3"]
    gs = groups

    def day(d: int, hh: int, mm: int = 0) -> datetime:
        return START + timedelta(days=d, hours=hh - 8, minutes=mm)

    spread = (  # stand-in, [(when, group, who, forwarded)], the first post first
        (
            0,
            [
                (day(3, 20), "G1", d1, False),
                (day(3, 20, 30), "G3", d2, True),
                (day(3, 21), "G5", d3, True),
            ],
        ),
        (
            1,
            [
                (day(4, 10), "G4", d2, False),
                (day(4, 10, 40), "G2", d1, True),
                (day(4, 11), "G6", d1, True),
            ],
        ),
        (
            2,
            [
                (day(5, 8), "G5", d3, False),
                (day(5, 9, 30), "G4", d2, True),
                (day(5, 9, 50), "G2", d3, True),
                (day(5, 10, 20), "G4", d3, True),
            ],
        ),
        (
            3,
            [
                (day(6, 14), "G2", d1, False),
                (day(6, 14, 20), "G4", d3, True),
                (day(6, 15), "G6", d1, True),
            ],
        ),
        (
            4,
            [
                (day(7, 16), "G3", d2, False),
                (day(7, 16, 30), "G1", d1, True),
                (day(7, 16, 45), "G6", d1, True),
                (day(7, 17, 30), "G5", d3, True),
                (day(7, 18), "G2", d3, True),
            ],
        ),
        (
            5,
            [
                (day(8, 9), "G5", d2, False),
                (day(8, 9, 10), "G6", d1, True),
                (day(8, 9, 20), "G1", d1, True),
                (day(8, 10), "G3", d2, True),
            ],
        ),
    )
    first: dict[str, str] = {}
    for k, chain in spread:
        for when, gid, who, fwd in chain:
            posts.append(Post(when, gs[gid], who, "media", media=known[k], forwarded=fwd))
        first[_sha256(known[k])] = chain[0][2].jid
    posts.append(Post(day(9, 12), gs["G1"], c["FWD"], "media", media=known[0], forwarded=True))
    posts.sort(key=lambda p: p.t)
    for i, post in enumerate(posts, start=1):
        post.key_id = f"3EB0{seed:04d}{i:08X}"
    # The bridge to Telegram: Dist Uno posts the Telegram group's invite on WhatsApp.
    bridge = Post(day(2, 18), gs["G6"], d1, "text", text=f"más fotos: https://{TELEGRAM_INVITE}")
    bridge.key_id = "3EB0TELEGRAM0001"
    posts.append(bridge)
    posts.sort(key=lambda p: p.t)
    return World(cast, list(groups.values()), posts, known, first)


# ------------------------------------------------------------------------------ text exports
_EXPORT = {
    "es": {
        "created": "{who} creó el grupo “{subject}”",
        "added": "{who} añadió a {targets}",
        "added_you": "{who} te añadió",
        "joined": "{who} se unió usando el enlace de invitación de este grupo",
        "and": " y ",
        "attached": "{name} (archivo adjunto)",
        "e2e": "Los mensajes y las llamadas están cifrados de extremo a extremo. Nadie fuera de "
        "este chat, ni siquiera WhatsApp, puede leerlos ni escucharlos.",
        "file": "Chat de WhatsApp con {subject}.txt",
    },
    "pt": {
        "created": "{who} criou o grupo “{subject}”",
        "added": "{who} adicionou {targets}",
        "added_you": "{who} adicionou você",
        "joined": "{who} entrou usando o link de convite deste grupo",
        "and": " e ",
        "attached": "<anexado: {name}>",
        "e2e": "As mensagens e as chamadas são protegidas com a criptografia de ponta a ponta.",
        "folder": "Conversa do WhatsApp - {subject}",
    },
}


def write_export(
    world: World,
    g: ChatGroup,
    owner: Person,
    saved: set[Person],
    folder: Path,
    clock: timedelta,
    ios: bool,
) -> None:
    """One group's "Export chat" with its media, as the owner's phone writes it."""
    words = _EXPORT[g.lang]
    folder.mkdir(parents=True, exist_ok=True)
    lrm = "\u200e"
    lines: list[str] = []

    def stamp(t: datetime) -> str:
        local = (t + clock).replace(tzinfo=None)
        if ios:
            return f"[{local:%d/%m/%Y %H:%M:%S}]"
        return f"{local.day}/{local.month}/{local:%y}, {local:%H:%M}"

    def label(p: Person) -> str:
        return p.name if p in saved else p.display

    def system(t: datetime, text: str) -> None:
        lines.append(f"{stamp(t)} {g.subject}: {lrm}{text}" if ios else f"{stamp(t)} - {text}")

    system(g.created, words["e2e"])
    n = 0
    for p in world.posts:
        if p.group is not g or p.sender is None:
            continue
        who = label(p.sender)
        if p.kind == "created":
            system(p.t, words["created"].format(who=who, subject=g.subject))
        elif p.kind == "added":
            if owner in p.targets:
                system(p.t, words["added_you"].format(who=who))
            others = [label(x) for x in p.targets if x is not owner]
            if others:
                listed = (
                    ", ".join(others[:-1]) + words["and"] + others[-1]
                    if len(others) > 1
                    else others[0]
                )
                system(p.t, words["added"].format(who=who, targets=listed))
        elif p.kind == "joined":
            system(p.t, words["joined"].format(who=who))
        elif p.kind == "text":
            sep = " " if ios else " - "
            lines.append(
                f"{stamp(p.t)}{sep}{who if p.sender is not owner else owner.name}: {p.text}"
            )
        elif p.kind == "media" and p.media is not None:
            n += 1
            local = (p.t + clock).replace(tzinfo=None)
            if ios:
                name = f"{n:08d}-PHOTO-{local:%Y-%m-%d-%H-%M-%S}.jpg"
                body = lrm + words["attached"].format(name=name)
                lines.append(f"{lrm}{stamp(p.t)} {who}: {body}")
            else:
                name = f"IMG-{local:%Y%m%d}-WA{n:04d}.jpg"
                lines.append(f"{stamp(p.t)} - {who}: " + words["attached"].format(name=name))
            (folder / name).write_bytes(p.media)
    name = "_chat.txt" if ios else words["file"].format(subject=g.subject)
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


# ------------------------------------------------------------------------------ msgstore.db
_DDL = """
CREATE TABLE jid (_id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, server TEXT NOT NULL,
  agent INTEGER, device INTEGER, type INTEGER, raw_string TEXT);
CREATE TABLE chat (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid_row_id INTEGER UNIQUE, hidden INTEGER,
  subject TEXT, created_timestamp INTEGER, group_type INTEGER);
CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT, chat_row_id INTEGER NOT NULL,
  from_me INTEGER NOT NULL, key_id TEXT NOT NULL, sender_jid_row_id INTEGER, status INTEGER,
  timestamp INTEGER, received_timestamp INTEGER, message_type INTEGER, text_data TEXT,
  sort_id INTEGER NOT NULL DEFAULT 0);
CREATE TABLE message_media (message_row_id INTEGER PRIMARY KEY, chat_row_id INTEGER,
  file_path TEXT, file_size INTEGER, mime_type TEXT, file_length INTEGER, media_name TEXT,
  file_hash TEXT, enc_file_hash TEXT, media_caption TEXT);
CREATE TABLE jid_map (lid_row_id INTEGER PRIMARY KEY NOT NULL, jid_row_id INTEGER NOT NULL,
  sort_id INTEGER NOT NULL DEFAULT 0);
CREATE TABLE lid_display_name (lid_row_id INTEGER PRIMARY KEY NOT NULL, display_name TEXT,
  username TEXT);
CREATE TABLE group_participant_user (_id INTEGER PRIMARY KEY AUTOINCREMENT,
  group_jid_row_id INTEGER NOT NULL, user_jid_row_id INTEGER NOT NULL, rank INTEGER NOT NULL,
  pending INTEGER NOT NULL);
CREATE TABLE message_system (message_row_id INTEGER PRIMARY KEY, action_type INTEGER NOT NULL);
CREATE TABLE message_system_chat_participant (message_row_id INTEGER, user_jid_row_id INTEGER);
CREATE TABLE message_forwarded (message_row_id INTEGER PRIMARY KEY, forward_score INTEGER);
CREATE TABLE message_group_invite (message_row_id INTEGER PRIMARY KEY,
  group_jid_row_id INTEGER NOT NULL, admin_jid_row_id INTEGER NOT NULL, group_name TEXT,
  invite_code TEXT NOT NULL, expiration INTEGER NOT NULL, invite_time INTEGER,
  expired INTEGER NOT NULL, group_type INTEGER);
"""
_ACTION = {"created": 11, "added": 12, "joined": 20}


class _Msgstore:
    """A current-schema Android msgstore.db (and its wa.db) written from the world."""

    def __init__(self, dest: Path, owner: Person, mapped: set[Person], unmapped: set[Person]):
        dest.mkdir(parents=True, exist_ok=True)
        self.dest, self.owner, self.mapped, self.unmapped = dest, owner, mapped, unmapped
        (dest / "msgstore.db").unlink(missing_ok=True)
        self.conn = sqlite3.connect(dest / "msgstore.db")
        self.conn.executescript(_DDL)
        self.rows: dict[str, int] = {}
        self.chats: dict[str, int] = {}

    def jid(self, jid: str) -> int:
        if jid not in self.rows:
            user, server = jid.split("@")
            cur = self.conn.execute(
                "INSERT INTO jid (user, server, raw_string) VALUES (?, ?, ?)", (user, server, jid)
            )
            self.rows[jid] = int(cur.lastrowid or 0)
        return self.rows[jid]

    def person(self, p: Person) -> int:
        """A member's row: their lid for LID members (mapped, or named only), else the number."""
        if p is self.owner:
            return -1
        if p.lid and p in self.unmapped:
            row = self.jid(p.lid)
            self.conn.execute(
                "INSERT OR IGNORE INTO lid_display_name (lid_row_id, display_name) VALUES (?, ?)",
                (row, p.name),
            )
            return row
        if p.lid and p in self.mapped:
            row = self.jid(p.lid)
            self.conn.execute(
                "INSERT OR IGNORE INTO jid_map (lid_row_id, jid_row_id) VALUES (?, ?)",
                (row, self.jid(p.jid)),
            )
            return row
        return self.jid(p.jid)

    def chat(self, jid: str, subject: str | None, created: datetime | None) -> int:
        if jid not in self.chats:
            cur = self.conn.execute(
                "INSERT INTO chat (jid_row_id, subject, created_timestamp) VALUES (?, ?, ?)",
                (self.jid(jid), subject, _ms(created) if created else None),
            )
            self.chats[jid] = int(cur.lastrowid or 0)
        return self.chats[jid]

    def group(self, g: ChatGroup) -> None:
        self.chat(g.jid, g.subject, g.created)
        for p in g.members:
            rank = 2 if p is g.creator else 0
            self.conn.execute(
                "INSERT INTO group_participant_user (group_jid_row_id, user_jid_row_id, rank,"
                " pending) VALUES (?, ?, ?, 0)",
                (self.jid(g.jid), self.person(p), rank),
            )

    def message(self, chat: int, p: Post, text: str | None = None) -> None:
        from_me = p.sender is self.owner
        sender = 0 if from_me or p.sender is None else self.person(p.sender)
        system = p.kind in _ACTION
        mtype = 7 if system else 1 if p.media else 0
        cur = self.conn.execute(
            "INSERT INTO message (chat_row_id, from_me, key_id, sender_jid_row_id, timestamp,"
            " message_type, text_data) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (chat, int(from_me), p.key_id, sender, _ms(p.t), mtype, text or p.text),
        )
        mid = cur.lastrowid
        if system:
            self.conn.execute("INSERT INTO message_system VALUES (?, ?)", (mid, _ACTION[p.kind]))
            for t in p.targets:
                self.conn.execute(
                    "INSERT INTO message_system_chat_participant VALUES (?, ?)",
                    (mid, self.person(t)),
                )
        if p.media is not None:
            digest = base64.b64encode(hashlib.sha256(p.media).digest()).decode()
            self.conn.execute(
                "INSERT INTO message_media (message_row_id, chat_row_id, file_path, file_size,"
                " mime_type, file_hash) VALUES (?, ?, ?, ?, 'image/jpeg', ?)",
                (mid, chat, f"Media/WhatsApp Images/IMG-{p.key_id}.jpg", len(p.media), digest),
            )
        if p.forwarded:
            self.conn.execute("INSERT INTO message_forwarded VALUES (?, 1)", (mid,))

    def close(self, contacts: list[Person]) -> None:
        self.conn.commit()
        self.conn.close()
        (self.dest / "wa.db").unlink(missing_ok=True)
        wa = sqlite3.connect(self.dest / "wa.db")
        wa.execute(
            "CREATE TABLE wa_contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid TEXT NOT NULL,"
            " is_whatsapp_user BOOLEAN NOT NULL, number TEXT, display_name TEXT, wa_name TEXT)"
        )
        for p in contacts:
            wa.execute(
                "INSERT INTO wa_contacts (jid, is_whatsapp_user, number, display_name, wa_name)"
                " VALUES (?, 1, ?, ?, ?)",
                (p.jid, p.phone, p.name, p.name),
            )
        wa.commit()
        wa.close()


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def _prefs(owner: Person, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "com.whatsapp_preferences_light.xml").write_text(
        "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n"
        f'    <string name="registration_jid">{owner.jid}</string>\n'
        f'    <string name="push_name">{owner.name}</string>\n</map>\n',
        encoding="utf-8",
    )


# ------------------------------------------------------------------------------ the phones
def spanish_phone(world: World, root: Path) -> tuple[str, Path]:
    """Lucía's Android: exports of her two Spanish groups (with media), and the phone's
    database, which holds a direct chat with Dist Dois under his lid, mapped to his number."""
    c = world.cast
    phone = root / "phone-es"
    saved = {c["D2"], c["CHATTY"]}
    for g in world.groups:
        if g.lang == "es":
            folder = phone / "Download" / g.subject
            write_export(world, g, c["OES"], saved, folder, MADRID, ios=False)
    db = _Msgstore(phone / "data/data/com.whatsapp/databases", c["OES"], {c["D2"]}, set())
    chat = db.chat(c["D2"].lid or c["D2"].jid, None, None)
    hello = Post(START + timedelta(days=2, hours=3), world.groups[0], c["D2"], "text")
    hello.key_id = "3EB0ES000001"
    db.message(chat, hello, "hola, ¿te paso el enlace?")
    db.close([c["D2"], c["CHATTY"]])
    _prefs(c["OES"], phone / "data/data/com.whatsapp/shared_prefs")
    return "phone-es", phone


def brazilian_phone(world: World, root: Path) -> tuple[str, Path]:
    """João's iPhone: exports of his two Portuguese groups (with media); its clock runs 7
    minutes fast on São Paulo time."""
    c = world.cast
    phone = root / "phone-br"
    for g in world.groups:
        if g.lang == "pt":
            folder = phone / "Files" / _EXPORT["pt"]["folder"].format(subject=g.subject)
            write_export(world, g, c["OBR"], {c["OEN"]}, folder, SAO_PAULO, ios=True)
    return "phone-br", phone


def english_phone(world: World, root: Path) -> tuple[str, Path]:
    """Sam's Android, set to English: the database of four groups (two shared with the
    other phones); Dist Three shows as a lid this phone maps, Dist Dois as a lid it cannot."""
    c = world.cast
    phone = root / "phone-en"
    held = [g for g in world.groups if c["OEN"] in g.members]
    db = _Msgstore(phone / "data/data/com.whatsapp/databases", c["OEN"], {c["D3"]}, {c["D2"]})
    for g in held:
        db.group(g)
    for p in world.posts:
        if p.group in held:
            db.message(db.chats[p.group.jid], p)
    db.close([p for g in held for p in g.members if p is not c["D2"]])
    _prefs(c["OEN"], phone / "data/data/com.whatsapp/shared_prefs")
    return "phone-en", phone


# ------------------------------------------------------------------------------ Telegram
TELEGRAM_GROUP = 7_700_001  # a basic group's id
TELEGRAM_INVITE = "t.me/+FotosSinFrontera24"
_TG_IDS = {"OEN": 6_100_000_112, "D1": 6_100_000_101, "D2": 6_100_000_102, "D3": 6_100_000_103}


def _tg_id(p: Person, world: World) -> int:
    key = next(k for k, v in world.cast.items() if v is p)
    return _TG_IDS[key]


def telegram_on_english_phone(world: World, root: Path) -> tuple[str, Path]:
    """Sam's Android also runs Telegram: its `cache4.db` holds a basic group that Dist Uno
    created for the three distributors and Sam, whose invite link Dist Uno posted on
    WhatsApp; the distributors post the stand-ins there too, as photos (Telegram stores no
    hash of them). Each Telegram user carries the phone number of their WhatsApp account."""
    from tantalio.demo import telegram_write as tw

    c = world.cast
    phone = root / "phone-en"
    db = phone / "data/data/org.telegram.messenger/files/cache4.db"
    db.parent.mkdir(parents=True, exist_ok=True)
    db.unlink(missing_ok=True)
    conn = sqlite3.connect(db)
    conn.executescript(tw.TELEGRAM_SCHEMA)
    people = [c["OEN"], c["D1"], c["D2"], c["D3"]]
    ids = {p.name: _tg_id(p, world) for p in people}
    conn.executemany(
        "INSERT INTO users VALUES (?, ?, 0, ?)",
        [
            (
                ids[p.name],
                p.name.lower(),
                tw.tg_user(
                    ids[p.name],
                    p.name.split()[0],
                    " ".join(p.name.split()[1:]),
                    phone=p.phone.lstrip("+"),
                    me=p is c["OEN"],
                ),
            )
            for p in people
        ],
    )
    created = START + timedelta(days=2, hours=2)
    t0 = int(created.timestamp())
    conn.execute(
        "INSERT INTO chats VALUES (?, ?, ?)",
        (TELEGRAM_GROUP, "fotos", tw.tg_chat(TELEGRAM_GROUP, "Fotos Sin Frontera", t0)),
    )
    d1 = ids[c["D1"].name]
    participants = [tw.tg_participant(d1, "creator")] + [
        tw.tg_participant(ids[p.name], "member", d1, t0) for p in people if p is not c["D1"]
    ]
    link = "https://" + TELEGRAM_INVITE
    conn.execute(
        "INSERT INTO chat_settings_v2 VALUES (?, ?, 0, 0, ?, 0, ?)",
        (
            TELEGRAM_GROUP,
            tw.tg_chat_full(TELEGRAM_GROUP, participants, link, "fotos", link_admin=d1),
            d1,
            len(participants),
        ),
    )
    peer = tw.tg_peer("chat", TELEGRAM_GROUP)
    members = [ids[p.name] for p in people if p is not c["D1"]]
    create = tw.TL().u32(0xBD47CBAD).string("Fotos Sin Frontera")
    create.vector([struct.pack("<q", m) for m in members])
    rows: list[tuple[int, int, int, bytes]] = [
        (1, t0, 0, tw.tg_service(1, peer, t0, d1, create.done()))
    ]
    talk = [("D1", 30, "bienvenidos"), ("D2", 45, "valeu"), ("D3", 60, "thanks")]
    for who, minutes, text in talk:
        mid, when = len(rows) + 1, t0 + minutes * 60
        sender = ids[c[who].name]
        rows.append((mid, when, 0, tw.tg_message(mid, peer, when, text, sender=sender)))
    for k, data in enumerate(world.known):  # each stand-in, from its first poster, a day on
        first = next(p for p in world.posts if p.media is data)
        assert first.sender is not None
        sender = ids[first.sender.name]
        mid, when = len(rows) + 1, int((first.t + timedelta(days=1)).timestamp())
        media = tw.tg_media_photo(880_000 + k, len(data))
        rows.append((mid, when, 0, tw.tg_message(mid, peer, when, "", sender=sender, media=media)))
    conn.executemany(
        "INSERT INTO messages_v2 (mid, uid, read_state, send_state, date, data, out, ttl,"
        " media, is_channel) VALUES (?, ?, 1, 0, ?, ?, ?, 0, ?, 0)",
        [
            (mid, -TELEGRAM_GROUP, when, data, out, int(b"\xd7\x50\x51\x69" in data))
            for mid, when, out, data in rows
        ],
    )
    conn.execute(
        "INSERT INTO dialogs (did, date, unread_count, last_mid) VALUES (?, ?, 0, ?)",
        (-TELEGRAM_GROUP, rows[-1][1], rows[-1][0]),
    )
    conn.commit()
    conn.close()
    return "phone-en", phone


PHONE_BUILDERS: list[PhoneBuilder] = [
    spanish_phone,
    brazilian_phone,
    english_phone,
    telegram_on_english_phone,
]


def write_hashset(world: World, path: Path) -> Path:
    """The stand-ins as a VICS 2.0 list (category 1, one series)."""
    from tantalio.hashsets.record import HashEntry
    from tantalio.hashsets.vics_model import VicsMedia
    from tantalio.hashsets.vics_writer import write_vics

    media = []
    for i, data in enumerate(world.known):
        entry = HashEntry(
            md5=hashlib.md5(data).hexdigest(),
            sha1=hashlib.sha1(data).hexdigest(),
            sha256=_sha256(data),
            category=1,
            series="Series Lenguas",
            comments="chat scenario stand-in (benign synthetic picture)",
            added_at=datetime(2024, 1, 1, tzinfo=UTC),
        )
        media.append(VicsMedia(entry=entry, media_id=500 + i, size=len(data)))
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        write_vics(fh, media, case_number=CASE, agency="Demo Unit")
    return path


def build_chat_phones(root: Path, seed: int = 2026) -> ChatScenario:
    """Write the scenario's phones and hash set under `root`; what was planted."""
    world = build_world(seed)
    phones = dict(builder(world, root) for builder in PHONE_BUILDERS)
    c = world.cast
    return ChatScenario(
        root=root,
        case=CASE,
        phones=phones,
        hashset=write_hashset(world, root / "chat-standins-vics.json"),
        distributors=[c[k].jid for k in ("D1", "D2", "D3")],
        first_uploaders=dict(world.first_uploaders),
        lids={p.lid: p.jid for p in (c["D2"], c["D3"]) if p.lid},
        chatty=c["CHATTY"].jid,
        forwarder=c["FWD"].jid,
        telegram_group=f"telegram:chat:{TELEGRAM_GROUP}",
        telegram_invite=TELEGRAM_INVITE,
        telegram_accounts={c[k].jid: f"telegram:{v}" for k, v in _TG_IDS.items()},
    )
