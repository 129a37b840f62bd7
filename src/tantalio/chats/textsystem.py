"""System lines and attachment markers of WhatsApp text exports, in the languages of
`lang/` (one table per language; see its docstring for the rule syntax).

Text exports name actors as the phone shows them ("You", a contact name, a number), so the
patterns capture labels and the parser resolves them to accounts; a label or a verb form that
means the phone's owner comes back as `OWNER` ("You").

The language of a file is decided once (`detect`) from the lines that can only be system
lines; attachment and left-out media markers are recognised in every language at once
(they are distinctive, and a chat may mix phones' forwarded captions).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tantalio.chats.lang import LANGUAGES, Language
from tantalio.chats.textdates import INVISIBLE, SPACES

OWNER = "You"
_Q_OPEN = f'["\u201c\u201e\u00ab\u2018\u201d][{SPACES}]?'
_Q_CLOSE = f'[{SPACES}]?["\u201d\u201c\u00bb\u2019]'
_STRIP = INVISIBLE + SPACES


@dataclass(frozen=True, slots=True)
class SystemLine:
    action: str
    actor: str | None
    targets: tuple[str, ...]
    subject: str | None


def _compile(pattern: str) -> re.Pattern[str]:
    body = pattern.format(
        actor=r"(?P<actor>[^:]+?)",
        targets=r"(?P<targets>.+)",
        subject=r"(?P<subject>.*)",
        old=r"(?P<old>.*)",
        q=_Q_OPEN,
        qc=_Q_CLOSE,
    )
    return re.compile(f"^{body}$", re.IGNORECASE)


class Lexicon:
    """One language's rules, compiled."""

    def __init__(self, lang: Language) -> None:
        self.lang = lang
        self.rules = tuple((rule, _compile(rule.pattern)) for rule in lang.rules)
        words = sorted(lang.keywords, key=len, reverse=True)
        self.trigger = re.compile("|".join(re.escape(w) for w in words), re.IGNORECASE)
        ands = "|".join(re.escape(w) for w in lang.and_words)
        self.split = re.compile(rf",\s*|\s+(?:{ands})\s+" if ands else r",\s*")
        self.owner_words = {w.lower() for w in lang.owner_words}
        self._heads: dict[str, bool] = {}  # may_be_system's answers

    def __repr__(self) -> str:
        return f"Lexicon({self.lang.code})"

    def may_be_system(self, head: str) -> bool:
        """False when `head` (a line's text before its first ': ') holds none of the
        language's keywords: then no rule can match the line."""
        known = self._heads.get(head)
        if known is None:
            known = self.trigger.search(head) is not None
            if len(self._heads) < 100_000:  # heads are mostly senders' names: they repeat
                self._heads[head] = known
        return known

    def _label(self, label: str) -> str:
        label = label.strip(_STRIP)
        return OWNER if label.lower() in self.owner_words else label

    def _targets(self, raw: str) -> tuple[str, ...]:
        out = []
        article = self.lang.target_article
        for part in self.split.split(raw):
            part = part.strip(_STRIP)
            if article and part.lower().startswith(article + " "):
                part = part[len(article) + 1 :].strip(_STRIP)
            if part:
                out.append(self._label(part))
        return tuple(out)

    def match(self, text: str) -> SystemLine | None:
        text = text.strip(_STRIP)
        for rule, pattern in self.rules:
            m = pattern.match(text)
            if m is None:
                continue
            groups = m.groupdict()
            actor = OWNER if rule.actor_is_owner else groups.get("actor")
            targets = self._targets(groups.get("targets") or "")
            if rule.target_is_owner:
                targets = (*targets, OWNER)
            subject = groups.get("subject")
            return SystemLine(
                rule.action,
                self._label(actor) if actor else None,
                targets,
                subject.strip(_STRIP) if subject is not None else None,
            )
        return None


