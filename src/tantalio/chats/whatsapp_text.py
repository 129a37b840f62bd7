"""WhatsApp "Export chat" text files, Android (`31/12/2020, 23:59 - Name: text`) and iOS
(`[31/12/2020, 23:59:59] Name: text`), with the attachments exported beside them.

Quirks handled (issues 5, 15): the date style of the phone's locale (textdates.py), the
language of its system lines and markers (textsystem.py, lang/: decided once per file),
direction marks (iOS puts U+200E before attachments and system lines), narrow no-break
spaces before AM/PM, multi-line messages (a line without a header continues the previous
message), iOS system lines prefixed with the group's name as if it had sent them.

A line that can only be a system line (no sender; or, on iOS, marked U+200E and "sent" by
the chat itself) but that no rule of the file's language recognises is kept as an `other`
event and listed in one warning naming the file and the lines: the group structure it held
(who added whom, who left) is lost, and the examiner must know.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tantalio.chats.base import ChatParser, ParseContext
from tantalio.chats.jid import account_for_label
from tantalio.chats.membership import apply_group_event
from tantalio.chats.record import (
    LOCAL_PREFIX,
    Account,
    ChatRecords,
    Group,
    MediaRef,
    Membership,
    Message,
)
from tantalio.chats.textdates import (
    ANDROID_HEADER,
    INVISIBLE,
    IOS_HEADER,
    infer_order,
    parse_datetime,
)
from tantalio.chats.textsystem import (
    ANDROID_ATTACHED,
    ATTACHMENT_NAME,
    CHAT_FILE,
    IOS_ATTACHED,
    OMITTED,
    OWNER,
    Lexicon,
    SystemLine,
    detect,
    media_kind,
)

_SNIFF_BYTES = 16384
_STRIP = INVISIBLE + " \u00a0\u202f"
_LRM = INVISIBLE[0]
UNRECOGNIZED_SHOWN = 5  # unrecognised system lines quoted in the warning


@dataclass(slots=True)
class _Entry:
    line: int
    date: str
    time: str
    ampm: str | None
    rest: str
    more: list[str] = field(default_factory=list)


def _decode_lines(data: bytes, label: str, out: ChatRecords) -> list[str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace").splitlines()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = []
    for n, raw in enumerate(data.split(b"\n"), start=1):
        raw = raw.rstrip(b"\r")
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            out.warn(f"{label}:{n}", f"not UTF-8 ({exc.reason}); undecodable bytes replaced")
            lines.append(raw.decode("utf-8", errors="replace"))
    return lines


class WhatsAppTextParser(ChatParser):
    name = "whatsapp_text"
    FILE_NAMES = ("*.txt",)
    SIDECARS = (
        "*-photo-*.*",
        "*-video-*.*",
        "*-audio-*.*",
        "*-gif-*.*",
        "*-sticker-*.*",
        "img-*-wa*.*",
        "vid-*-wa*.*",
        "aud-*-wa*.*",
        "ptt-*-wa*.*",
        "stk-*-wa*.*",
        "doc-*-wa*.*",
    )

    def sniff(self, path: Path) -> bool:
        try:
            with path.open("rb") as fh:
                head = fh.read(_SNIFF_BYTES).decode("utf-8", errors="replace")
        except OSError:
            return False
        lines = [ln for ln in head.splitlines() if ln.strip()][:20]
        return any(ANDROID_HEADER.match(ln) or IOS_HEADER.match(ln) for ln in lines)

    def parse(self, path: Path, ctx: ParseContext) -> ChatRecords:
        out = ChatRecords(sources=[f"{ctx.label} ({self.name})"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            out.warn(ctx.label, f"cannot read: {exc}")
            return out
        lines = _decode_lines(data, ctx.label, out)
        entries = self._entries(lines, ctx.label, out)
        if not entries:
            out.warn(ctx.label, "no WhatsApp message header found")
            return out
        twelve = any(e.ampm for e in entries)
        order = infer_order([e.date for e in entries], twelve_hour=twelve)
        _Chat(self, path, ctx, out, order.order).build(entries)
        return out

    @staticmethod
    def _entries(lines: list[str], label: str, out: ChatRecords) -> list[_Entry]:
        ios = sum(1 for ln in lines[:200] if IOS_HEADER.match(ln))
        android = sum(1 for ln in lines[:200] if ANDROID_HEADER.match(ln))
        header = IOS_HEADER if ios >= android else ANDROID_HEADER
        entries: list[_Entry] = []
        for n, line in enumerate(lines, start=1):
            m = header.match(line)
            if m:
                entries.append(_Entry(n, m["date"], m["time"], m["ampm"], m["rest"]))
            elif entries:
                entries[-1].more.append(line)
            elif line.strip(_STRIP):
                out.warn(f"{label}:{n}", "text before the first message header skipped")
        return entries


def _candidates(entries: list[_Entry], chat_name: str | None) -> Iterable[str]:
    """Texts of the lines that can only be system lines, to decide the file's language."""
    for e in entries:
        if ": " not in e.rest:
            yield e.rest
            continue
        sender, text = e.rest.split(": ", 1)
        by_chat = text.startswith(_LRM) or sender.strip(_STRIP) == chat_name
        if by_chat and not _is_media_marker(text.strip(_STRIP)):
            yield text


