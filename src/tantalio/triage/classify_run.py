"""Run the classifier plug-ins over a case's media and feed their scores into the ranking.

Classifiers read stored facts and the stored thumbnail, never the evidence, so a run is cheap
and can be repeated; each classifier's scores are kept with its name and version, the run is
audited (which classifiers, versions and counts), and new media are re-ranked afterwards.
A classifier that raises on one media costs that media's score, reported, never the run.
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass, field
from io import BytesIO
from typing import TYPE_CHECKING

from tantalio.classify.base import MAX_BONUS, Classifier, MediaInput, Score
from tantalio.classify.registry import load_classifiers
from tantalio.store import audit as store_audit
from tantalio.store import repo
from tantalio.store import scores as store
from tantalio.store.workspace import Workspace
from tantalio.triage.verdicts import refresh_cases

if TYPE_CHECKING:
    from tantalio.store.media import Media

BATCH = 500


@dataclass(slots=True)
class ClassifyReport:
    scored: dict[str, int] = field(default_factory=dict)  # classifier -> media scored
    labels: dict[str, int] = field(default_factory=dict)  # "classifier: label" -> count
    errors: list[str] = field(default_factory=list)


def _thumbnail(ws: Workspace, media: Media):  # type: ignore[no-untyped-def]
    """The stored clear thumbnail as a PIL image, or None (only inside the workspace)."""
    if not media.thumbnail or ws.dir is None:
        return None
    root = ws.dir.resolve()
    path = (root / media.thumbnail).resolve()
    if root not in path.parents or not path.is_file():
        return None
    from PIL import Image

    try:
        with Image.open(BytesIO(path.read_bytes())) as im:
            im.load()
            return im.copy()
    except OSError:
        return None


def media_input(ws: Workspace, m: Media) -> MediaInput:
    return MediaInput(
        media_id=m.id,
        sha256=m.sha256 or "",
        kind=m.kind,
        type=m.type,
        width=m.width,
        height=m.height,
        make=m.make,
        model=m.model,
        software=m.software,
        datetime_original=m.datetime_original,
        has_gps=m.gps_latitude is not None,
        thumbnail=_thumbnail(ws, m) if m.kind == "image" else None,
    )


def _checked(classifier: Classifier, scores: object) -> list[Score]:
    if not isinstance(scores, list) or not all(isinstance(s, Score) for s in scores):
        raise TypeError(f"{classifier.name} returned {type(scores).__name__}, not a list of Score")
    return scores


def classify_case(
    ws: Workspace,
    case_reference: str | None,
    *,
    names: list[str] | None = None,
    rerun: bool = False,
    user: str | None = None,
    refresh: bool = True,
) -> ClassifyReport:
    """Score the media of a case (every case when None) with every classifier (or those
    named) that has not scored them at its current version; then re-rank new media."""
    classifiers = load_classifiers(names)
    report = ClassifyReport()
    with ws.session() as s:
        case_id = repo.get_case(s, case_reference).id if case_reference else None
    for c in classifiers:
        with ws.session() as s:
            todo = store.media_to_classify(s, case_id, c.name, c.version, rerun)
            for m in todo:
                s.expunge(m)
        n = 0
        for start in range(0, len(todo), BATCH):
            with ws.transaction() as s:
                for m in todo[start : start + BATCH]:
                    try:
                        scores = _checked(c, c.classify(media_input(ws, m)))
                    except Exception as exc:  # one media never stops the run
                        report.errors.append(
                            f"{c.name} on media {(m.sha256 or m.md5)[:12]}…: {exc}"
                        )
                        continue
                    rows = [
                        store.ScoreRow(
                            m.id,
                            c.name,
                            c.version,
                            sc.label,
                            max(0.0, min(1.0, float(sc.score))),
                            max(-MAX_BONUS, min(MAX_BONUS, float(sc.priority))),
                            sc.reason or None,
                        )  # fmt: skip
                        for sc in scores
                    ]
                    store.replace_scores(s, c.name, m.id, rows)
                    n += 1
                    for sc in scores:
                        key = f"{c.name}: {sc.label}"
                        report.labels[key] = report.labels.get(key, 0) + 1
        report.scored[c.name] = n
    with ws.transaction() as s:
        if refresh:  # ingest refreshes its case's verdicts itself, right after
            cases = [case_id] if case_id is not None else [c.id for c, _, _ in repo.list_cases(s)]
            refresh_cases(s, cases)
        store_audit.audit(
            s,
            "classify",
            username=user or _os_user(),
            object_type="case" if case_reference else "workspace",
            object_id=case_reference,
            detail={
                "classifiers": {c.name: c.version for c in classifiers},
                "scored": report.scored,
                "labels": report.labels,
                "errors": len(report.errors),
            },
        )
    return report


def _os_user() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


def classify_during_ingest(ws: Workspace, case_reference: str) -> list[str]:
    """Score the case's media not yet scored, as the last step of an ingest (before its
    verdicts and priorities are refreshed). A plug-in that cannot load costs a message,
    never the ingest: the examiner can run `tantalio classify` once it is fixed."""
    from tantalio.classify.base import ClassifierError

    try:
        report = classify_case(ws, case_reference, refresh=False)
    except ClassifierError as exc:
        return [f"classifiers not run: {exc}"]
    scored = ", ".join(f"{name} {n}" for name, n in report.scored.items() if n)
    lines = [f"classifiers: {scored} media scored"] if scored else []
    lines += [f"classifier warning: {e}" for e in report.errors[:5]]
    return lines
