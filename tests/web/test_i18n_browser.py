"""The web app in Spanish and Portuguese, end to end in real Chromium (issue 16): an examiner
and an administrator switch their language in the settings page, then walk every main page
(cases, dashboard, triage grid, media detail, series, query by example, chat network, account
and group pages, settings, password, audit log, users, case members, an error page). On each,
no English word of the application's own is left on the page once the scripts have run; data
taken from evidence (file names, chat names, hashes), marked translate="no", is shown as
written. Dates and numbers follow the language.

Set TANTALIO_SCREENSHOTS=DIR to save the Spanish dashboard, triage grid and network pages
there (docs/screenshots/*-es.png are made this way).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tantalio.store import auth as store_auth
from tantalio.store import review
from tantalio.store.repo import get_case
from tantalio.store.workspace import Workspace, init_workspace
from tantalio.triage.hashset_import import import_hash_set
from tantalio.triage.pipeline import IngestOptions, ingest

from .conftest import CHROMIUM, PASSWORD, ROLE_USERS, grant_all, serve_workspace
from .demo_case import DemoCase, ingest_demo

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "chats" / "scenario"
LOCALE_DIR = Path(__file__).resolve().parents[2] / "src" / "tantalio" / "web" / "locale"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (make system-deps)"
    ),
]

# Every text node and shown attribute of the page, outside what is shown as written.
VISIBLE_TEXT = """() => {
  const asWritten = '[translate="no"], code, script, style';
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const el = walker.currentNode.parentElement;
    const text = walker.currentNode.textContent.trim();
    if (text && el && !el.closest(asWritten)) out.push(text);
  }
  for (const el of document.querySelectorAll('[title], [placeholder], [aria-label]')) {
    if (el.closest(asWritten)) continue;
    for (const a of ['title', 'placeholder', 'aria-label']) {
      let v = el.getAttribute(a);
      // a tooltip may repeat what the element shows as written (a classifier's label)
      for (const d of el.querySelectorAll(asWritten)) v = v && v.split(d.textContent).join(' ');
      if (v) out.push(v);
    }
  }
  return out;
}"""


@dataclass
class Site:
    url: str
    workspace: Workspace
    demo: DemoCase
    chats_case: int
    series_id: int
    account_id: int
    group_id: int


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The benign demo case and the chat scenario (three phones and a saved site) in one
    workspace served by `tantalio serve`, with a series made of two demo pictures."""
    from sqlalchemy import select

    from tantalio.store.chats.models import ChatAccount, ChatGroup

    root = tmp_path_factory.mktemp("i18n")
    ws = init_workspace(root / "ws")
    with ws.transaction() as db:
        for role, name in ROLE_USERS.items():
            store_auth.create_user(db, name, PASSWORD, role, display_name=name.title())
    demo = ingest_demo(ws, root)
    import_hash_set(ws, SCENARIO / "known_standins_vics.json", "vics", "standins", kind="known-bad")
    phones = [str(SCENARIO / p) for p in ("phone1", "phone2", "phone3", "saved_site")]
    ingest(ws, "OP-CIRCLES", phones, options=IngestOptions(jobs=1, progress=False))
    grant_all(ws)
    with ws.transaction() as db:
        series = review.create_series(db, "Lago", [demo.media["pic0"], demo.media["near_a"]])
        series_id = series.id
        chats_case = get_case(db, "OP-CIRCLES").id
        account_id = db.scalars(select(ChatAccount.id).order_by(ChatAccount.id)).first()
        group_id = db.scalars(select(ChatGroup.id).order_by(ChatGroup.id)).first()
    assert account_id is not None and group_id is not None
    try:
        with serve_workspace(root / "ws") as url:
            yield Site(url, ws, demo, chats_case, series_id, account_id, group_id)
    finally:
        ws.close()


def english_only_words(locale: str) -> set[str]:
    """Words of the application's English that its translations into `locale` never use:
    one of them on a page in that language is English left untranslated."""
    with (LOCALE_DIR / f"{locale}.po").open("rb") as fh:
        catalog = [(str(m.id), str(m.string)) for m in read_po(fh) if m.id and m.string]
    words = re.compile(r"[^\W\d_]{3,}")
    fields = re.compile(r"%\(\w+\)s|\{\w+\}")
    english = {w.lower() for msgid, _ in catalog for w in words.findall(fields.sub(" ", msgid))}
    native = {w.lower() for _, msgstr in catalog for w in words.findall(msgstr)}
    return english - native


