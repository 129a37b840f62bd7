"""Which chat formats tantalio reads, and the exhibit-level entry point the ingest calls.

`wants(path)` tells the ingest which evidence files to spool (databases, their `-wal` and
sidecars, text exports and the attachments beside them, text files and pages for artifacts);
`parse_exhibit(root)` parses what was spooled under `root` (paths relative to it are the
paths inside the exhibit) and returns one `ChatRecords` for the exhibit.
"""

from __future__ import annotations

import fnmatch
import os
import sqlite3
from pathlib import Path, PurePosixPath

from tantalio.chats import artifacts, lids, owner, sqlite_util
from tantalio.chats.android_legacy import AndroidLegacyMsgstoreParser
from tantalio.chats.android_msgstore import AndroidMsgstoreParser
from tantalio.chats.base import ChatParser, ParseContext, SQLiteChatParser
from tantalio.chats.browsing import ChromiumHistoryParser, FirefoxPlacesParser
from tantalio.chats.ios_chatstorage import IOSChatStorageParser
from tantalio.chats.jid import account_for_jid, is_broadcast_jid, is_group_jid, normalize_jid
from tantalio.chats.keys import KeyRing
from tantalio.chats.record import LOCAL_PREFIX, ChatRecords, is_local_key
from tantalio.chats.signal_android import SignalAndroidParser
from tantalio.chats.telegram import TelegramAndroidParser
from tantalio.chats.wacrypt import WhatsAppBackupParser
from tantalio.chats.wadb import read_contacts
from tantalio.chats.whatsapp_text import WhatsAppTextParser, is_attachment_name

# Order matters where names overlap: the current msgstore schema is tried before the legacy.
PARSERS: tuple[ChatParser, ...] = (
    AndroidMsgstoreParser(),
    AndroidLegacyMsgstoreParser(),
    IOSChatStorageParser(),
    WhatsAppTextParser(),
    WhatsAppBackupParser(),
    TelegramAndroidParser(),
    SignalAndroidParser(),
    FirefoxPlacesParser(),
    ChromiumHistoryParser(),
)
EXTRA_SIDECARS = ("wa.db", "wa.db-wal", *owner.PREFS_NAMES, *owner.PLIST_NAMES)


def _match(name: str, patterns: tuple[str, ...]) -> bool:
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, p.lower()) for p in patterns)


def wants(path: str) -> bool:
    """True for evidence files the chat parsers read (by name only: cheap, called per file)."""
    name = PurePosixPath(path.replace("\\", "/")).name
    if not name:
        return False
    return (
        any(p.name_matches(name) or p.wants_sidecar(name) for p in PARSERS)
        or _match(name, EXTRA_SIDECARS)
        or _match(name, artifacts.FILE_NAMES)
        or is_attachment_name(name)
    )


def find_owner(files: list[Path]) -> tuple[str | None, str | None]:
    """The phone owner's JID and chosen name, from the app's preference files."""
    jid = name = None
    for path in files:
        if _match(path.name, owner.PREFS_NAMES):
            found = owner.from_android_prefs(path)
        elif _match(path.name, owner.PLIST_NAMES):
            found = owner.from_ios_plist(path)
        else:
            continue
        jid, name = jid or found[0], name or found[1]
    return jid, name


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    out: list[Path] = []
    for dirpath, _dirs, names in os.walk(root):
        out.extend(Path(dirpath) / n for n in names)
    return sorted(out)


def parse_exhibit(
    root: Path,
    *,
    owner_jid: str | None = None,
    region: str | None = None,
    keys: KeyRing | None = None,
) -> ChatRecords:
    """Parse every chat database, export and text file under `root` into one record set.

    One bad file costs a warning naming it; everything else is still parsed. `keys` are the
    examiner's keys for encrypted sources (which of them opened what is kept in `keys.used`).
    """
    files = _files(root)
    base = root.parent if root.is_file() else root
    found_jid, owner_name = find_owner(files)
    owner_jid = normalize_jid(owner_jid) or found_jid
    out = ChatRecords()
    for path in files:
        label = path.relative_to(base).as_posix()
        ctx = ParseContext(label=label, owner_jid=owner_jid, region=region, keys=keys)
        try:
            parsed = parse_file(path, ctx)
        except Exception as exc:  # a parser bug on odd input costs this file, not the exhibit
            out.warn(label, f"could not be parsed ({type(exc).__name__}: {exc})")
            continue
        if parsed is not None:
            out.extend(parsed)
        elif _match(path.name, artifacts.FILE_NAMES):
            found, error = artifacts.extract_file(path, label, region)
            if error:
                out.warn(label, error)
            out.artifacts.extend(found)
    for msg in out.messages:
        if msg.text and msg.system is None:
            out.artifacts.extend(
                artifacts.extract(
                    msg.text, msg.where or "", chat=msg.chat, sender=msg.sender, region=region
                )
            )
    out.artifacts = artifacts.dedupe(out.artifacts)
    owner_key = ParseContext(label="", owner_jid=owner_jid).owner_key
    if owner_name and owner_key in out.accounts and owner_name not in out.accounts[owner_key].names:
        out.accounts[owner_key].names.append(owner_name)
    lids.unify(out)
    _unify_local(out)
    _link_invites(out)
    return out


