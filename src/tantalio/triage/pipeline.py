"""`tantalio ingest`: evidence → fingerprints → store → matches → verdicts.

Parallel: the main process walks the sources (archive members must be read while the walk
is on them) and hands files to an executor — a process pool, Dask workers, or this process —
which hashes, skips content the workspace already holds, and fingerprints the rest.
Batched and resumable: results are written in batches of files, each batch with its media
and their matches in one transaction. A rerun skips the files an exhibit already holds, so
after `kill -9` it finishes the job and the database ends as an uninterrupted run leaves it.

The pipeline by job: `ingest_types.py` (options, plan, reports), `ingest_run.py` (the run
over a case and its resume), `exhibit_pass.py` (walk, hand out, gather, recover),
`executors.py` (where the per-file work runs), `batch_writer.py` (batched transactions).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import or_

from tantalio.store import ingest as store_ingest
from tantalio.store import repo
from tantalio.store.errors import stopped_run
from tantalio.store.workspace import Workspace
from tantalio.triage.ingest_run import IngestRun, gone_message
from tantalio.triage.ingest_types import (
    ExhibitReport,
    IngestOptions,
    IngestReport,
    Source,
    exhibit_plan,
)
from tantalio.triage.progress import IngestProgress, count_files

__all__ = [
    "ExhibitReport",
    "IngestOptions",
    "IngestReport",
    "Source",
    "exhibit_plan",
    "finish_pending",
    "ingest",
]


def ingest(
    ws: Workspace,
    case_reference: str,
    sources: list[str],
    exhibit: str | None = None,
    options: IngestOptions | None = None,
) -> IngestReport:
    """Ingest `sources` into the case (created on first use); see the module docstring."""
    options = options or IngestOptions()
    plan = exhibit_plan(sources, exhibit)
    for _label, srcs in plan:
        for src in srcs:
            if not os.path.exists(src.path):
                raise FileNotFoundError(f"{src.path}: no such file or folder")
    with ws.transaction() as s:
        case, created = repo.ensure_case(s, case_reference)
        case_id = case.id
    run = IngestRun(ws, case_id, case_reference, options)
    reports: list[ExhibitReport] = []
    with IngestProgress(options.progress) as progress:
        for _label, srcs in plan:
            progress.expect(sum(count_files(s.path) for s in srcs))
        with _closed_or_stopped(run, ws.url):
            for label, srcs in plan:
                progress.describe(label)
                reports.append(run.exhibit(label, srcs, progress))
            verdicts = run.finish()
    return IngestReport(case_reference, created, reports, progress.seconds, verdicts, run.notes)


def finish_pending(
    ws: Workspace, case_reference: str, options: IngestOptions | None = None
) -> IngestReport:
    """The second pass after `ingest --fast` from the workspace alone (`ingest CASE
    --finish`): every exhibit of the case that a fast pass left unfinished is walked again
    from each source it recorded (`ExhibitSource`, with the prefix its paths got), read-only;
    its pending images and videos are decoded (their stored digests are not computed again).
    A source that is gone is reported by name and its media stay pending, while the other
    sources of its exhibit are decoded; so is a file whose size or modification time
    changed. Chat exhibits (`chats import`) are not ingest exhibits and are left alone."""
    from tantalio.store.cases import Exhibit

    options = options or IngestOptions()
    options.fast = False
    todo: list[tuple[int, str, list[Source]]] = []
    with ws.session() as s:
        case = repo.get_case(s, case_reference)
        case_id = case.id
        not_chats = or_(Exhibit.kind.is_(None), Exhibit.kind != "chats")
        exhibits = s.query(Exhibit).filter(Exhibit.case_id == case_id, not_chats)
        for ex in exhibits.order_by(Exhibit.id):
            if ex.status != "complete" or store_ingest.pending_files(s, ex.id):
                sources = [Source(r.path, r.prefix, r.kind) for r in ex.sources]
                todo.append((ex.id, ex.label, sources))
    run = IngestRun(ws, case_id, case_reference, options)
    reports: list[ExhibitReport] = []
    with IngestProgress(options.progress) as progress:
        for _id, _label, sources in todo:
            progress.expect(sum(count_files(src.path) for src in sources if _there(src)))
        with _closed_or_stopped(run, ws.url):
            for exhibit_id, label, sources in todo:
                gone = [src for src in sources if not _there(src)]
                if len(gone) == len(sources):  # nothing to walk: the exhibit stays as it is
                    reports.append(_nothing_there(ws, exhibit_id, label, gone))
                    continue
                progress.describe(label)
                reports.append(run.exhibit(label, sources, progress, gone))
            verdicts = run.finish()
    return IngestReport(case_reference, False, reports, progress.seconds, verdicts, run.notes)


def _there(src: Source) -> bool:
    return os.path.exists(src.path)


def _nothing_there(ws: Workspace, exhibit_id: int, label: str, gone: list[Source]) -> ExhibitReport:
    """The report of an exhibit none of whose sources is there (or none was recorded)."""
    from tantalio.store.cases import source_walk_path

    with ws.session() as s:
        pending = store_ingest.pending_files(s, exhibit_id).values()
    report = ExhibitReport(label)
    if not gone:
        report.messages.append(
            f"source (not recorded) is missing: nothing decoded, "
            f"its {len(pending)} pending file(s) stay pending"
        )
    for src in gone:
        held = sum(
            source_walk_path(src.path, src.prefix, src.kind, pf.path) is not None for pf in pending
        )
        report.messages.append(gone_message(src, held))
    return report


@contextmanager
def _closed_or_stopped(run: IngestRun, workspace_url: str) -> Iterator[None]:
    """Close the run whatever happens. A full disk or a database that went away is not a
    fault of the evidence: it becomes one clear error; every committed batch stays and a
    rerun resumes (issue 14)."""
    try:
        yield
    except Exception as exc:
        stopped = stopped_run(exc, workspace_url)
        if stopped is None:
            raise
        raise stopped from None
    finally:
        run.close()
