"""The web app in English, Spanish and Portuguese (issue 16): gettext catalogs kept as `.po`
files in `web/locale/`, numbers and dates formatted for the reader's locale with Babel.

The locale of a page is the user's setting (`user.locale`), else the browser's
Accept-Language among the supported ones, else English. It is held in a context variable for
the duration of one render, so one shared Jinja environment serves every language safely.
Chat messages, file names and anything else taken from evidence are shown as written: only
the application's own words are translated.
"""

from __future__ import annotations

import gettext
from contextvars import ContextVar
from datetime import datetime
from functools import cache
from io import BytesIO
from pathlib import Path

LOCALES = {"en": "English", "es": "Español", "pt": "Português"}
DEFAULT = "en"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
_current: ContextVar[str] = ContextVar("tantalio_locale", default=DEFAULT)


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The catalog of `locale`, compiled in memory from its .po file (no build step)."""
    po = LOCALE_DIR / f"{locale}.po"
    if locale == DEFAULT or not po.is_file():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as fh:
        catalog = read_po(fh, locale=locale)
    buf = BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def set_locale(locale: str) -> None:
    _current.set(locale if locale in LOCALES else DEFAULT)


def current_locale() -> str:
    return _current.get()


def negotiate(user_locale: str | None, accept_language: str | None) -> str:
    """The user's setting, else the best supported language the browser asks for."""
    if user_locale in LOCALES:
        return str(user_locale)
    ranked: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        lang, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        code = lang.strip().lower().split("-")[0]
        if code in LOCALES:
            ranked.append((weight, code))
    return max(ranked)[1] if ranked else DEFAULT


def _(message: str) -> str:
    return translations(_current.get()).gettext(message)


class Text(str):
    """An English message with named fields (`{name}`), raised or returned by a router
    before the page's language is known. It *is* the English string (JSON answers, logs and
    the audit log keep English); a page shows it through the `tr` filter, which translates
    the template and then fills the fields, so values taken from evidence or from the user
    are never looked up in a catalog nor marked safe."""

    template: str
    params: dict[str, object]

    def __new__(cls, template: str, **params: object) -> Text:
        obj = super().__new__(cls, template.format(**params) if params else template)
        obj.template = template
        obj.params = params
        return obj


def N_(template: str, **params: object) -> Text:
    """Mark a router's message for the catalogs (scripts/i18n_catalogs.py extracts `N_`)."""
    return Text(template, **params)


def tr(value: object) -> object:
    """A message in the reader's language: a `Text` by its template, a plain string by
    exact match (one not in the catalog, e.g. a store's error, stays as it is)."""
    if isinstance(value, Text):
        translated = _(value.template)
        try:
            return translated.format(**value.params) if value.params else translated
        except (KeyError, IndexError, ValueError):
            return str(value)  # a broken translation never hides the message
    if isinstance(value, str) and value:
        return _(value)
    return value


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def number(value: float | int | None) -> str:
    """A count or size as the reader writes numbers (1,234 / 1.234)."""
    if value is None:
        return ""
    from babel.numbers import format_decimal

    return str(format_decimal(value, locale=_babel_locale()))


def when(value: datetime | str | None, length: str = "medium") -> str:
    """A UTC timestamp in the reader's date format (always UTC, said so on the pages)."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    else:
        moment = value
    from babel.dates import format_datetime

    return str(format_datetime(moment, length, locale=_babel_locale()))


def fixed(value: float | int | None, digits: int = 1) -> str:
    """A measure with a fixed number of decimals (a score, seconds), in the reader's format."""
    if value is None:
        return ""
    from babel.numbers import format_decimal

    pattern = "#,##0." + "0" * digits if digits else "#,##0"
    return str(format_decimal(value, format=pattern, locale=_babel_locale()))


# Words other packages put on pages as they are (statuses, roles, kinds, reasons): shown
# through `tr`, so they are listed here for the catalogs (scripts/i18n_catalogs.py).
VOCABULARY = (
    # roles (store/auth.py ROLES) and chat group roles (chats/record.py ROLES)
    "admin", "examiner", "victim-id", "auditor", "member", "creator",
    # how an account joined or left a group (chats/record.py JOINED_HOW, LEFT_HOW)
    "created", "added", "invite_link", "listed", "unknown", "left", "removed",
    # chat kinds (chats/record.py CHAT_KINDS)
    "group", "direct", "broadcast", "status",
    # series statuses (store/series.py) and the exchange's (exchange/records.py)
    "unidentified", "in progress", "in-progress", "identified",
    # exhibits, ingest jobs, image verification
    "ingesting", "complete", "running", "done", "failed", "match", "mismatch", "not verified",
    # media kinds, kinds of chat attachments (chats/record.py), hash-set kinds
    "image", "video", "other", "audio", "document", "sticker", "gif", "contact", "location",
    "known-bad", "known-good", "alert", "reference",
    # why a new media ranks high (triage/tile_facts.py new_media_reasons)
    "camera EXIF", "GPS", "deleted",
    # what a case notice lists before and after a change (exchange/sync.py)
    "not held", "retracted",
    "Uncategorized",
)  # fmt: skip

# What the browser scripts (static/*.js) write on pages: base.html hands them this
# dictionary in the reader's language; `tantalio.t(text, {name: value})` looks them up.
JS_MESSAGES = (
    "reveal", "hide", "Reveal this item (r). Recorded in the audit log.", "Blur it again (r)",
    "uncat.", "cat {code}", "Uncategorized", "Select or focus an item first",
    "{count} item(s) → {category} ({changed} changed)", "Tagged {count} item(s)", "Notes saved",
    "Select the media of the series first", "Name of the new series ({count} item(s)):",
    "Nothing similar found", "Select proposals first", "Select members first", "Series saved",
    "intact: {count} events", "BROKEN: {problems}", "loading…", "(node limit reached)",
    "Click a node to highlight its neighbourhood; click the background to clear.",
    "rank {rank}, score {score}", "{known} known / {new} new media posts", "{count} members",
    "category {code}", "{count} posts", "file on an exhibit", "file gone: known by its hash only",
    "Open the account page →", "Open the group page →", "Open the media detail →",
    "Open the page →", "account", "media", "site", "invite", "series", "group",
    "{nodes} of {total_nodes} nodes, {edges} of {total_edges} edges drawn", "camera {name}",
)  # fmt: skip


def js_catalog() -> dict[str, str]:
    """JS_MESSAGES in the current locale (only those that differ from the English)."""
    out = {}
    for text in JS_MESSAGES:
        translated = _(text)
        if translated != text:
            out[text] = translated
    return out


def _babel_locale() -> str:
    return {"en": "en_GB", "es": "es_ES", "pt": "pt_BR"}.get(_current.get(), "en_GB")
