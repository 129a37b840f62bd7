"""Progress of an ingest: files/s, MB/s and ETA on stderr (a Rich bar on a terminal).

The total grows as the walk discovers archive members, so the ETA is an estimate from
files counted up front in folder sources plus what has been discovered so far.
"""

from __future__ import annotations

import os
import sys
import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        files = task.completed / elapsed if elapsed > 0 else 0.0
        mb = task.fields.get("bytes", 0) / 1e6 / elapsed if elapsed > 0 else 0.0
        return Text(f"{files:,.0f} files/s {mb:,.1f} MB/s", style="progress.data.speed")


def count_files(path: str) -> int:
    """Files under a folder (1 for a file source): the first estimate of the total."""
    if not os.path.isdir(path):
        return 1
    total = 0
    for _dir, _dirs, files in os.walk(path):
        total += len(files)
    return total


class IngestProgress:
    """Counts files and bytes; draws a bar only when `enabled` (default: stderr is a TTY)."""

    def __init__(self, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.done = 0
        self.bytes = 0
        self.total = 0
        self.started = time.monotonic()
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> IngestProgress:
        if self.enabled:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                _Rate(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task("ingest", total=self.total or None, bytes=0)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def expect(self, files: int) -> None:
        self.total += files
        self._refresh()

    def describe(self, label: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=label)

    def advance(self, files: int, nbytes: int = 0) -> None:
        self.done += files
        self.bytes += nbytes
        self.total = max(self.total, self.done)
        self._refresh()

    def _refresh(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(
                self._task, completed=self.done, total=max(self.total, self.done), bytes=self.bytes
            )

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started
