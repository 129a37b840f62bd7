"""One phone's text export and database of the same chat: each message once.

An examiner often has, from one seized phone, both the WhatsApp database and "Export chat"
text files of some of its chats. Stored side by side, every message would count twice in
posts, shares and the distributor ranking. So, before an exhibit's records are saved, each
text-export message is matched to a database message of the same exhibit and:

- same chat (the export's chat resolved to the database's group or peer, registry
  `_unify_local`), same kind (text, media, system), same sender (the owner, a JID, or a
  contact name learnt from the chat itself, below), the same text when both have one
  (whitespace normalised; an export may truncate), no contradicting media hash or kind;
- a time that agrees: the database's UTC time plus the export's inferred offset
  (exportoffset.py) falls into the export's minute.

A matched export message is not kept as a second message: the database message (WhatsApp id,
UTC time, media hash) stays and lists the export line in `also_in`; a text, hash or file name
only the export has is copied onto it. An unmatched message of an export whose chat the
database holds is kept and flagged `only_in_export` (deleted from the phone since the export
was made: forensically important). Exports of chats the database does not hold, and exports
whose offset cannot be trusted (a warning says so), are kept as they are.

A database message takes at most one copy from each export file, so the same chat exported
twice (into two folders, or on two days) is matched by both files; export-only messages that
both files hold are stored once too (the first, listing the other's line in `also_in`).

A contact name that the database does not give a JID for (no `wa.db` entry) is taken as the
JID of the database sender its messages agree with, when at least MIN_LABEL_EVIDENCE
messages with text agree with that one sender and with no other one, and no other label of
the export is taken as that sender: the export then names that person, and the name is kept
on the account.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from tantalio.chats.exportoffset import (
    OffsetVerdict,
    candidate_offset,
    floor_minute,
    format_offset,
    infer_offset,
    shift,
)
from tantalio.chats.record import LOCAL_PREFIX, ChatRecords, Message
from tantalio.chats.textdates import INVISIBLE

MIN_LABEL_EVIDENCE = 2
MIN_PREFIX = 10  # characters: a shorter export text must equal the database's
MAX_VOTE_PARTNERS = 50  # a text this common in the chat ("ok") tells nothing about the offset
_DROP_INVISIBLE = str.maketrans("", "", INVISIBLE)


def _naive_utc(t: datetime | None) -> datetime | None:
    """A database's aware time as naive UTC (a naive one is taken as UTC already)."""
    return t.astimezone(UTC).replace(tzinfo=None) if t and t.tzinfo else t


def norm_text(text: str | None) -> str:
    """Text as compared: invisible marks dropped, whitespace runs one space."""
    if not text:
        return ""
    return " ".join(text.translate(_DROP_INVISIBLE).split())


def kind_of(msg: Message) -> str:
    return "system" if msg.system else "media" if msg.media else "text"


def texts_agree(export: str, database: str) -> bool:
    """Equal once normalised, or the export's text is a long enough start of the database's
    (exports cut long messages, sometimes with an ellipsis)."""
    if not export or not database or export == database:
        return True
    cut = export.rstrip("\u2026.").rstrip()
    return len(cut) >= MIN_PREFIX and database.startswith(cut)


def _media_agree(e: Message, d: Message) -> bool:
    if e.media is None or d.media is None:
        return True
    if e.media.sha256 and d.media.sha256 and e.media.sha256 != d.media.sha256:
        return False
    kinds = {e.media.kind, d.media.kind}
    return None in kinds or "document" in kinds or len(kinds) == 1


