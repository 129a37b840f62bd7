"""Ingest runs started from the web app, in a background thread each, with live progress.

The pipeline is the same one `tantalio ingest` runs (tantalio.triage.pipeline.ingest); its
batches commit as it goes, so progress is read back from the database (files stored in the
case) against the number of files found under the source when the run started.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tantalio.store.workspace import Workspace


@dataclass(slots=True)
class IngestJob:
    id: int
    case_reference: str
    source: str
    exhibit: str | None
    user: str
    expected: int = 0
    state: str = "running"  # running / done / failed
    started: float = field(default_factory=time.time)
    finished: float | None = None
    error: str | None = None
    verdicts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class IngestJobs:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.jobs: dict[int, IngestJob] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def start(self, case_reference: str, source: str, exhibit: str | None, user: str) -> IngestJob:
        from tantalio.triage.progress import count_files

        job = IngestJob(next(self._ids), case_reference, source, exhibit, user)
        job.expected = count_files(source)
        with self._lock:
            if any(j.state == "running" for j in self.jobs.values()):
                raise RuntimeError("an ingest is running already; wait for it to finish")
            self.jobs[job.id] = job
        threading.Thread(
            target=self._run, args=(job,), name=f"ingest-{job.id}", daemon=True
        ).start()
        return job

    def _run(self, job: IngestJob) -> None:
        from tantalio.triage.pipeline import IngestOptions, ingest

        try:
            report = ingest(
                self.workspace,
                job.case_reference,
                [job.source],
                exhibit=job.exhibit,
                options=IngestOptions(progress=False),
            )
            job.verdicts = dict(report.verdicts or {})
            job.state = "done"
        except Exception as exc:  # reported on the page; the run's batches stay committed
            job.error = f"{type(exc).__name__}: {exc}"
            job.state = "failed"
        finally:
            job.finished = time.time()
            from tantalio.store.web_queries import refresh_planner_statistics

            try:
                with self.workspace.session() as db:
                    refresh_planner_statistics(db)
            except Exception:  # statistics are an optimisation only
                pass

    def for_case(self, case_reference: str) -> list[IngestJob]:
        return [j for j in self.jobs.values() if j.case_reference == case_reference]
