"""The same group seen on two phones: one group, its messages counted once (issue 15).

A group with an identifier is one record however many phones hold it: a WhatsApp group
JID, a Telegram chat id and a Signal group id are global keys. A text export carries none
(it names the group by its subject), so its group is exhibit-local
(`x<exhibit>:local:group:<subject>`): one phone's export and another phone's database of the
same group used to be two groups, every message in them counted twice.

Here, at the end of an exhibit's import (the mediator's last step; the store answers the
lookups and applies the result), an exhibit-local group is taken for a stored global group,
or a stored exhibit-local group for one of this exhibit's global groups, when
- they share an invite code (`chat.whatsapp.com/…`, `t.me/+…`), or
- their subjects are equal (case, spacing and invisible marks aside) **and** at least
  MIN_SHARED_MEMBERS members with global keys (phone numbers, lids) are on both sides: a
  subject alone ("Family", "Trabajo") names many groups;
and exactly one candidate fits. Two exports of one group on two phones with no database
anywhere stay two groups (nothing global to merge them into; first uploaders still compare
them by subject).

Messages: one phone's export copy of a message and another phone's database copy are
paired like a phone's own export and database (exportmatch.py), with one difference: two
phones' clocks differ by any number of minutes (a phone set 7 minutes fast), so the offset
is voted for to the minute, not in 15-minute zone steps. Copies vote when they have the
same sender (a global key: a contact's name on one phone cannot be compared with another
phone's) and the same content (media SHA-256, else the text); the offset with at least
MIN_VOTES votes and twice the next best (its neighbour minutes aside: a clock's seconds
straddle a minute) is accepted. A paired export copy takes the database copy's fingerprint,
so counts, rankings and the web's pages show the message once; both rows stay, each with
its phone as provenance (deleting or re-importing one exhibit never touches the other's).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Protocol

from tantalio.chats.jid import is_group_jid
from tantalio.chats.record import ChatRecords, Message, StoredCopy, StoredGroup, is_local_key

MIN_SHARED_MEMBERS = 2
MIN_VOTES = 3
CLEAR_RATIO = 2
MAX_SKEW_MINUTES = 26 * 60  # the farthest two phones' clocks may be apart (zones and error)
_INVISIBLE = re.compile(r"[\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


class GroupLookup(Protocol):
    """What the store answers (the mediator's sink)."""

    def groups_like(self, subjects: Collection[str], codes: Collection[str]) -> list[StoredGroup]:
        """Groups other exhibits stored whose subject is one of `subjects` (compared
        lower-cased) or that an invite code of `codes` opens."""
        ...

    def group_copies(self, group_key: str) -> list[StoredCopy]:
        """The messages other exhibits stored in the group stored under `group_key`."""
        ...


def normalize_subject(subject: str | None) -> str:
    return " ".join(_INVISIBLE.sub("", subject or "").casefold().split())


def _global_members(records: ChatRecords, group: str) -> set[str]:
    return {
        m.account
        for (g, _), m in records.memberships.items()
        if g == group and not is_local_key(m.account) and not m.account.startswith("owner:")
    }


def _fits(subject: str, members: set[str], codes: set[str], other: StoredGroup) -> str | None:
    """Why `other` is the group described by the rest; None when nothing says so."""
    shared_codes = codes & other.invite_codes
    if shared_codes:
        return f"invite {sorted(shared_codes)[0]}"
    if subject and subject in {normalize_subject(s) for s in other.subjects}:
        shared = len(members & other.members)
        if shared >= MIN_SHARED_MEMBERS:
            return f"subject and {shared} shared members"
    return None


def merge_groups(records: ChatRecords, lookup: GroupLookup) -> list[str]:
    """Take this exhibit's groups for the same groups stored from other exhibits (module
    doc); pair the messages; the notes to report, one per merged group."""
    groups = list(records.groups.values())
    if not groups:
        return []
    subjects = {g.subject for g in groups if g.subject}
    codes = {c for g in groups for c in g.invite_codes}
    stored = lookup.groups_like(subjects, codes) if subjects or codes else []
    if not stored:
        return []
    # A lid another exhibit stored unresolved that this exhibit maps to a number: the same
    # account (the store re-keys it when this exhibit is written, after these lookups).
    aliases = {a.lid: a.key for a in records.accounts.values() if a.lid and a.key != a.lid}
    if aliases:
        stored = [
            StoredGroup(
                s.key,
                s.local,
                s.subjects,
                frozenset(aliases.get(m, m) for m in s.members),
                s.invite_codes,
            )
            for s in stored
        ]
    notes: list[str] = []
    rekey: dict[str, str] = {}
    claims: dict[str, list[tuple[str, str]]] = {}  # stored local group -> (this group, why)
    for g in groups:
        subject, codes_g = normalize_subject(g.subject), set(g.invite_codes)
        members = _global_members(records, g.key)
        if is_local_key(g.key):  # a text export's group: one stored global group?
            fits = [
                (s, why)
                for s in stored
                if not s.local
                if (why := _fits(subject, members, codes_g, s))
            ]
            if len(fits) == 1:
                rekey[g.key] = fits[0][0].key
                notes.append(
                    f"group '{g.subject}' of a text export is {fits[0][0].key} ({fits[0][1]})"
                )
            elif len(fits) > 1:
                records.warn(
                    g.where or "",
                    f"group '{g.subject}' fits {len(fits)} stored groups; kept apart",
                )
        else:  # a global group: stored text-export groups of other phones that are it
            for s in stored:
                if s.local and (why := _fits(subject, members, codes_g, s)):
                    claims.setdefault(s.key, []).append((g.key, why))
    for local, fits_local in claims.items():
        if len(fits_local) == 1:
            into, why = fits_local[0]
            records.group_merges[local] = into
            notes.append(f"group {local} of another phone's text export is {into} ({why})")
        else:
            records.warn(
                "", f"another phone's group {local} fits {len(fits_local)} groups; kept apart"
            )
    if rekey:
        records.rekey({}, rekey)
        for new in rekey.values():
            if new in records.groups and is_group_jid(new):
                records.groups[new].jid = new
    for new in set(rekey.values()):
        mine = [(i, m) for i, m in enumerate(records.messages) if m.chat == new and m.export]
        pairs = pair_copies(mine, lookup.group_copies(new), mine_local=True, aliases=aliases)
        for i, copy in pairs:
            records.messages[i].fingerprint = copy.fingerprint
        if pairs:
            notes.append(f"{len(pairs)} messages of group {new} also stored from another phone")
    for old, new in records.group_merges.items():
        mine = [(i, m) for i, m in enumerate(records.messages) if m.chat == new and not m.export]
        pairs = pair_copies(mine, lookup.group_copies(old), mine_local=False, aliases=aliases)
        records.refingerprint.extend((copy.id, i) for i, copy in pairs)
        if pairs:
            notes.append(f"{len(pairs)} messages of group {new} also stored from another phone")
    return notes


def _content(
    sender: str | None, text: str | None, sha: str | None, system: str | None
) -> str | None:
    if sender is None or is_local_key(sender) or sender.startswith("owner:"):
        return None
    if system:
        return None  # events are not counted as posts; their wording differs per phone
    if sha:
        body = sha
    elif text and text.strip():
        body = hashlib.sha1(" ".join(_INVISIBLE.sub("", text).split()).encode()).hexdigest()
    else:
        return None
    return f"{sender}\x1f{body}"


_EPOCH = datetime(2000, 1, 1)


def _minute(t: datetime) -> int:
    """Whole minutes of a naive time since an arbitrary epoch (floored, as exports write)."""
    return int((t.replace(tzinfo=None) - _EPOCH).total_seconds() // 60)


def pair_copies(
    mine: Sequence[tuple[int, Message]],
    theirs: Iterable[StoredCopy],
    *,
    mine_local: bool,
    aliases: dict[str, str] | None = None,
) -> list[tuple[int, StoredCopy]]:
    """Pairs (index of this exhibit's message, the stored copy of it on another phone).

    One side is a text export (the phone's wall clock), the other on UTC (a database, or an
    export whose offset its own phone's database gave); `mine_local` says which is this
    exhibit's. The clock difference is voted for (module doc); without a clear one nothing
    is paired."""
    by_id: dict[str, list[tuple[int, int]]] = defaultdict(list)  # identity -> (minute, index)
    for i, m in mine:
        ident = _content(m.sender, m.text, m.media.sha256 if m.media else None, m.system)
        if ident and m.timestamp is not None:
            t = m.timestamp
            if t.tzinfo is not None:  # a database's aware UTC time, as the store keeps it
                t = t.astimezone(UTC).replace(tzinfo=None)
            by_id[ident].append((_minute(t), i))
    copies: dict[str, list[tuple[int, StoredCopy]]] = defaultdict(list)
    for c in theirs:
        if c.timestamp is None or (c.local_time and c.utc_offset is None) == mine_local:
            continue  # both on local clocks, or both on UTC: not this pairing
        sender = (aliases or {}).get(c.sender or "", c.sender)
        ident = _content(sender, c.text, c.media_sha256, c.system)
        if ident in by_id:
            copies[ident].append((_minute(c.timestamp) - (c.utc_offset or 0), c))
    votes: Counter[int] = Counter()
    for ident, cs in copies.items():
        for m_minute, _ in by_id[ident]:
            for c_minute, _ in cs:
                d = (m_minute - c_minute) if mine_local else (c_minute - m_minute)
                if abs(d) <= MAX_SKEW_MINUTES:
                    votes[d] += 1  # local minus UTC
    if not votes:
        return []
    best, n = votes.most_common(1)[0]
    near = {best - 1, best, best + 1}
    rival = max((v for d, v in votes.items() if d not in near), default=0)
    if n < MIN_VOTES or n < CLEAR_RATIO * rival:
        return []
    out: list[tuple[int, StoredCopy]] = []
    for ident, cs in copies.items():
        taken: set[int] = set()
        for m_minute, i in sorted(by_id[ident]):
            for c_minute, c in sorted(cs, key=lambda x: x[0]):
                d = (m_minute - c_minute) if mine_local else (c_minute - m_minute)
                if d in near and c.id not in taken:
                    taken.add(c.id)
                    out.append((i, c))
                    break
    return out
