"""Extract the web app's translatable strings and keep the catalogs in step.

    python scripts/i18n_catalogs.py          # writes src/tantalio/web/locale/{es,pt}.po

Strings come from the templates (`{{ _('...') }}`), from the routers' messages marked
`N_("...")` (web/i18n.py: shown through the `tr` filter), from the words other packages put
on pages (verdicts, category names, `i18n.VOCABULARY`) and from the browser scripts' texts
(`i18n.JS_MESSAGES`). Translations already in a catalog are kept; new strings
are added untranslated (and `tests/web/test_i18n.py` then fails until someone translates
them). Obsolete ones are dropped.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
WEB = ROOT / "src" / "tantalio" / "web"
LOCALES = ("es", "pt")


def python_strings() -> list[str]:
    sys.path.insert(0, str(ROOT / "src"))
    from tantalio.store.cases import VERDICTS
    from tantalio.web.categories import CATEGORIES, CATEGORY_SHORT
    from tantalio.web.i18n import JS_MESSAGES, VOCABULARY

    return [*VERDICTS, *CATEGORIES.values(), *CATEGORY_SHORT.values(), *VOCABULARY, *JS_MESSAGES]


def messages() -> list[str]:
    found: dict[str, None] = {}
    method_map = [("templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}  # .py: babel's N_
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(WEB), method_map, options_map=options
    ):
        if isinstance(message, str):
            found[message] = None
    for text in python_strings():
        found[text] = None
    return list(found)


def main() -> None:
    wanted = messages()
    for locale in LOCALES:
        path = WEB / "locale" / f"{locale}.po"
        old: dict[str, str] = {}
        if path.is_file():
            with path.open("rb") as fh:
                old = {str(m.id): str(m.string) for m in read_po(fh) if m.id}
        missing = [t for t in wanted if not old.get(t)]
        if list(old) == wanted:  # nothing to add or drop: leave the file (and its date) alone
            print(f"{path.relative_to(ROOT)}: {len(wanted)} strings, {len(missing)} untranslated")
            continue
        catalog = Catalog(locale=locale, project="tantalio")
        for text in wanted:
            catalog.add(text, old.get(text, ""))
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False)
        print(f"{path.relative_to(ROOT)}: {len(wanted)} strings, {len(missing)} untranslated")


if __name__ == "__main__":
    main()
