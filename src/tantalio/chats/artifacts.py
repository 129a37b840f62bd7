"""Artifacts in text: WhatsApp and Telegram invite links, wa.me links, .onion addresses (v2
and v3), URLs, e-mail addresses and phone numbers, each with where it was found.

Runs over message texts, plain-text files, saved web pages and office documents. A saved
page names its site in the comment browsers write when saving (`<!-- saved from
url=(0042)http://….onion/ -->`), or in `<base href>` / `<link rel="canonical">`; that site is
set on every artifact of the page, so an invite link listed on it ties the site to its group.
"""

from __future__ import annotations

import html
import re
import zipfile
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

import phonenumbers
from lxml import etree

from tantalio.chats.record import Artifact

INVITE = re.compile(
    r"(?:https?://)?chat\.whatsapp\.com/(?:invite/)?(?P<code>[A-Za-z0-9]{20,24})\b", re.IGNORECASE
)
# Telegram: private invites `t.me/+HASH`, `t.me/joinchat/HASH` (also telegram.me and
# `tg://join?invite=HASH`), one value `t.me/+HASH`; public groups and channels `t.me/name`,
# value `t.me/name` (lower case). Paths that are Telegram features, not chats, are skipped.
TG_INVITE = re.compile(
    r"(?:https?://)?(?:t|telegram)\.me/(?:\+|joinchat/)(?P<code>[A-Za-z0-9_-]{8,40})"
    r"|tg://join\?invite=(?P<tg>[A-Za-z0-9_-]{8,40})",
    re.IGNORECASE,
)
TG_PUBLIC = re.compile(
    r"(?:https?://)?(?:t|telegram)\.me/(?P<name>[A-Za-z][A-Za-z0-9_]{3,31})\b(?![/+.])",
    re.IGNORECASE,
)
TG_NOT_CHATS = {"share", "addstickers", "addemoji", "proxy", "socks", "setlanguage", "login", "iv"}
WA_ME = re.compile(
    r"(?:https?://)?(?:wa\.me/|api\.whatsapp\.com/send/?\?phone=)\+?(?P<number>\d{6,15})\b",
    re.IGNORECASE,
)
ONION = re.compile(r"\b(?P<host>(?:[a-z2-7]{56}|[a-z2-7]{16})\.onion)\b", re.IGNORECASE)
URL = re.compile(r"\b(?:https?|ftp)://[^\s<>\"'`{}|\\^]+", re.IGNORECASE)
BARE_ONION_URL = re.compile(r"\b(?:[a-z2-7]{56}|[a-z2-7]{16})\.onion/[^\s<>\"']*", re.IGNORECASE)
EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,24}\b")
_TRAILING = ".,;:!?)]}'\""

SAVED_FROM = re.compile(r"<!--\s*saved from url=\(\d+\)(?P<url>\S+?)\s*-->", re.IGNORECASE)
BASE_HREF = re.compile(
    r"<(?:base|link[^>]*rel=[\"']?canonical[\"']?)[^>]*href=[\"'](?P<url>[^\"']+)[\"']",
    re.IGNORECASE,
)

TEXT_SUFFIXES = (".txt", ".md", ".csv", ".log")
HTML_SUFFIXES = (".html", ".htm", ".xhtml", ".mht", ".mhtml")
DOC_SUFFIXES = (".docx", ".odt")
FILE_NAMES = tuple(f"*{s}" for s in TEXT_SUFFIXES + HTML_SUFFIXES + DOC_SUFFIXES)


def _may_hold_artifact(text: str) -> bool:
    """False when no pattern below can match: every link, host and e-mail address holds a
    '.', ':' or '@', and a phone number digits. Most chat messages ("ok", "hola") are
    skipped without running seven patterns and the phone number matcher over them."""
    return _ARTIFACT_HINT.search(text) is not None


_ARTIFACT_HINT = re.compile(r"[.:@\d]")  # \d: any Unicode digit, as phonenumbers reads them


