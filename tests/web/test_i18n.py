"""The web app in English, Spanish and Portuguese (issue 16): the user's language setting
(audited), else the browser's; numbers in the reader's format; every string of the
translated templates present in both catalogs; evidence shown as written."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from babel.messages.pofile import read_po
from jinja2 import Environment

from tantalio.web import i18n

from .conftest import WebEnv

pytestmark = pytest.mark.anyio
ROOT = Path(__file__).resolve().parents[2]


async def test_login_page_follows_the_browser(anon: httpx.AsyncClient) -> None:
    es = await anon.get("/login", headers={"Accept-Language": "es-ES,es;q=0.9,en;q=0.5"})
    assert "Iniciar sesión" in es.text and '<html lang="es">' in es.text
    pt = await anon.get("/login", headers={"Accept-Language": "pt-BR"})
    assert "Entrar" in pt.text and "Senha" in pt.text
    other = await anon.get("/login", headers={"Accept-Language": "de-DE"})
    assert "Log in" in other.text


async def test_the_users_setting_wins_and_is_audited(
    web_env: WebEnv, examiner: httpx.AsyncClient
) -> None:
    r = await examiner.put("/api/me/language", json={"locale": "pt"})
    assert r.status_code == 200 and r.json() == {"locale": "pt"}
    page = await examiner.get("/settings", headers={"Accept-Language": "es"})
    assert "Configurações" in page.text and "Visualização segura" in page.text
    assert (await examiner.put("/api/me/language", json={"locale": "xx"})).status_code == 422
    await examiner.put("/api/me/language", json={"locale": None})
    page = await examiner.get("/settings", headers={"Accept-Language": "es"})
    assert "Ajustes" in page.text
    with web_env.session() as s:
        from sqlalchemy import select

        from tantalio.store.auth import AuditEvent

        actions = s.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "settings.language")
        ).all()
        assert len(actions) == 2  # pt, then back to the browser; the refused xx changed nothing


def test_numbers_follow_the_locale() -> None:
    for locale, text in (("en", "1,234,567"), ("es", "1.234.567"), ("pt", "1.234.567")):
        i18n.set_locale(locale)
        assert i18n.number(1234567) == text
    i18n.set_locale("en")


def test_every_string_is_translated(tmp_path: Path) -> None:
    """The catalogs cover every string the templates mark (run scripts/i18n_catalogs.py
    after adding strings, then translate them)."""
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "i18n_catalogs.py")], check=True, cwd=tmp_path,
        capture_output=True,
    )  # fmt: skip
    for locale in ("es", "pt"):
        with (ROOT / "src/tantalio/web/locale" / f"{locale}.po").open("rb") as fh:
            missing = [m.id for m in read_po(fh) if m.id and not m.string]
        assert missing == [], f"{locale}: untranslated {missing}"


# --- every template's own words go through the catalogs ------------------------------------

TEMPLATES_DIR = ROOT / "src" / "tantalio" / "web" / "templates"
STATIC_DIR = ROOT / "src" / "tantalio" / "web" / "static"
# Words the same in every language: the product, formats, algorithms, identifiers, key names.
SAME_IN_EVERY_LANGUAGE = {
    "tantalio", "JID", "LID", "SHA", "MD5", "PDQ", "EXIF", "GPS", "UTC", "Esc", "Enter",
}  # fmt: skip
SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}
TRANSLATING_CALLS = {"_", "gettext", "ngettext"}
MARK = "\ue000"  # stands for a {{ ... }} in the skeleton of a template


def english_words(text: str) -> list[str]:
    words = re.findall(r"[A-Za-z][A-Za-z0-9'’]*(?:-[A-Za-z]+)*", text.replace(MARK, " "))
    return [w for w in words if len(w) > 1 and w not in SAME_IN_EVERY_LANGUAGE]


class _TextScan(HTMLParser):
    """Text nodes and shown attributes of a template's HTML skeleton, outside code, scripts
    and elements marked translate="no" (evidence shown as written)."""

    VOID = {"br", "img", "input", "meta", "link", "hr", "source", "option"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.found: list[str] = []

    def _skipping(self) -> bool:
        return any(skip for _, skip in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if not self._skipping():
            for name in SHOWN_ATTRIBUTES & values.keys():
                if english_words(values[name] or ""):
                    self.found.append(f'{tag} {name}="{values[name]}"')
        if tag not in self.VOID:
            skip = tag in ("code", "script", "style") or values.get("translate") == "no"
            self.stack.append((tag, skip))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipping() and english_words(data):
            self.found.append(data.strip())


def _open_attribute(skeleton: str) -> str | None:
    """The attribute whose value the end of `skeleton` is inside ("" inside a tag but not in
    a value, None outside tags)."""
    tag_start = skeleton.rfind("<")
    if tag_start < skeleton.rfind(">"):
        return None
    inside = skeleton[tag_start:]
    m = re.search(r'([\w:-]+)="[^"]*$', inside)
    return m.group(1) if m else ""


def _literals_shown(tokens: list[tuple[str, str]]) -> list[str]:
    """String literals of one {{ ... }} that reach the page untranslated: not an argument of
    `_()` nor of another call or filter, not an operand of a comparison."""
    found = []
    calls: list[str | None] = []
    for i, (kind, value) in enumerate(tokens):
        prev = tokens[i - 1] if i else ("", "")
        if kind == "operator" and value in "([":
            calls.append(prev[1] if value == "(" and prev[0] == "name" else None)
        elif kind == "operator" and value in ")]":
            if calls:
                calls.pop()
        elif kind == "string":
            after = tokens[i + 1] if i + 1 < len(tokens) else ("", "")
            if any(calls):  # an argument: translated by _(), or a filter's/macro's parameter
                continue
            if prev[1] in ("==", "!=", "in") or after[1] in ("==", "!=", "in"):
                continue
            if english_words(value[1:-1]):
                found.append(value[1:-1])
    return found


def untranslated_in_template(path: Path) -> list[str]:
    env = Environment(extensions=["jinja2.ext.i18n"])
    skeleton = ""
    found: list[str] = []
    block: list[tuple[str, str]] | None = None
    tag: list[str] = []  # the names of the current {% ... %}
    in_class_block = False  # {% block body_class %}: a CSS class, not text
    for _line, kind, value in env.lex(path.read_text(encoding="utf-8")):
        if kind == "block_begin":
            tag = []
        elif kind == "name" and block is None:
            tag.append(value)
        elif kind == "block_end":
            if tag[:1] == ["block"] and tag[1:2] and tag[1].endswith("_class"):
                in_class_block = True
            elif tag[:1] == ["endblock"]:
                in_class_block = False
        if kind == "data" and block is None:
            if not in_class_block:
                skeleton += value
        elif kind == "variable_begin":
            block = []
        elif kind == "variable_end" and block is not None:
            attribute = _open_attribute(skeleton)
            if attribute is None or attribute in SHOWN_ATTRIBUTES:
                found += [f"{{{{ {v!r} }}}}" for v in _literals_shown(block)]
            skeleton += MARK
            block = None
        elif block is not None and kind not in ("whitespace",):
            block.append((kind, value))
    scan = _TextScan()
    scan.feed(skeleton)
    return found + scan.found


def test_every_template_string_goes_through_the_catalogs() -> None:
    """No English left in a template outside `_()`: text, shown attributes (title,
    placeholder, aria-label, alt) and string literals printed by `{{ }}`. Evidence is marked
    translate="no" (or is in <code>) and shown as written."""
    problems = {}
    for path in sorted(TEMPLATES_DIR.glob("*.html")):
        if found := untranslated_in_template(path):
            problems[path.name] = found
    assert problems == {}, f"untranslated template text (wrap it in _()): {problems}"


def test_the_scan_sees_english(tmp_path: Path) -> None:
    """The scan above is not vacuous: it finds each kind of untranslated text."""
    sample = tmp_path / "sample.html"
    sample.write_text(
        "<h1>Hello there</h1><p title=\"Some tip\">{{ _('Fine') }}</p>"
        "<span>{{ 'yes' if x else _('no') }}</span><code>tantalio ingest</code>"
        '<td translate="no">{{ file }} as written</td><b class="{{ \'known\' }}">GPS</b>',
        encoding="utf-8",
    )
    assert untranslated_in_template(sample) == ["{{ 'yes' }}", "Hello there", 'p title="Some tip"']


def test_scripts_translate_what_they_write() -> None:
    """Browser scripts put no English literal on a page: toasts, prompts, texts and titles
    go through tantalio.t(), whose every text is in i18n.JS_MESSAGES (so in the catalogs)."""
    bare = re.compile(
        r"""(?:toast|prompt)\(\s*["'`]|(?:textContent|title)\s*=\s*["'`][^"'`]*[A-Za-z]{2}"""
    )
    for path in STATIC_DIR.glob("*.js"):
        source = path.read_text(encoding="utf-8")
        assert not bare.findall(source), f"{path.name}: {bare.findall(source)}"
        for text in re.findall(r"""\bt\(\s*"([^"]+)\"""", source):
            assert text in i18n.JS_MESSAGES, f"{path.name}: {text!r} is not in JS_MESSAGES"


def test_placeholders_survive_translation() -> None:
    """A translation keeps every field of its message (%(name)s, {name}): a lost field would
    hide a value, an unknown one would break the page."""
    fields = re.compile(r"%\(\w+\)s|\{\w+\}")
    for locale in ("es", "pt"):
        with (ROOT / "src/tantalio/web/locale" / f"{locale}.po").open("rb") as fh:
            for m in read_po(fh):
                if m.id and m.string:
                    assert sorted(fields.findall(str(m.string))) == sorted(
                        fields.findall(str(m.id))
                    ), f"{locale}: {m.id!r} -> {m.string!r}"


# --- the routers' messages: translated on pages, English in JSON -----------------------------


async def test_a_refused_login_says_why_in_the_browsers_language(
    anon: httpx.AsyncClient,
) -> None:
    page = await anon.get("/login", headers={"Accept-Language": "es"})
    token = anon.cookies.get("tantalio_login_csrf") or re.search(
        r'name="csrf_token" value="([^"]+)"', page.text
    ).group(1)  # type: ignore[union-attr]
    r = await anon.post(
        "/login",
        data={"username": "erin", "password": "not the password", "csrf_token": token},
        headers={"Accept-Language": "es"},
    )
    assert r.status_code == 401
    assert "usuario o contraseña incorrectos, o la cuenta está desactivada" in r.text


async def test_error_pages_translate_the_message_and_keep_its_values(
    examiner: httpx.AsyncClient,
) -> None:
    await examiner.put("/api/me/language", json={"locale": "pt"})
    page = await examiner.get("/cases/987654")
    assert page.status_code == 404
    assert "Não encontrado" in page.text and "não existe o caso 987654" in page.text
    # the JSON API answers in English whatever the user's language (scripts parse it)
    api = await examiner.get("/api/cases/987654")
    assert api.status_code == 404 and api.json() == {"detail": "no case 987654"}


async def test_a_value_in_a_message_is_escaped_not_translated(
    examiner: httpx.AsyncClient, auditor: httpx.AsyncClient
) -> None:
    """A router's message carries values (a role, what the user typed): they are filled into
    the translated sentence as text, never as markup."""
    await examiner.put("/api/me/language", json={"locale": "es"})
    r = await examiner.get("/audit")
    assert r.status_code == 403 and "su rol (examiner) no permite esta acción" in r.text
    assert '<html lang="es">' in r.text  # the refusal page knows who asks
    await auditor.put("/api/me/language", json={"locale": "es"})
    r = await auditor.get("/audit", params={"since": "<b>nope</b>"})
    assert r.status_code == 400
    assert "since: no es una fecha/hora ISO: &#39;&lt;b&gt;nope&lt;/b&gt;&#39;" in r.text
    assert "<b>nope</b>" not in r.text


def test_messages_keep_their_english_value() -> None:
    """`N_` messages are the English string (JSON, logs, the audit log) and translate on
    pages with their fields filled in after translation."""
    msg = i18n.N_("no case {id}", id=7)
    assert msg == "no case 7" and isinstance(msg, str)
    i18n.set_locale("es")
    try:
        assert i18n.tr(msg) == "no existe el caso 7"
        assert i18n.tr("wrong username or password, or the account is disabled").startswith(
            "usuario o contraseña"
        )
        assert i18n.tr("a file name.jpg") == "a file name.jpg"  # not in the catalog
        assert i18n.fixed(1234.5, 1) == "1.234,5"
    finally:
        i18n.set_locale("en")


async def test_a_case_notice_in_the_users_language(
    web_env: WebEnv, examiner: httpx.AsyncClient, tmp_path: Path
) -> None:
    """The notice's frame and the verdicts it lists are translated; its stored sentence and
    the file's path are shown as written."""
    from PIL import Image

    from tantalio.store import repo
    from tantalio.store.subscriptions import add_notice
    from tantalio.triage.pipeline import ingest

    from .conftest import grant_all

    ws = web_env.workspace
    (tmp_path / "phone" / "DCIM").mkdir(parents=True)
    Image.new("RGB", (64, 48), (40, 120, 60)).save(tmp_path / "phone" / "DCIM" / "lake.png")
    ingest(ws, "OP-9", [str(tmp_path / "phone")])
    grant_all(ws)
    with ws.transaction() as s:
        case_id = repo.get_case(s, "OP-9").id
        files = [{"path": "DCIM/lake.png", "before": "new", "after": "known"}]
        add_notice(s, case_id, "hashset-pull", "List update 'worst' (delta 1)", {"files": files})
    await examiner.put("/api/me/language", json={"locale": "es"})
    page = (await examiner.get(f"/cases/{case_id}")).text
    assert "Cambios desde fuera de este caso" in page and "Marcar como visto" in page
    assert "nuevo → <strong>conocido</strong>" in page
    assert "List update &#39;worst&#39; (delta 1)" in page and "DCIM/lake.png" in page
