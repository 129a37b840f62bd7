"""System lines and attachment forms of WhatsApp text exports (English exports; see
docs/decisions/chats.md for what other languages fall back to).

Text exports name actors as the phone shows them ("You", a contact name, a number), so the
patterns capture labels and the parser resolves them to accounts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tantalio.chats.textdates import INVISIBLE

_Q_OPEN = '["\u201c\u201e\u00ab]'
_Q_CLOSE = '["\u201d\u201c\u00bb]'
_ACTOR = r"(?P<actor>[^:]+?)"

# (action, pattern) tried in order; an actor never contains ':' (that is a sender prefix).
SYSTEM_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (action, re.compile(pattern))
    for action, pattern in (
        ("created", rf"^{_ACTOR} created (?:the )?group {_Q_OPEN}(?P<subject>.*){_Q_CLOSE}$"),
        ("created", rf"^{_ACTOR} created this group$"),
        (
            "joined_invite",
            rf"^{_ACTOR} joined (?:using|via|from) (?:this group['\u2019]s|a group|an|the)"
            r" (?:invite )?link$",
        ),
        (
            "subject_changed",
            rf"^{_ACTOR} changed the (?:subject|group name) from {_Q_OPEN}(?P<old>.*){_Q_CLOSE}"
            rf" to {_Q_OPEN}(?P<subject>.*){_Q_CLOSE}$",
        ),
        (
            "subject_changed",
            rf"^{_ACTOR} changed the (?:subject|group name) to {_Q_OPEN}(?P<subject>.*){_Q_CLOSE}$",
        ),
        (
            "icon_changed",
            rf"^{_ACTOR} (?:changed|deleted) (?:this group['\u2019]s|the group) (?:icon|photo)$",
        ),
        ("admin_granted", r"^(?P<targets>You)['\u2019]re now an admin$"),
        ("number_changed", rf"^{_ACTOR} changed (?:their phone number )?to (?P<targets>.+)$"),
        ("added", rf"^{_ACTOR} added (?P<targets>.+)$"),
        ("removed", rf"^{_ACTOR} removed (?P<targets>.+)$"),
        ("left", rf"^{_ACTOR} left$"),
        ("other", r"^Messages and calls are end-to-end encrypted\b.*$"),
        (
            "other",
            r"^(?:You|.+?) changed (?:the|this) group(?:['\u2019]s)? (?:description|settings).*$",
        ),
    )
)


@dataclass(frozen=True, slots=True)
class SystemLine:
    action: str
    actor: str | None
    targets: tuple[str, ...]
    subject: str | None


def match_system(text: str) -> SystemLine | None:
    text = text.strip(INVISIBLE + " ")
    for action, pattern in SYSTEM_PATTERNS:
        m = pattern.match(text)
        if m is None:
            continue
        groups = m.groupdict()
        raw_targets = groups.get("targets") or ""
        targets = tuple(
            t.strip(INVISIBLE + " ")
            for t in re.split(r",\s*|\s+and\s+", raw_targets)
            if t.strip(INVISIBLE + " ")
        )
        return SystemLine(action, groups.get("actor"), targets, groups.get("subject"))
    return None


# Attachments exported with the chat, and attachments the export left out.
IOS_ATTACHED = re.compile(r"^<attached:\s*(?P<name>[^>]+)>")
ANDROID_ATTACHED = re.compile(r"^(?P<name>[^\n]+?)\s+\(file attached\)")
OMITTED = re.compile(
    r"^(?:<(?:Media omitted|Media weggelassen|Multimedia omitido|M\u00eddia oculta"
    r"|M\u00e9dias omis|Media omessi)>"
    r"|(?P<kind>image|video|audio|sticker|GIF|document|Contact card) omitted)$",
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
    if omitted_kind:
        word = omitted_kind.lower()
        return {"gif": "video", "contact card": "contact"}.get(word, word)
    if not name:
        return None
    upper = name.upper()
    for tag, kind in _KIND_BY_TAG:
        if f"-{tag}-" in upper or upper.startswith(f"{tag}-"):
            return kind
    return _KIND_BY_EXT.get(name.rsplit(".", 1)[-1].lower(), "document")