LEXICONS: tuple[Lexicon, ...] = tuple(Lexicon(lang) for lang in LANGUAGES)
ENGLISH = LEXICONS[0]
DETECT_LINES = 500  # candidate system lines looked at to decide a file's language


def match_system(text: str, lexicon: Lexicon = ENGLISH) -> SystemLine | None:
    return lexicon.match(text)


def detect(candidates: Iterable[str]) -> tuple[Lexicon, int]:
    """The language whose rules recognise most of a file's candidate system lines, and how
    many it recognised; English when none recognises any (ties: `LANGUAGES` order)."""
    lines = []
    for line in candidates:
        lines.append(line)
        if len(lines) >= DETECT_LINES:
            break
    best, best_score = ENGLISH, 0
    for lex in LEXICONS:
        score = sum(1 for line in lines if lex.match(line) is not None)
        if score > best_score:
            best, best_score = lex, score
    return best, best_score


# Attachments exported with the chat, and attachments the export left out: every language.
def _alternatives(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


IOS_ATTACHED = re.compile(
    rf"^<(?:{_alternatives(w for lg in LANGUAGES for w in lg.attached_ios)})"
    rf"[{SPACES}]?:\s*(?P<name>[^>]+)>",
    re.IGNORECASE,
)
_ATTACHED_WORDS = _alternatives(w for lg in LANGUAGES for w in lg.attached_android)
ANDROID_ATTACHED = re.compile(rf"^(?P<name>[^\n]+?)\s+\((?:{_ATTACHED_WORDS})\)", re.IGNORECASE)
_OMITTED_KIND = {
    phrase.lower(): kind for lg in LANGUAGES for phrase, kind in lg.omitted_ios.items()
}
OMITTED = re.compile(
    rf"^(?:{_alternatives(w for lg in LANGUAGES for w in lg.omitted_android)}"
    rf"|(?P<kind>{_alternatives(p for lg in LANGUAGES for p in lg.omitted_ios)}))$",
    re.IGNORECASE,
)
CHAT_FILE = re.compile(
    rf"^(?:{_alternatives(w for lg in LANGUAGES for w in lg.chat_file)})"
    r"\s*(?P<name>.+?)(?:\.txt)?$",
    re.IGNORECASE,
)

_KIND_BY_TAG = (
    ("PHOTO", "image"),
    ("IMG", "image"),
    ("VIDEO", "video"),
    ("VID", "video"),
    ("GIF", "video"),
    ("AUDIO", "audio"),
    ("AUD", "audio"),
    ("PTT", "audio"),
    ("STICKER", "sticker"),
    ("STK", "sticker"),
    ("DOC", "document"),
)
_KIND_BY_EXT = {
    "jpg": "image",
    "jpeg": "image",
    "png": "image",
    "webp": "image",
    "gif": "image",
    "heic": "image",
    "mp4": "video",
    "mov": "video",
    "3gp": "video",
    "opus": "audio",
    "m4a": "audio",
    "mp3": "audio",
    "pdf": "document",
}

# Exported attachment names: iOS `00000035-PHOTO-2020-12-31-23-59-59.jpg`, Android
# `IMG-20201231-WA0001.jpg`.
ATTACHMENT_NAME = re.compile(
    r"^(?:\d{8}-[A-Z]+-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}|[A-Z]{3}-\d{8}-WA\d{4,})\.\w+$",
    re.IGNORECASE,
)


def media_kind(name: str | None, omitted_kind: str | None = None) -> str | None:
    """The kind of an attachment by its exported name, or of a left-out one by its marker."""
    if omitted_kind:
        return _OMITTED_KIND.get(omitted_kind.lower(), "document")
    if not name:
        return None
    upper = name.upper()
    for tag, kind in _KIND_BY_TAG:
        if f"-{tag}-" in upper or upper.startswith(f"{tag}-"):
            return kind
    return _KIND_BY_EXT.get(name.rsplit(".", 1)[-1].lower(), "document")
