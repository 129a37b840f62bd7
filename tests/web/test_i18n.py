"""The web app in English, Spanish and Portuguese (issue 16): the user's language setting
(audited), else the browser's; numbers in the reader's format; every string of the
translated templates present in both catalogs; evidence shown as written."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from babel.messages.pofile import read_po

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
