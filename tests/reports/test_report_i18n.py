"""The case report in Spanish and Portuguese (issue 16): the report's own words come from the
web app's catalogs, numbers and dates in the reader's format, and evidence (file names,
hash-set names, series, exhibit labels) shown as written. The PDF is laid out from the same
HTML, so it reads the same."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from tantalio.cli.main import app
from tantalio.demo.tree import build_tree, md5
from tantalio.reports.html import build_report
from tantalio.store.auth import create_user
from tantalio.store.workspace import init_workspace
from tantalio.triage.hashset_import import import_hash_set
from tantalio.triage.pipeline import IngestOptions, ingest
from tantalio.web import i18n

HEADINGS = {
    "en": ["Files per exhibit and verdict", "New media, ranked (", "Unreadable files (1)",
           "Audit summary", "Known series found (1)"],
    "es": ["Archivos por indicio y veredicto", "Material nuevo, por prioridad (",
           "Archivos ilegibles (1)", "Resumen de auditoría", "Series conocidas encontradas (1)"],
    "pt": ["Arquivos por vestígio e veredito", "Material novo, por prioridade (",
           "Arquivos ilegíveis (1)", "Resumo de auditoria", "Séries conhecidas encontradas (1)"],
}  # fmt: skip


@pytest.fixture(scope="module")
def case_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo-like case: a benign synthetic picture tree, one exact match in a hash set with
    a series, an unreadable file."""
    root = tmp_path_factory.mktemp("case")
    src = root / "evidence"
    notes = build_tree(src, n=12, seed=3)
    hma = root / "known.csv"
    hma.write_text(
        f"signal_type,signal,category,series\nmd5,{md5(src / notes['known_exact'])},1,Lake\n"
    )
    with init_workspace(root / "ws") as ws:
        import_hash_set(ws, hma, "hma", "stand-ins")
        ingest(ws, "OP-8", [str(src)], "phone1", IngestOptions(in_process=True))
    return root


def _report(root: Path, out: Path, lang: str) -> str:
    with init_workspace(root / "ws") as ws, ws.session() as s:
        files = build_report(ws, s, "OP-8", out, pdf=False, lang=lang)
    return files.html.read_text(encoding="utf-8")


@pytest.mark.parametrize("lang", ["es", "pt"])
def test_the_report_in_spanish_and_portuguese(case_ws: Path, tmp_path: Path, lang: str) -> None:
    html = _report(case_ws, tmp_path / lang, lang)
    assert f'<html lang="{lang}">' in html
    for heading in HEADINGS[lang]:
        assert heading in html, heading
    for english in HEADINGS["en"]:
        assert english not in html, english
    # values from the evidence and the hash set as written
    assert "stand-ins" in html and "Lake" in html and "broken.jpg" in html and "OP-8" in html
    assert re.search(r"<code>dir\d/pic\d+\.jpg</code>", html) and "phone1" in html
    # the words other packages hand over: verdicts, category names
    known, category = {"es": ("conocido", "Material de abuso"), "pt": ("conhecido", "Material")}[
        lang
    ]
    assert (
        f'<th class="n"><span class="swatch" style="background: #b2182b"></span>{known}</th>'
        in html
    )
    assert category in html and "Child abuse material" not in html
    # the PDF footer follows the language
    assert {"es": '"página " counter(page) " de "', "pt": '"página " counter(page) " de "'}[
        lang
    ] in html


def test_english_by_default_and_the_callers_locale_kept(case_ws: Path, tmp_path: Path) -> None:
    i18n.set_locale("pt")
    try:
        html = _report(case_ws, tmp_path / "en", "en")
        assert i18n.current_locale() == "pt"  # the report's language does not leak out
    finally:
        i18n.set_locale("en")
    for heading in HEADINGS["en"]:
        assert heading in html, heading
    assert '"page " counter(page) " of " counter(pages)' in html
    with pytest.raises(ValueError, match="unknown report language 'de'"):
        _report(case_ws, tmp_path / "de", "de")


def test_numbers_and_dates_per_locale(case_ws: Path, tmp_path: Path) -> None:
    es = _report(case_ws, tmp_path / "es", "es")
    en = _report(case_ws, tmp_path / "en", "en")
    # the generation time: "7 dic 2026, 0:48:04" (es), "7 Dec 2026, 00:48:04" (en)
    when_es = re.search(r"Generado el (.+?) UTC por tantalio", es)
    when_en = re.search(r"Generated (.+?) UTC by tantalio", en)
    assert when_es and when_en and when_es.group(1) != when_en.group(1)
    assert re.search(r"prioridad \d+,\d\d<", es) and re.search(r"priority \d+\.\d\d<", en)


def test_cli_lang_and_the_as_users_setting(case_ws: Path, tmp_path: Path) -> None:
    w = ["-w", str(case_ws / "ws")]
    out = CliRunner().invoke(app, ["report", "OP-8", "-o", str(tmp_path / "a"), "--no-pdf",
                                   "--lang", "es", *w])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "Resumen de auditoría" in (tmp_path / "a" / "report.html").read_text()
    bad = CliRunner().invoke(app, ["report", "OP-8", "-o", str(tmp_path / "b"), "--lang", "de", *w])
    assert bad.exit_code != 0 and "unknown language 'de'" in bad.output
    with init_workspace(case_ws / "ws") as ws, ws.transaction() as s:
        create_user(s, "rosa", "a long enough password 1", "examiner").locale = "pt"
    out = CliRunner().invoke(app, ["report", "OP-8", "-o", str(tmp_path / "c"), "--no-pdf",
                                   "--as", "rosa", *w])  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "Resumo de auditoria" in (tmp_path / "c" / "report.html").read_text()
    out = CliRunner().invoke(app, ["report", "OP-8", "-o", str(tmp_path / "d"), "--no-pdf", *w])
    assert "Audit summary" in (tmp_path / "d" / "report.html").read_text()


def test_the_pdf_reads_as_the_html(case_ws: Path, tmp_path: Path) -> None:
    with init_workspace(case_ws / "ws") as ws, ws.session() as s:
        files = build_report(ws, s, "OP-8", tmp_path / "pdf", lang="es")
    if files.pdf is None:
        pytest.skip(files.pdf_error or "no PDF")
    text = " ".join(page.extract_text() for page in PdfReader(files.pdf).pages)
    assert "Archivos por indicio y veredicto" in text and "página 1 de" in text
    assert "stand-ins" in text