def _login(browser, site: Site, username: str, locale: str):  # type: ignore[no-untyped-def]
    """A browser whose own language is English, logged in, switched to `locale` in settings."""
    context = browser.new_context(viewport={"width": 1366, "height": 860}, locale="en-GB")
    page = context.new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{site.url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    page.goto(f"{site.url}/settings")
    page.select_option("#language select[name=locale]", locale)
    page.click("#language button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.get_attribute("html", "lang") == locale
    return page


def _leftovers(page, locale: str) -> list[str]:  # type: ignore[no-untyped-def]
    page.wait_for_load_state("networkidle")
    english = english_only_words(locale)
    found = []
    for text in page.evaluate(VISIBLE_TEXT):
        words = {w.lower() for w in re.findall(r"[^\W\d_]{3,}", text)}
        if words & english:
            found.append(f"{text!r} ({', '.join(sorted(words & english))})")
    return found


def _shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    target = os.environ.get("TANTALIO_SCREENSHOTS")
    if target:
        page.wait_for_load_state("networkidle")
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / f"{name}.png"))


@pytest.mark.parametrize("locale", ["es", "pt"])
def test_every_page_in_the_users_language(browser, site: Site, locale: str) -> None:  # type: ignore[no-untyped-def]
    demo = site.demo
    pages = {
        "cases": "/cases",
        "dashboard": f"/cases/{demo.case_id}",
        "triage": f"/cases/{demo.case_id}/triage",
        "known media": f"/media/{demo.media['pic5']}?case={demo.case_id}",
        "new media": f"/media/{demo.media['pic0']}?case={demo.case_id}",
        "series list": "/series",
        "series": f"/series/{site.series_id}",
        "query": "/query",
        "network": f"/cases/{site.chats_case}/network",
        "account": f"/accounts/{site.account_id}?case={site.chats_case}",
        "group": f"/groups/{site.group_id}?case={site.chats_case}",
        "settings": "/settings",
        "password": "/settings/password",
        "not found": "/cases/987654",
    }
    page = _login(browser, site, "erin", locale)
    problems: dict[str, list[str]] = {}
    for name, path in pages.items():
        page.goto(site.url + path)
        if name == "triage":
            page.wait_for_function(
                "() => /\\d/.test(document.querySelector('#grid-count').textContent)"
            )
            _shot(page, f"triage-grid-{locale}")
        elif name == "network":
            page.wait_for_selector("#graph[data-ready=yes]")
            _shot(page, f"network-{locale}")
        elif name == "dashboard":
            _shot(page, f"case-dashboard-{locale}")
        elif name == "series":
            page.click("#find-similar")
            page.wait_for_selector("#toast.show, #proposals .tile")
        if found := _leftovers(page, locale):
            problems[name] = found
    # a query with results, a reveal (the button's text changes in the script), a toast
    page.goto(f"{site.url}/query")
    page.fill("#query-hash", "0" * 64)
    page.click("#query-form button[type=submit]")
    page.wait_for_selector("#query-result")
    if found := _leftovers(page, locale):
        problems["query result"] = found
    page.goto(f"{site.url}/media/{demo.media['pic0']}?case={demo.case_id}")
    page.click(".tile.large button.reveal")
    page.wait_for_selector(".tile.large.revealed")
    page.click("#notes-save")
    page.wait_for_selector("#toast.show")
    if found := _leftovers(page, locale):
        problems["media, revealed"] = found
    page.context.close()

    admin = _login(browser, site, "admin", locale)
    for name, path in {
        "audit": "/audit",
        "users": "/admin/users",
        "members": f"/cases/{demo.case_id}/members",
    }.items():
        admin.goto(site.url + path)
        if found := _leftovers(admin, locale):
            problems[name] = found
    admin.goto(f"{site.url}/audit")
    admin.click("#verify-chain")
    admin.wait_for_selector("#verify-result.ok")
    if found := _leftovers(admin, locale):
        problems["audit, verified"] = found
    admin.context.close()
    assert problems == {}, f"English left on the {locale} pages: {problems}"


def test_dates_and_numbers_follow_the_language(browser, site: Site) -> None:  # type: ignore[no-untyped-def]
    page = _login(browser, site, "vicky", "es")
    page.goto(f"{site.url}/cases")
    created = page.locator("#cases tbody tr td:nth-child(5)").first.inner_text()
    assert re.fullmatch(r"\d{1,2}/\d{1,2}/\d{2,4}, \d{1,2}:\d{2}", created), created
    page.goto(f"{site.url}/media/{site.demo.media['pic0']}?case={site.demo.case_id}")
    size = page.locator("#hashes tr:has(th:text('Tamaño')) td").inner_text()
    assert re.match(r"\d{1,3}(\.\d{3})+ bytes", size), size  # 12.345 bytes
    page.context.close()
    page = _login(browser, site, "vicky", "pt")
    page.goto(f"{site.url}/series")
    updated = page.locator("#series-list tbody tr td:nth-child(7)").first.inner_text()
    assert re.search(r"\d{1,2} de [a-zç]+\.? de \d{4}", updated), updated  # 6 de dez. de 2026
    page.context.close()