def parse_file(path: Path, ctx: ParseContext) -> ChatRecords | None:
    """Records of one file, or None when no chat parser claims it."""
    candidates = [p for p in PARSERS if p.name_matches(path.name)]
    db_parsers = [p for p in candidates if isinstance(p, SQLiteChatParser)]
    if db_parsers:
        return _parse_db(path, ctx, db_parsers)
    for parser in candidates:
        if parser.sniff(path):
            return parser.parse(path, ctx)
    return None


def _parse_db(path: Path, ctx: ParseContext, parsers: list[SQLiteChatParser]) -> ChatRecords:
    out = ChatRecords()
    if not sqlite_util.is_sqlite(path):
        encrypted = [p for p in parsers if p.ENCRYPTED]
        if encrypted:  # SQLCipher: the parser decrypts it with the examiner's key
            return encrypted[0].parse(path, ctx)
        out.warn(ctx.label, "not a SQLite database (encrypted backup, or corrupt)")
        return _contacts_beside(path, ctx, out)
    try:
        with sqlite_util.open_copy(path) as conn:
            have = sqlite_util.schema(conn)
            gaps = {p.name: p.structure_gaps(have) for p in parsers}
            for parser in parsers:
                if not gaps[parser.name]:
                    return parser.read(conn, have, path, ctx)
    except sqlite3.DatabaseError as exc:
        out.warn(ctx.label, f"unreadable database: {exc}")
        return _contacts_beside(path, ctx, out)
    why = "; ".join(f"not {name}: lacks {', '.join(lacks)}" for name, lacks in gaps.items())
    out.warn(ctx.label, f"unknown schema version ({why})")
    return _contacts_beside(path, ctx, out)


def _contacts_beside(path: Path, ctx: ParseContext, out: ChatRecords) -> ChatRecords:
    """A `msgstore.db` that cannot be read still leaves the phone's contact list: the
    accounts and names of an intact `wa.db` beside it are kept (issue 14), where otherwise
    they only name the accounts the messages mention."""
    wadb = path.with_name("wa.db")
    if not wadb.is_file() or not AndroidMsgstoreParser.name_matches(path.name):
        return out
    label = PurePosixPath(ctx.label).with_name("wa.db").as_posix()
    contacts = read_contacts(wadb, label, out)
    for jid, names in contacts.items():
        if not (is_group_jid(jid) or is_broadcast_jid(jid)):
            out.add_account(account_for_jid(jid, names, where=label))
    if contacts:
        out.warn(ctx.label, f"messages not read; the {len(contacts)} contacts of {label} kept")
    return out


def _unify_local(out: ChatRecords) -> None:
    """Within one exhibit, a name from a text export that the phone's database gives exactly
    one JID for (contact names, its address book `wa.db`, group subjects) is that JID: one
    record, not two."""
    by_name: dict[str, set[str]] = {}
    for a in out.accounts.values():
        if not is_local_key(a.key):
            for name in a.names:
                by_name.setdefault(name, set()).add(a.key)
    for jid, names in out.contacts.items():
        if jid.endswith("@s.whatsapp.net"):
            for name in names:
                by_name.setdefault(name, set()).add(jid)
    accounts = {}
    for a in out.accounts.values():
        if a.key.startswith(LOCAL_PREFIX) and len(by_name.get(a.key[len(LOCAL_PREFIX) :], ())) == 1:
            accounts[a.key] = next(iter(by_name[a.key[len(LOCAL_PREFIX) :]]))
    by_subject: dict[str, set[str]] = {}
    for g in out.groups.values():
        if not is_local_key(g.key) and g.subject:
            by_subject.setdefault(g.subject, set()).add(g.key)
    groups = {}
    for g in out.groups.values():
        if is_local_key(g.key) and g.subject and len(by_subject.get(g.subject, ())) == 1:
            groups[g.key] = next(iter(by_subject[g.subject]))
    if accounts or groups:
        out.rekey(accounts, groups)


def _link_invites(out: ChatRecords) -> None:
    """A membership joined by invite link takes the group's invite code when only one is known."""
    for m in out.memberships.values():
        if m.joined_how == "invite_link" and m.invite_code is None:
            group = out.groups.get(m.group)
            if group and len(group.invite_codes) == 1:
                m.invite_code = group.invite_codes[0]