def _is_media_marker(text: str) -> bool:
    return bool(IOS_ATTACHED.match(text) or ANDROID_ATTACHED.match(text) or OMITTED.match(text))


class _Chat:
    """Turns one file's entries into records (one chat per export file)."""

    def __init__(
        self,
        parser: WhatsAppTextParser,
        path: Path,
        ctx: ParseContext,
        out: ChatRecords,
        order: str,
    ) -> None:
        self.path, self.ctx, self.out, self.order = path, ctx, out, order
        self.owner_key = ctx.owner_key
        self.chat_name = self._chat_name()
        self.missing_attachments = 0
        self.named_by_system: str | None = None  # iOS prefixes system lines with the group
        self.lexicon: Lexicon = detect(())[0]
        self.recognized = 0  # candidate system lines the chosen language recognised
        self.unrecognized: list[tuple[int, str]] = []
        # label -> account key: a sender's label repeats on every line, and reading it as a
        # phone number (phonenumbers) was half the parse of a 1M-message export
        self._label_keys: dict[str, str] = {}

    def _chat_name(self) -> str | None:
        for candidate in (self.path.stem, self.path.parent.name):
            m = CHAT_FILE.match(candidate)
            if m:
                return m["name"].strip()
        return None

    def _account(self, label: str, where: str) -> str:
        label = label.strip(_STRIP)
        if label == OWNER or label.lower() in ("you", "you (admin)"):
            self.out.add_account(Account(key=self.owner_key, is_owner=True, where=where))
            return self.owner_key
        key = self._label_keys.get(label)
        if key is not None:  # the same label again: the account is recorded already
            return key
        acc = account_for_label(label, where=where)
        if acc.key == self.owner_key:
            acc.is_owner = True
        key = self._label_keys[label] = self.out.add_account(acc).key
        return key

    def build(self, entries: list[_Entry]) -> None:
        self.lexicon, self.recognized = detect(_candidates(entries, self.chat_name))
        parsed: list[tuple[_Entry, datetime | None, str | None, str, SystemLine | None]] = []
        for e in entries:
            when = parse_datetime(e.date, e.time, e.ampm, self.order)
            where = f"{self.ctx.label}:{e.line}"
            if when is None:
                self.out.warn(where, f"unreadable date/time {e.date!r} {e.time!r}", "timestamp")
            sender, text, system = self._split(e)
            parsed.append((e, when, sender, text, system))
        self._unrecognized_ios(parsed)
        labels = {s for _, _, s, _, sys in parsed if s and sys is None}
        group_like = any(
            sys and sys.action not in ("other", "number_changed") for *_, sys in parsed
        )
        is_group = group_like or len(labels) > 2
        subject = self.chat_name or self.named_by_system
        for *_, sys in parsed:
            if sys and sys.subject and sys.action == "created":
                subject = subject or sys.subject
        owner_inferred = False
        if is_group:
            name = subject or self.path.stem
            chat_key = f"{LOCAL_PREFIX}group:{name}"
            self.out.add_group(Group(key=chat_key, subject=name, where=self.ctx.label))
            kind = "group"
        elif self.chat_name:
            # "WhatsApp Chat with Alice": Alice is the other party, the other voice the owner.
            chat_key = self._account(self.chat_name, self.ctx.label)
            for label in labels - {self.chat_name}:
                self.out.add_account(Account(key=self.owner_key, names=[label], is_owner=True))
            kind, owner_inferred = "direct", True
        else:
            chat_key, kind = f"{LOCAL_PREFIX}chat:{self.ctx.label}", "direct"
        for e, when, sender, text, system in parsed:
            self._emit(e, when, sender, text, system, chat_key, kind, owner_inferred)
        if self.missing_attachments:
            self.out.warn(
                self.ctx.label,
                f"{self.missing_attachments} attached file(s) named in the chat are not beside it",
            )
        if self.unrecognized:
            self._warn_unrecognized()

    def _warn_unrecognized(self) -> None:
        shown = "; ".join(
            f"line {n}: {text[:80]!r}" for n, text in self.unrecognized[:UNRECOGNIZED_SHOWN]
        )
        more = len(self.unrecognized) - UNRECOGNIZED_SHOWN
        self.out.warn(
            self.ctx.label,
            f"looks like a WhatsApp export, but {len(self.unrecognized)} system line(s) are "
            + (
                f"not recognized in {self.lexicon.lang.name}, the file's language"
                if self.recognized
                else "in no language tantalio knows (chats/lang/)"
            )
            + f"; who created, joined or left the group may be missing: {shown}"
            + (f"; and {more} more" if more > 0 else ""),
        )

    def _split(self, e: _Entry) -> tuple[str | None, str, SystemLine | None]:
        rest, lex = e.rest, self.lexicon
        if ": " not in rest:
            return None, rest, self._system_or_unknown(e, rest)
        head = rest.split(": ", 1)[0]
        if lex.may_be_system(head):
            system = lex.match(rest)
            if system is not None and system.action != "other":
                return None, rest, system
        sender, text = rest.split(": ", 1)
        sender = sender.strip(_STRIP)
        by_chat = sender == self.chat_name or sender == self.named_by_system
        if text.startswith(_LRM) or by_chat:
            system = lex.match(text)  # iOS: `Group Name: ‎Alice added Bob`
            if system is not None:
                self.named_by_system = self.named_by_system or sender
                return None, text, system
        return sender, text, None

    def _unrecognized_ios(
        self, parsed: list[tuple[_Entry, datetime | None, str | None, str, SystemLine | None]]
    ) -> None:
        """iOS writes a group's system lines as sent by the group (`Group: ‎text`): once the
        file shows the group's name so (a recognised line, the encryption notice that opens
        the file, or the export folder's name, with more than two others speaking), such a
        line no rule knows is an unrecognised system line, not a
        message from an account named like the group."""
        names = {self.named_by_system, self.chat_name} - {None}
        if parsed and parsed[0][2] and parsed[0][3].startswith(_LRM):
            names.add(parsed[0][2])  # the encryption notice opens every export, "sent" by the chat
        if names:  # later lines carry the group's later names
            names |= {sys.subject for *_, sys in parsed if sys and sys.subject}
            names |= self._only_marked_voices(parsed)
        voices = {s for _, _, s, _, sys in parsed if s and sys is None} - names
        if not names or (self.named_by_system is None and len(voices) < 2):
            return  # a direct chat: its other party is the chat's name
        for i, (e, when, sender, text, system) in enumerate(parsed):
            marked = text.startswith(_LRM) and not _is_media_marker(text.strip(_STRIP))
            if system is None and sender in names and marked:
                parsed[i] = (e, when, None, text, self._system_or_unknown(e, text))

    @staticmethod
    def _only_marked_voices(
        parsed: list[tuple[_Entry, datetime | None, str | None, str, SystemLine | None]],
    ) -> set[str]:
        """Senders with two or more lines, all marked U+200E and none an attachment: a
        renamed group whose new name no recognised line told (people write unmarked text)."""
        marked: dict[str, int] = {}
        unmarked: set[str] = set()
        for _, _, sender, text, system in parsed:
            if sender is None or system is not None:
                continue
            if text.startswith(_LRM) and not _is_media_marker(text.strip(_STRIP)):
                marked[sender] = marked.get(sender, 0) + 1
            else:
                unmarked.add(sender)
        return {s for s, n in marked.items() if n >= 2 and s not in unmarked}

    def _system_or_unknown(self, e: _Entry, text: str) -> SystemLine:
        system = self.lexicon.match(text)
        if system is None:
            self.unrecognized.append((e.line, text.strip(_STRIP)))
            system = SystemLine("other", None, (), None)
        return system

    def _emit(
        self,
        e: _Entry,
        when: datetime | None,
        sender: str | None,
        text: str,
        system: SystemLine | None,
        chat_key: str,
        kind: str,
        owner_inferred: bool,
    ) -> None:
        where = f"{self.ctx.label}:{e.line}"
        body = ("\n".join([text, *e.more]) if e.more else text).rstrip("\n")
        if system is not None:
            self._system(system, when, chat_key, kind, body, where)
            return
        assert sender is not None
        if owner_inferred and sender != self.chat_name:
            sender_key = self.owner_key
        else:
            sender_key = self._account(sender, where)
        if kind == "group":
            self.out.add_membership(
                Membership(group=chat_key, account=sender_key, joined_how="listed", where=where)
            )
        media, body_text = self._media(body)
        self.out.messages.append(
            Message(
                chat=chat_key,
                chat_kind=kind,
                sender=sender_key,
                timestamp=when,
                text=body_text,
                from_me=sender_key == self.owner_key,
                media=media,
                where=where,
                export=self.ctx.label,
            )
        )

    def _system(
        self, s: SystemLine, when: datetime | None, chat: str, kind: str, text: str, where: str
    ) -> None:
        actor = self._account(s.actor, where) if s.actor else None
        targets = (
            [self._account(t, where) for t in s.targets] if s.action != "number_changed" else []
        )
        if kind == "group":
            self._membership_event(s, when, chat, actor, targets, where)
        self.out.messages.append(
            Message(
                chat=chat,
                chat_kind=kind,
                sender=actor,
                timestamp=when,
                text=text.strip(_STRIP),
                system=s.action,
                targets=targets,
                where=where,
                export=self.ctx.label,
            )
        )

    def _membership_event(
        self,
        s: SystemLine,
        when: datetime | None,
        chat: str,
        actor: str | None,
        targets: list[str],
        where: str,
    ) -> None:
        apply_group_event(
            self.out,
            action=s.action,
            group=chat,
            actor=actor,
            targets=targets,
            when=when,
            subject=s.subject,
            owner=self.owner_key,
            where=where,
        )

    def _media(self, body: str) -> tuple[MediaRef | None, str | None]:
        first, _, caption = body.partition("\n")
        first = first.strip(_STRIP)
        m = IOS_ATTACHED.match(first) or ANDROID_ATTACHED.match(first)
        if m:
            name = m["name"].strip(_STRIP)
            ref = MediaRef(file_name=name, kind=media_kind(name))
            self._link_attachment(ref)
            return ref, caption.strip() or None
        o = OMITTED.match(first)
        if o:
            return MediaRef(omitted=True, kind=media_kind(None, o["kind"])), caption.strip() or None
        return None, body

    def _link_attachment(self, ref: MediaRef) -> None:
        """Hash the attachment exported beside the text, so its message links to the media."""
        assert ref.file_name is not None
        candidate = self.path.parent / Path(ref.file_name).name
        if not candidate.is_file():
            self.missing_attachments += 1
            return
        digest = hashlib.sha256()
        with candidate.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        ref.sha256 = digest.hexdigest()
        ref.size = candidate.stat().st_size
        ref.present = True


def is_attachment_name(name: str) -> bool:
    return bool(ATTACHMENT_NAME.match(name))