@dataclass(slots=True)
class _Db:
    """The database messages of one exhibit, by chat, by (chat, UTC minute) and by
    (chat, kind, start of text), and those already matched."""

    by_chat: dict[str, list[Message]]
    by_minute: dict[tuple[str, datetime], list[Message]]
    by_text: dict[tuple[str, str, str], list[Message]]
    taken: set[int]

    @classmethod
    def of(cls, messages: Iterable[Message]) -> _Db:
        db = cls(defaultdict(list), defaultdict(list), defaultdict(list), set())
        for m in messages:
            db.by_chat[m.chat].append(m)
            utc = _naive_utc(m.timestamp)
            if utc is not None:
                db.by_minute[(m.chat, floor_minute(utc))].append(m)
            text = norm_text(m.text)
            if text and not m.system:
                db.by_text[(m.chat, kind_of(m), text[:MIN_PREFIX])].append(m)
        return db

    def at(self, chat: str, local: datetime, offset: int) -> list[Message]:
        return self.by_minute.get((chat, shift(floor_minute(local), -offset)), [])


def _votes(exported: list[Message], db: _Db) -> list[tuple[datetime, set[int]]]:
    """Per export message with text: the offsets at which a database message of the same
    chat, kind and text falls into its minute."""
    out = []
    for e in exported:
        text = norm_text(e.text)
        if e.timestamp is None or not text or e.system:
            continue
        partners = db.by_text.get((e.chat, kind_of(e), text[:MIN_PREFIX]), [])
        if len(partners) > MAX_VOTE_PARTNERS:
            continue
        offsets = set()
        for d in partners:
            utc = _naive_utc(d.timestamp)
            if utc is None or not texts_agree(text, norm_text(d.text)):
                continue
            off = candidate_offset(e.timestamp, utc)
            if off is not None:
                offsets.add(off)
        out.append((e.timestamp, offsets))
    return out


def _candidates(e: Message, db: _Db, verdict: OffsetVerdict) -> list[Message]:
    """Database messages not yet taken that agree with `e` in all but the sender."""
    assert e.timestamp is not None
    found = []
    text = norm_text(e.text)
    for offset in verdict.offsets_at(e.timestamp):
        for d in db.at(e.chat, e.timestamp, offset):
            if id(d) in db.taken or kind_of(d) != kind_of(e):
                continue
            if e.system:
                # The same event; a database code we do not know ("other") may be any event
                # the export names, but an export line we do not know stays unmatched.
                if e.system != d.system and (d.system != "other" or e.system == "other"):
                    continue
            elif not texts_agree(text, norm_text(d.text)) or not _media_agree(e, d):
                continue
            found.append(d)
    return found


def _learn_labels(exported: list[Message], db: _Db, verdict: OffsetVerdict) -> dict[str, str]:
    """Contact names of the export taken as the database sender their messages agree with."""
    evidence: dict[str, Counter[str]] = defaultdict(Counter)
    named = {e.sender for e in exported if e.sender and not e.sender.startswith(LOCAL_PREFIX)}
    for e in exported:
        if e.timestamp is None or not e.sender or not e.sender.startswith(LOCAL_PREFIX):
            continue
        if e.system or not norm_text(e.text):
            continue
        senders = {d.sender for d in _candidates(e, db, verdict) if d.sender}
        if len(senders) == 1:
            evidence[e.sender][senders.pop()] += 1
        elif senders:
            evidence[e.sender]["\x00ambiguous"] += 1
    wanted: dict[str, str] = {}
    for label, counts in evidence.items():
        if len(counts) == 1:
            [(key, n)] = counts.items()
            if n >= MIN_LABEL_EVIDENCE and not key.startswith(LOCAL_PREFIX) and key not in named:
                wanted[label] = key
    claimed = Counter(wanted.values())
    return {label: key for label, key in wanted.items() if claimed[key] == 1}


def _merge_into(d: Message, e: Message) -> None:
    """What the export adds to the database message it is a copy of."""
    if e.where:
        d.also_in.append(e.where)
    if not d.text and e.text and not e.system:
        d.text = e.text
    if e.media and e.media.sha256:
        if d.media is None:
            d.media = e.media
        elif not d.media.sha256:
            d.media.sha256, d.media.present = e.media.sha256, e.media.present
            d.media.size = d.media.size or e.media.size
            d.media.file_name = d.media.file_name or e.media.file_name


