"""`tantalio report CASE --out DIR`: a self-contained HTML report and a CSV of all files.

The HTML holds counts per exhibit, verdict and category (with inline SVG charts), the new
media ranked by priority with BLURRED GRAYSCALE thumbnails (the blur is baked into the
pixels: the report can be opened anywhere without showing material), the known series
found, the near-known matches, media seen in other cases, media other agencies saw or
identified (the central exchange), and the unreadable files with the reason. Everything
is inline (no scripts, no external files), so it can be archived or handed over as one
file.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from tantalio import __version__
from tantalio.evidence.names import visible
from tantalio.reports import sections
from tantalio.reports.charts import VERDICT_COLOURS, simple_bars, stacked_bars
from tantalio.reports.csv_report import write_csv
from tantalio.reports.pdf import PdfUnavailable, write_pdf
from tantalio.reports.sections import category_name
from tantalio.store import repo
from tantalio.store import verdicts as store
from tantalio.store.audit import audit_head
from tantalio.store.scores import scores_of
from tantalio.store.timeutil import utcnow
from tantalio.store.workspace import Workspace
from tantalio.triage.priority import new_media_clusters
from tantalio.triage.results import TriageRow, counts_by_exhibit, priority_key, triage_rows
from tantalio.triage.thumbs import blurred_gray
from tantalio.web import i18n

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

NEW_SHOWN = 200  # ranked new media shown with thumbnails; the CSV lists all


@dataclass(slots=True)
class NewItem:
    row: TriageRow
    thumb: str | None  # data: URL of the blurred grayscale thumbnail
    reasons: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SeriesFound:
    name: str
    files: int = 0
    media: set[str] = field(default_factory=set)
    categories: Counter[str] = field(default_factory=Counter)
    victim_identified: bool = False
    exhibits: set[str] = field(default_factory=set)


@dataclass(slots=True)
class ReportFiles:
    html: Path
    csv: Path
    files: int
    pdf: Path | None = None
    pdf_error: str | None = None  # why no PDF was written (WeasyPrint or Pango missing)
    audit_head: str = ""  # SEQ:HASH of the audit log when the report was made


def _env() -> Environment:
    """The report's words go through the web app's catalogs (web/locale/*.po, issue 16):
    `_()` in the template, numbers and dates by the `num`/`fixed`/`localtime` filters, the
    words other packages hand over (verdicts, kinds) by `tr`; evidence is shown as written."""
    env = Environment(
        loader=PackageLoader("tantalio.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(i18n._, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters["num"] = i18n.number
    env.filters["fixed"] = i18n.fixed
    env.filters["localtime"] = i18n.when
    env.filters["tr"] = i18n.tr
    return env


def _finalize(value: Any) -> Any:
    """Every `{{ value }}` in a template: bidi controls in plain text shown visibly
    (evidence/names.py `visible`); markup a template marked safe is left alone."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value)
    return value


def _coded(code: int | None) -> str:
    """A hash-set category for the charts and tables: code and name in the report's language."""
    return category_name(code) if code is None else f"{code} · {category_name(code)}"


def _page_counter() -> str:
    """The PDF footer's "page N of M" as CSS `content`, in the report's language."""
    words = i18n._("page {page} of {pages}")
    before, _sep, rest = words.partition("{page}")
    middle, _sep, after = rest.partition("{pages}")

    def quoted(text: str) -> str:
        return '"' + "".join(c for c in text if c not in '"\\<>') + '"'

    return f"{quoted(before)} counter(page) {quoted(middle)} counter(pages) {quoted(after)}"


def _thumb(ws: Workspace, rel: str | None) -> str | None:
    if not rel or ws.dir is None:
        return None
    try:
        data = blurred_gray((ws.dir / rel).read_bytes())
    except (OSError, ValueError):
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")


def _reasons(
    row: TriageRow,
    detail: store.MediaDetail | None,
    cluster: int,
    labels: Sequence[str] = (),
) -> list[str]:
    """Why a new media ranks where it does, as on its tile: the priority facts, then the
    classifier plug-ins' labels with their source (`label (classifier version)`)."""
    _ = i18n._
    out = []
    if cluster > 1:
        out.append(_("series of {count} in this case").format(count=i18n.number(cluster)))
    if detail and (detail.make or detail.model or detail.serial):
        name = " ".join(x for x in (detail.make, detail.model) if x)
        out.append(_("camera {name}").format(name=name))
    if detail and detail.gps:
        out.append("GPS")
    if row.kind == "video":
        out.append(_("video"))
    if row.deleted:
        out.append(_("deleted"))
    if detail and detail.datetime_original:
        out.append(_("taken {time}").format(time=detail.datetime_original))
    return out + list(labels)


def _exchange_connected(ws: Workspace) -> bool:
    """Whether the workspace names an exchange (so "none" in the agencies section means
    no other agency holds this case's media, not that nobody asked)."""
    from tantalio.exchange import connection

    try:
        return connection.load(ws) is not None
    except connection.ExchangeConfigError:
        return True  # connected, though its key cannot be read now


def _render(**context: Any) -> str:
    return _env().get_template("report.html.j2").render(**context)


def exhibit_records(session: Session, case_id: int) -> list[dict[str, Any]]:
    """Each exhibit's source, kind, acquisition record and image verification, for the
    report's chain-of-evidence table."""
    out = []
    for e in repo.case_exhibits(session, case_id):
        acquisition = e.acquisition or {}
        detail = e.verification_detail or {}
        out.append(
            {
                "label": e.label,
                "kind": e.kind or "",
                # every source of an exhibit read from several (`ingest --exhibit X A B`)
                "source": "; ".join(src.path for src in e.sources) or e.source_path or "",
                "stored": {k: acquisition[k] for k in ("md5", "sha1") if k in acquisition},
                "computed": detail.get("computed", {}),
                "verification": e.verification,
                "verified_at": e.verified_at,
                "problems": detail.get("problems", []),
            }
        )
    return out


def build_report(
    ws: Workspace,
    session: Session,
    case_reference: str,
    out: Path,
    *,
    pdf: bool = True,
    shown_cases: Collection[int] | None = None,
    lang: str = i18n.DEFAULT,
) -> ReportFiles:
    """The report of a case; other cases are named only when in `shown_cases` (None: all).
    `lang` (en, es, pt) is the language of the report's own words; the PDF is laid out from
    the same HTML, so it reads the same."""
    if lang not in i18n.LOCALES:
        raise ValueError(f"unknown report language {lang!r}; use {', '.join(i18n.LOCALES)}")
    token = i18n._current.set(lang)  # this report only; the caller's language comes back
    try:
        return _build(ws, session, case_reference, out, pdf=pdf, shown_cases=shown_cases)
    finally:
        i18n._current.reset(token)


def _build(
    ws: Workspace,
    session: Session,
    case_reference: str,
    out: Path,
    *,
    pdf: bool,
    shown_cases: Collection[int] | None,
) -> ReportFiles:
    case = repo.get_case(session, case_reference)
    rows = list(triage_rows(session, case.id, shown_cases))
    out.mkdir(parents=True, exist_ok=True)
    csv_path = out / "files.csv"
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        write_csv(fh, rows)

    counts = counts_by_exhibit(rows)
    verdict_totals = Counter(r.verdict for r in rows)
    matched = [r for r in rows if r.verdict in ("known", "near-known")]
    category_counts = Counter(_coded(r.category) for r in matched)

    new_rows = sorted((r for r in rows if r.verdict == "new"), key=priority_key)
    ids = {r.media_id for r in new_rows if r.media_id is not None}
    details = store.media_details(session, ids)
    clusters = new_media_clusters(session, ids)
    shown = new_rows[:NEW_SHOWN]
    scores = scores_of(session, {r.media_id for r in shown if r.media_id is not None})
    new_items = []
    for r in shown:
        d = details.get(r.media_id or -1)
        labels = [
            f"{s.label} ({s.classifier} {s.version})"
            for s in scores.get(r.media_id or -1, [])
            if s.label
        ]
        new_items.append(
            NewItem(
                r,
                _thumb(ws, d.thumbnail if d else None),
                _reasons(r, d, clusters.get(r.media_id or -1, 1), labels),
            )
        )

    series: dict[str, SeriesFound] = {}
    for r in matched:
        if not r.series:
            continue
        s = series.setdefault(r.series, SeriesFound(r.series))
        s.files += 1
        s.media.add(r.sha256 or r.md5 or "")
        s.categories[_coded(r.category)] += 1
        s.victim_identified = s.victim_identified or bool(r.victim_identified)
        s.exhibits.add(r.exhibit)

    head = "{}:{}".format(*audit_head(session))
    html = _render(
        case=case,
        lang=i18n.current_locale(),
        page_counter=_page_counter(),
        generated=utcnow(),
        version=__version__,
        total=len(rows),
        counts=counts,
        verdict_totals=verdict_totals,
        colours=VERDICT_COLOURS,
        exhibit_chart=stacked_bars(counts),
        category_counts=dict(category_counts.most_common()),
        category_chart=simple_bars(dict(category_counts.most_common())),
        new_items=new_items,
        new_total=len(new_rows),
        new_shown=NEW_SHOWN,
        series=sorted(series.values(), key=lambda s: (-s.files, s.name)),
        near=[r for r in matched if r.verdict == "near-known"],
        elsewhere=[r for r in rows if r.verdict == "seen-elsewhere"],
        agency_media=sections.agency_media(rows),
        exchange_connected=_exchange_connected(ws),
        unreadable=[r for r in rows if r.verdict == "unreadable"],
        exhibits=exhibit_records(session, case.id),
        audit_head=head,
        category_table=sections.category_table(session, case.id),
        hashset_hits=sections.hashset_hits(rows),
        examiner_series=sections.examiner_series(rows),
        reviewed=sum(1 for r in rows if r.examiner_category is not None),
        chats=sections.chat_section(session, case.id),
        uploads=sections.reported_uploads(session, case.id, rows),
        audit=sections.audit_section(session, case.id),
        category_name=category_name,
    )
    html_path = out / "report.html"
    html_path.write_text(html, encoding="utf-8")
    pdf_path, pdf_error = None, None
    if pdf:
        pdf_path = out / "report.pdf"
        try:
            write_pdf(html, pdf_path)
        except PdfUnavailable as exc:
            pdf_path, pdf_error = None, str(exc)
    return ReportFiles(html_path, csv_path, len(rows), pdf_path, pdf_error, head)
