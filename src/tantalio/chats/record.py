"""Typed records every chat parser emits and `store/chats.py` persists.

Keys are merge keys, chosen so that the same person or group seen on two seized phones is
one record (issue 5: "the same account seen on two seized phones is one account"):

- an account with a WhatsApp identity is keyed by its normalized JID
  (`447700900123@s.whatsapp.net`, or `12345@lid` when an `@lid` identity cannot be resolved
  to a phone number);
- a group with a JID is keyed by it (`120363...@g.us`);
- a record known only by a display name (text exports name contacts, not numbers) is
  *local*: its key starts with `local:` and the store scopes it to the exhibit, because two
  phones' "Alice" need not be the same person;
- the owner of a phone whose own number is not recorded is `owner:` + the parser's source,
  also exhibit-scoped.

Parsers never touch the database: they fill a `ChatRecords` collector, which an analyzer
hands to a `mediator.ChatMediator`; only the store writes (issue 12).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from tantalio.hashsets.record import ParseWarning

ROLES = ("member", "admin", "creator")
JOINED_HOW = ("created", "added", "invite_link", "listed", "unknown")
LEFT_HOW = ("left", "removed")
CHAT_KINDS = ("group", "direct", "broadcast", "status")
SYSTEM_ACTIONS = (
    "created",
    "added",
    "left",
    "removed",
    "joined_invite",
    "subject_changed",
    "icon_changed",
    "admin_granted",
    "number_changed",
    "other",
)
ARTIFACT_KINDS = (
    "whatsapp_invite",
    "telegram_invite",
    "wa_me",
    "onion",
    "url",
    "email",
    "phone",
    "visit",
)
# Invite links that open a group: their value is the group's `invite_codes` entry (a WhatsApp
# code; a Telegram `t.me/+HASH` or `t.me/name`).
INVITE_KINDS = ("whatsapp_invite", "telegram_invite")
# Keys of apps other than WhatsApp start with the app's name (chats/appchat.py).
APPS = ("telegram", "signal")

LOCAL_PREFIX = "local:"
OWNER_PREFIX = "owner:"


def _after(a: datetime | None, b: datetime | None) -> bool:
    """a later than b; a naive time (text exports: the phone's clock) is compared as UTC."""
    if a is None or b is None:
        return False
    return a.replace(tzinfo=a.tzinfo or UTC) > b.replace(tzinfo=b.tzinfo or UTC)


def app_of(key: str) -> str | None:
    """The chat app a key belongs to: `telegram`, `signal`, `whatsapp`; None for keys that
    only name someone (`local:`, `owner:`)."""
    head = key.split(":", 1)[0]
    if head in APPS and ":" in key:
        return head
    if is_local_key(key):
        return None
    return "whatsapp" if "@" in key else None


def is_local_key(key: str) -> bool:
    """True for keys that only mean something inside one exhibit (names, unknown owner)."""
    return key.startswith((LOCAL_PREFIX, OWNER_PREFIX))


@dataclass(slots=True)
class Account:
    """A WhatsApp account (a person, as far as the evidence tells)."""

    key: str
    jid: str | None = None  # phone JID, `…@s.whatsapp.net`
    phone: str | None = None  # E.164, `+447700900123`
    lid: str | None = None  # `…@lid` identity, when seen
    names: list[str] = field(default_factory=list)
    is_owner: bool = False  # the user of the seized phone
    where: str | None = None  # first place seen (`file:row`)


@dataclass(slots=True)
class Group:
    """A group chat; `creator` is an account key."""

    key: str
    jid: str | None = None
    subject: str | None = None
    creator: str | None = None
    created_at: datetime | None = None
    invite_codes: list[str] = field(default_factory=list)
    where: str | None = None


@dataclass(slots=True)
class Membership:
    """An account's membership of a group, as far as one exhibit tells.

    `joined_how` is one of JOINED_HOW ("listed": only seen in the participant list);
    `invite_code` is set when the join used a known invite link.
    """

    group: str
    account: str
    role: str = "member"
    joined_at: datetime | None = None
    joined_how: str = "unknown"
    added_by: str | None = None
    invite_code: str | None = None
    left_at: datetime | None = None
    left_how: str | None = None
    where: str | None = None


@dataclass(slots=True)
class MediaRef:
    """The media a message carried.

    `sha256` (lower-case hex) comes from the chat database (`file_hash`, `media_hash`,
    `ZVCARDNAME`, all base64 there) or from hashing the attachment exported beside a text
    chat; it survives the file's deletion, so a deleted file is still matched.
    `omitted` marks exports that dropped the media (`<Media omitted>`).
    """

    sha256: str | None = None
    file_name: str | None = None  # as the chat names it (path on the phone, attachment name)
    mime: str | None = None
    size: int | None = None
    kind: str | None = None  # image, video, audio, document, sticker, ...
    omitted: bool = False
    present: bool = False  # the file itself was found beside the chat / on the exhibit


@dataclass(slots=True)
class Message:
    """One message or system event in a chat.

    `chat` is a group key (`chat_kind == "group"`) or the other party's account key.
    `sender` is an account key; None for system events without an actor.
    `timestamp` is timezone-aware UTC for databases; naive (the phone's local time) for
    text exports, which carry no zone.
    """

    chat: str
    chat_kind: str
    sender: str | None
    timestamp: datetime | None
    text: str | None = None
    from_me: bool = False
    forwarded: bool = False
    key_id: str | None = None  # WhatsApp message id: the same on sender's and receivers' phones
    media: MediaRef | None = None
    system: str | None = None  # one of SYSTEM_ACTIONS for system events
    targets: list[str] = field(default_factory=list)  # accounts a system event is about
    where: str | None = None
    # Text export and database of the same chat (exportmatch.py): `export` names the export
    # file a message comes from (None: a database); `also_in` lists the export lines that hold
    # a database message too; `only_in_export` marks an export message its phone's database
    # no longer holds; `utc_offset` (minutes) is the export's inferred offset from UTC.
    export: str | None = None
    also_in: list[str] = field(default_factory=list)
    only_in_export: bool = False
    utc_offset: int | None = None
    # The same group on two phones (groupmerge.py): the fingerprint of this message's copy
    # stored from another phone, so the two copies count as one message.
    fingerprint: str | None = None


@dataclass(slots=True)
class Artifact:
    """Something an investigator follows up found in text: link, address, number.

    `value` is normalized (invite code, onion host, E.164 number, lower-case e-mail, URL);
    `site` is the saved site a file came from (host of its `saved from url`), which ties an
    invite link on that site to its group. A `visit` (browser history) is a visited URL:
    `site` its host, `sender` the phone's owner, `seen_at` the first visit.
    """

    kind: str
    value: str
    raw: str
    where: str
    chat: str | None = None  # group/account key of the message it was found in
    sender: str | None = None
    site: str | None = None
    group: str | None = None  # the group an invite code is known to open (invite cards)
    seen_at: datetime | None = None  # a browser visit's (first) time, UTC


@dataclass(slots=True)
class ChatSaveSummary:
    """What storing one exhibit's chats did: counts, warnings, and per text export of a chat
    the database holds its inferred UTC offset and messages stored once (exportmatch.py)."""

    accounts: int = 0
    groups: int = 0
    memberships: int = 0
    messages: int = 0
    artifacts: int = 0
    media_linked: int = 0
    warnings: list[str] = field(default_factory=list)
    exports: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ChatRecords:
    """What parsing one exhibit yields: records keyed for merging, and warnings.

    Parsers call the `add_*` methods; adding the same key twice merges (names, subject,
    creator and roles accumulate) so several sources on one phone describe one record.
    """

    accounts: dict[str, Account] = field(default_factory=dict)
    groups: dict[str, Group] = field(default_factory=dict)
    memberships: dict[tuple[str, str], Membership] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)  # files parsed, with their parser
    # Set by the mediator (groupmerge.py) for the store: a group another exhibit stored under
    # an exhibit-local key -> the global key it is (the same group, seen here with its JID);
    # and (stored message id, index into `messages`): a copy another exhibit stored of one of
    # this exhibit's messages, to take that message's fingerprint.
    group_merges: dict[str, str] = field(default_factory=dict)
    # The phone's address book (wa.db): JID -> the names it shows. Not accounts (a contact
    # who never chatted is not in the network); read to take a text export's contact name
    # for its number (registry._unify_local).
    contacts: dict[str, list[str]] = field(default_factory=dict)
    refingerprint: list[tuple[int, int]] = field(default_factory=list)

    def add_account(self, account: Account) -> Account:
        have = self.accounts.get(account.key)
        if have is None:
            self.accounts[account.key] = account
            return account
        for name in account.names:
            if name and name not in have.names:
                have.names.append(name)
        have.jid = have.jid or account.jid
        have.phone = have.phone or account.phone
        have.lid = have.lid or account.lid
        have.is_owner = have.is_owner or account.is_owner
        have.where = have.where or account.where
        return have

    def add_group(self, group: Group) -> Group:
        have = self.groups.get(group.key)
        if have is None:
            self.groups[group.key] = group
            return group
        have.jid = have.jid or group.jid
        have.subject = have.subject or group.subject
        have.creator = have.creator or group.creator
        have.created_at = have.created_at or group.created_at
        for code in group.invite_codes:
            if code not in have.invite_codes:
                have.invite_codes.append(code)
        have.where = have.where or group.where
        return have

    def add_membership(self, m: Membership) -> Membership:
        have = self.memberships.get((m.group, m.account))
        if have is None:
            self.memberships[(m.group, m.account)] = m
            return m
        if ROLES.index(m.role) > ROLES.index(have.role):
            have.role = m.role
        specific = m.joined_how not in ("unknown", "listed")
        vague = have.joined_how in ("unknown", "listed")
        later = _after(m.joined_at, have.joined_at)
        if specific and (vague or later):  # a rejoin replaces the earlier join
            have.joined_how, have.joined_at = m.joined_how, m.joined_at
            have.added_by, have.invite_code = m.added_by, m.invite_code or have.invite_code
        elif have.joined_how == "unknown" and m.joined_how == "listed":
            have.joined_how = "listed"
        if m.left_how and (have.left_how is None or _after(m.left_at, have.left_at)):
            have.left_at, have.left_how = m.left_at, m.left_how
        have.where = have.where or m.where
        return have

    def empty(self) -> bool:
        return not (self.accounts or self.groups or self.messages or self.artifacts)

    def warn(self, where: str, message: str, field_name: str | None = None) -> None:
        self.warnings.append(ParseWarning(where=where, field=field_name, message=message))

    def extend(self, other: ChatRecords) -> None:
        """Merge another source's records (another database of the same exhibit)."""
        for a in other.accounts.values():
            self.add_account(a)
        for g in other.groups.values():
            self.add_group(g)
        for m in other.memberships.values():
            self.add_membership(m)
        self.messages.extend(other.messages)
        self.artifacts.extend(other.artifacts)
        self.warnings.extend(other.warnings)
        self.sources.extend(other.sources)
        for jid, names in other.contacts.items():
            bucket = self.contacts.setdefault(jid, [])
            bucket.extend(n for n in names if n not in bucket)

    def rekey(self, accounts: dict[str, str], groups: dict[str, str] | None = None) -> None:
        """Rename account (and group) keys everywhere, merging into records already under the
        new key: for one identity known two ways (a name and a JID, a lid and a number)."""
        groups = groups or {}
        both = {**accounts, **groups}

        def k(key: str | None) -> str | None:
            return both.get(key, key) if key else key

        for old, new in accounts.items():
            acc = self.accounts.pop(old, None)
            if acc is not None:
                acc.key = new
                if new.endswith("@s.whatsapp.net"):
                    acc.jid = acc.jid or new
                    user = new.split("@", 1)[0]
                    acc.phone = acc.phone or (f"+{user}" if user.isdigit() else None)
                self.add_account(acc)
        for old, new in groups.items():
            grp = self.groups.pop(old, None)
            if grp is not None:
                grp.key = new
                self.add_group(grp)
        for g in self.groups.values():
            g.creator = k(g.creator)
        memberships = list(self.memberships.values())
        self.memberships.clear()
        for m in memberships:
            m.group, m.account = k(m.group) or m.group, k(m.account) or m.account
            m.added_by = k(m.added_by)
            self.add_membership(m)
        for msg in self.messages:
            msg.sender, msg.chat = k(msg.sender), k(msg.chat) or msg.chat
            msg.targets = [k(t) or t for t in msg.targets]
        for a in self.artifacts:
            a.sender, a.chat, a.group = k(a.sender), k(a.chat), k(a.group)


# The same group on two phones (groupmerge.py): what the store reports for matching.
@dataclass(frozen=True, slots=True)
class StoredGroup:
    """A group another exhibit stored, as the store reports it for matching."""

    key: str  # workspace key (exhibit-local keys carry their `x<exhibit>:` prefix)
    local: bool  # an exhibit-local group (a text export's)
    subjects: frozenset[str]
    members: frozenset[str]  # account keys other exhibits list as members
    invite_codes: frozenset[str]


@dataclass(frozen=True, slots=True)
class StoredCopy:
    """A message another exhibit stored in a group, for pairing with this exhibit's."""

    id: int
    sender: str | None  # account key (workspace)
    timestamp: datetime | None  # naive: UTC, or the phone's wall clock when `local_time`
    local_time: bool
    utc_offset: int | None
    text: str | None
    media_sha256: str | None
    system: str | None
    fingerprint: str
