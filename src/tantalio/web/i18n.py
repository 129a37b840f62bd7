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


def _babel_locale() -> str:
    return {"en": "en_GB", "es": "es_ES", "pt": "pt_BR"}.get(_current.get(), "en_GB")