@dataclass(slots=True)
class ExportMatch:
    """What happened to one export file."""

    export: str
    verdict: OffsetVerdict
    matched: int = 0
    only_in_export: int = 0
    labels: dict[str, str] | None = None

    def note(self) -> str:
        text = f"{self.export}: {self.verdict.describe()}"
        if self.verdict.offsets:
            text += (
                f"; {self.matched} messages also in the database (stored once), "
                f"{self.only_in_export} only in the text export"
            )
        for label, key in sorted((self.labels or {}).items()):
            text += f"; {label[len(LOCAL_PREFIX) :]!r} taken as {key}"
        return text


def merge_text_exports(records: ChatRecords) -> list[ExportMatch]:
    """Drop the text-export copies of database messages from `records` (see the module
    docstring); one ExportMatch per export file whose chat the database holds."""
    db = _Db.of(m for m in records.messages if m.export is None)
    exports: dict[str, list[Message]] = defaultdict(list)
    for m in records.messages:
        if m.export is not None:
            exports[m.export].append(m)
    results: list[ExportMatch] = []
    dropped: set[int] = set()
    owners = {k for k, a in records.accounts.items() if a.is_owner}
    for label, exported in exports.items():
        if not any(e.chat in db.by_chat for e in exported):
            continue  # a chat the database does not hold: kept as it is
        db.taken = set()  # a database message takes one copy from each export file
        verdict = infer_offset(_votes(exported, db))
        result = ExportMatch(label, verdict)
        results.append(result)
        if not verdict.offsets:
            records.warn(
                label,
                f"{verdict.describe()}: its messages are kept beside the database's and may "
                "count twice",
            )
            continue
        result.labels = _learn_labels(exported, db, verdict)
        if result.labels:
            records.rekey(result.labels)
        for e in exported:  # a name the owner chose is the owner (registry `_unify_local`)
            e.from_me = e.from_me or e.sender in owners
        for e in exported:
            if e.timestamp is None or e.chat not in db.by_chat:
                continue
            e.utc_offset = verdict.offsets_at(e.timestamp)[0]
            found = [d for d in _candidates(e, db, verdict) if _senders_agree(e, d)]
            if found:
                d = found[0]
                db.taken.add(id(d))
                _merge_into(d, e)
                dropped.add(id(e))
                result.matched += 1
            elif e.system != "other":
                e.only_in_export = True
                result.only_in_export += 1
    dropped |= _merge_export_only_copies(records.messages)
    if dropped:
        records.messages = [m for m in records.messages if id(m) not in dropped]
    return results


def _merge_export_only_copies(messages: list[Message]) -> set[int]:
    """The same chat exported twice from one phone (say into Downloads and into WhatsApp's
    Exports folder) holds its export-only messages twice: the phone's clock wrote the same
    minute, sender and text in both. Keep the first copy, listing the others' lines in
    `also_in`; returns the ids of the copies dropped. Each file's note still counts the
    message as only in the text export: it is, in each of them."""
    first: dict[tuple[object, ...], Message] = {}
    dropped: set[int] = set()
    for m in messages:
        if not m.only_in_export or m.export is None:
            continue
        key = (m.chat, m.sender, m.timestamp, kind_of(m), norm_text(m.text), m.system)
        kept = first.setdefault(key, m)
        if kept is m or kept.export == m.export:
            continue  # a second identical line of the same file is a message of its own
        _merge_into(kept, m)
        dropped.add(id(m))
    return dropped


def _senders_agree(e: Message, d: Message) -> bool:
    if e.system:  # a system line names its actor as the phone shows it; the database may not
        return e.sender is None or d.sender is None or e.sender == d.sender
    return e.sender == d.sender


__all__ = ["ExportMatch", "format_offset", "merge_text_exports", "norm_text"]