def extract(
    text: str,
    where: str,
    *,
    chat: str | None = None,
    sender: str | None = None,
    site: str | None = None,
    region: str | None = None,
) -> list[Artifact]:
    """Every artifact in `text`; duplicates within the text are reported once."""
    if not _may_hold_artifact(text):
        return []
    found: dict[tuple[str, str], Artifact] = {}

    def add(kind: str, value: str, raw: str) -> None:
        found.setdefault(
            (kind, value),
            Artifact(
                kind=kind, value=value, raw=raw, where=where, chat=chat, sender=sender, site=site
            ),
        )

    covered: list[tuple[int, int]] = []
    for m in INVITE.finditer(text):
        add("whatsapp_invite", m["code"], m[0])
        covered.append(m.span())
    for m in TG_INVITE.finditer(text):
        add("telegram_invite", f"t.me/+{m['code'] or m['tg']}", m[0])
        covered.append(m.span())
    for m in TG_PUBLIC.finditer(text):
        if m["name"].lower() not in TG_NOT_CHATS and not any(
            a <= m.start() < b for a, b in covered
        ):
            add("telegram_invite", f"t.me/{m['name'].lower()}", m[0])
            covered.append(m.span())
    for m in WA_ME.finditer(text):
        add("wa_me", "+" + m["number"], m[0])
        covered.append(m.span())
    for m in ONION.finditer(text):
        add("onion", m["host"].lower(), m[0])
    for m in [*URL.finditer(text), *BARE_ONION_URL.finditer(text)]:
        if any(a <= m.start() < b for a, b in covered):
            continue
        raw = m[0].rstrip(_TRAILING)
        add("url", normalize_url(raw), raw)
        covered.append((m.start(), m.start() + len(raw)))
    for m in EMAIL.finditer(text):
        if not any(a <= m.start() < b for a, b in covered):
            add("email", m[0].lower(), m[0])
    for pm in phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID):
        if any(a <= pm.start < b for a, b in covered):
            continue
        e164 = phonenumbers.format_number(pm.number, phonenumbers.PhoneNumberFormat.E164)
        add("phone", e164, pm.raw_string)
    return list(found.values())


def telegram_invite(link: str) -> str | None:
    """The invite value (`t.me/+HASH`, `t.me/name`) of one Telegram link, else None."""
    found = [a.value for a in extract(link, "") if a.kind == "telegram_invite"]
    return found[0] if found else None


def normalize_url(raw: str) -> str:
    if "://" not in raw:
        raw = "http://" + raw
    parts = urlsplit(raw)
    host = (parts.hostname or "").lower()
    netloc = host + (f":{parts.port}" if parts.port else "")
    return parts._replace(scheme=parts.scheme.lower(), netloc=netloc).geturl()


def site_of(url: str) -> str | None:
    try:
        return urlsplit(url if "://" in url else "http://" + url).hostname
    except ValueError:
        return None


def _lines_of_document(path: Path) -> list[str]:
    """The paragraphs of a .docx / .odt (zip of XML), one per line."""
    member = "word/document.xml" if path.suffix.lower() == ".docx" else "content.xml"
    with zipfile.ZipFile(path) as zf:
        root = etree.fromstring(zf.read(member), parser=etree.XMLParser(resolve_entities=False))
    lines = []
    for el in root.iter():
        tag = el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""
        if tag in ("p", "h"):
            lines.append("".join(el.itertext()))
    return lines


def extract_file(
    path: Path, label: str, region: str | None = None
) -> tuple[list[Artifact], str | None]:
    """Artifacts of a text file, saved page or document; the second value is an error."""
    suffix = path.suffix.lower()
    try:
        if suffix in DOC_SUFFIXES:
            lines = _lines_of_document(path)
            site = None
        else:
            raw = path.read_bytes().decode("utf-8", errors="replace")
            site = None
            if suffix in HTML_SUFFIXES:
                m = SAVED_FROM.search(raw) or BASE_HREF.search(raw)
                site = site_of(m["url"]) if m else None
                raw = html.unescape(raw)
            lines = raw.splitlines()
    except (OSError, zipfile.BadZipFile, KeyError, etree.XMLSyntaxError) as exc:
        return [], f"cannot read: {exc}"
    out: list[Artifact] = []
    for n, line in enumerate(lines, start=1):
        out.extend(extract(line, f"{label}:{n}", site=site, region=region))
    return out, None


def dedupe(artifacts: Iterable[Artifact]) -> list[Artifact]:
    seen: set[tuple[str, str, str]] = set()
    out = []
    for a in artifacts:
        key = (a.kind, a.value, a.where)
        if key not in seen:
            seen.add(key)
            out.append(a)
    return out
