"""The workspace's persistent PDQ indexes, kept in step with the database.

Two indexes live in `DIR/index/`:
- `entries_pdq`: the PDQ of every hash entry (ids = entry ids). New media are searched
  against it in all 8 orientations.
- `media_pdq`: the 8 orientation PDQs of every image whose quality passes the gate
  (ids = media id * 8 + orientation number). A newly imported entry, or a new media's
  identity PDQ, searched against it finds rotated and flipped copies already stored.

A third, `local_features/`, is the bag-of-binary-words index of the reference files' local
features (localfeat/index.py; ids = entry ids): on load its ids are compared with the
entries that have features, missing ones are added (a new segment, same vocabulary) and
deleted ones removed; a damaged or inconsistent file is reported (logged, naming the file)
and the index rebuilt from the database; it is rebuilt too when the references outgrow its
vocabulary.

Beside each index a JSON marker records which rows it covers (`max_id`, `count`). On load
the marker is checked against the table (rows were deleted → rebuild) and the index is
extended with rows added since (an ingest killed before it saved) — so the files are only
ever a cache of the database, never the truth.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tantalio.signals import MatchRules, RulesError
from tantalio.store import matching as store
from tantalio.store.bulk import chunks
from tantalio.store.matching import Coverage
from tantalio.store.workspace import MARKER, Workspace
from tantalio.triage.pdqsearch import PdqSearch

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tantalio.localfeat.index import LocalIndex

log = logging.getLogger(__name__)
LOCAL_DIR = "local_features"
LOCAL_CHUNK = 20_000  # reference features decoded and added at a time

ORIENTATIONS = 8
CHUNK = 200_000  # hashes read and added at a time: memory stays flat on 10M-entry sets


class _Persisted:
    def __init__(self, name: str, directory: Path | None, threshold: int) -> None:
        self.name = name
        self.directory = directory
        self.threshold = threshold
        self.index: PdqSearch | None = None
        self.coverage = Coverage(0, 0)
        self.dirty = False

    @property
    def _paths(self) -> tuple[Path, Path] | None:
        if self.directory is None:
            return None
        return self.directory / self.name, self.directory / f"{self.name}.json"

    def try_load(self) -> Coverage | None:
        paths = self._paths
        if paths is None or not paths[0].is_dir() or not paths[1].is_file():
            return None
        try:
            marker = json.loads(paths[1].read_text())
            if marker.get("threshold") != self.threshold:
                return None
            self.index = PdqSearch.load(paths[0], self.threshold)
            return Coverage(int(marker["max_id"]), int(marker["count"]))
        except (OSError, ValueError, KeyError):
            return None

    def save(self) -> None:
        paths = self._paths
        if paths is None or self.index is None or not self.dirty:
            return
        paths[0].parent.mkdir(parents=True, exist_ok=True)
        self.index.save(paths[0])
        marker = {"max_id": self.coverage.max_id, "count": self.coverage.count}
        tmp = paths[1].with_suffix(".json.tmp")
        tmp.write_text(json.dumps({**marker, "threshold": self.threshold}))
        tmp.replace(paths[1])
        self.dirty = False


def workspace_rules(ws: Workspace) -> MatchRules:
    """The workspace's match rules: `"match_rules"` in its workspace.json (unset keys keep
    the defaults of `MatchRules`); the defaults for a workspace opened by database URL."""
    try:
        return MatchRules.from_mapping(ws.marker.get("match_rules"))
    except (RulesError, TypeError) as exc:
        where = ws.dir / MARKER if ws.dir else ws.url
        raise RulesError(f"{where}: {exc}") from None


class WorkspaceIndexes:
    """Lazily loaded, incrementally extended PDQ indexes of one workspace."""

    def __init__(self, ws: Workspace, rules: MatchRules | None = None) -> None:
        self.rules = rules if rules is not None else workspace_rules(ws)
        self.threshold = threshold = self.rules.pdq_threshold
        self.min_quality = self.rules.min_quality
        self._entries = _Persisted("entries_pdq", ws.index_dir, threshold)
        self._media = _Persisted("media_pdq", ws.index_dir, threshold)
        self._local_dir = None if ws.index_dir is None else ws.index_dir / LOCAL_DIR
        self._local: LocalIndex | None = None
        self._local_checked = False
        self.local_problems: list[str] = []  # damaged index files found (and rebuilt)

    # -- entries ---------------------------------------------------------------------
    def entries(self, session: Session) -> PdqSearch:
        p = self._entries
        if p.index is None:
            marker = p.try_load()
            if marker is None or store.entry_pdq_coverage(session, marker.max_id) != marker:
                p.index, p.coverage, p.dirty = PdqSearch(self.threshold), Coverage(0, 0), True
            else:
                p.coverage = marker
        assert p.index is not None
        for rows in chunks(store.entry_pdq_rows(session, after_id=p.coverage.max_id), CHUNK):
            p.index.add([eid for eid, _ in rows], [pdq for _, pdq in rows])
            p.coverage = Coverage(rows[-1][0], p.coverage.count + len(rows))
            p.dirty = True
        return p.index

    def drop_entries(self) -> None:
        """Forget the entry index (entries were deleted): rebuilt on next use."""
        self._entries.index = None
        paths = self._entries._paths
        if paths is not None:
            paths[1].unlink(missing_ok=True)  # without its marker the index is rebuilt

    # -- media -----------------------------------------------------------------------
    def media(self, session: Session) -> PdqSearch:
        p = self._media
        if p.index is None:
            marker = p.try_load()
            check = (
                store.media_pdq_coverage(session, self.min_quality, marker.max_id)
                if marker
                else None
            )
            if marker is None or check != marker:
                p.index, p.coverage, p.dirty = PdqSearch(self.threshold), Coverage(0, 0), True
            else:
                p.coverage = marker
        assert p.index is not None
        pending = store.media_pdq_rows(session, self.min_quality, after_id=p.coverage.max_id)
        for rows in chunks(pending, CHUNK // ORIENTATIONS):
            ids = [mid * ORIENTATIONS + k for mid, hashes in rows for k in range(len(hashes))]
            p.index.add(ids, [h for _, hashes in rows for h in hashes])
            p.coverage = Coverage(rows[-1][0], p.coverage.count + len(rows))
            p.dirty = True
        return p.index

    def media_completed(self, session: Session, media_ids: Iterable[int]) -> None:
        """Media a fast pass stored got their PDQ now (`store.complete_media`): those below
        the index's coverage mark are added here (the others by `media` as usual)."""
        p = self._media
        self.media(session)
        assert p.index is not None
        older = [mid for mid in media_ids if mid <= p.coverage.max_id]
        rows = list(store.media_pdq_rows(session, self.min_quality, 0, older)) if older else []
        if rows:
            ids = [mid * ORIENTATIONS + k for mid, hashes in rows for k in range(len(hashes))]
            p.index.add(ids, [h for _, hashes in rows for h in hashes])
            p.coverage = Coverage(p.coverage.max_id, p.coverage.count + len(rows))
            p.dirty = True

    # -- local features ----------------------------------------------------------------
    def local(self, session: Session) -> LocalIndex | None:
        """The reference files' local-features index (None when no entry has features):
        loaded from `DIR/index/local_features/` and brought in step with the database
        once per instance."""
        if self._local_checked:
            return self._local
        from tantalio.localfeat.index import LocalIndex, LocalIndexError

        want = np.asarray(store.entry_local_ids(session), np.int64)
        index = self._local
        if index is None and self._local_dir is not None and self._local_dir.is_dir():
            try:
                index = LocalIndex.load(self._local_dir)
            except LocalIndexError as exc:
                problem = f"local-features index {exc}: rebuilt from the database"
                log.warning("%s", problem)
                self.local_problems.append(problem)
                shutil.rmtree(self._local_dir, ignore_errors=True)
                index = None
        if index is not None and not len(want):
            index = None
            if self._local_dir is not None:
                shutil.rmtree(self._local_dir, ignore_errors=True)
        if index is not None:
            have = index.ids()
            index.remove(np.setdiff1d(have, want))
            self._add_local(session, index, np.setdiff1d(want, have))
            if index.needs_retrain():
                index = None
        if index is None and len(want):
            index = LocalIndex()
            self._add_local(session, index, want)
        self._local = index
        self._local_checked = True
        return index

    @staticmethod
    def _add_local(session: Session, index: LocalIndex, ids: Any) -> None:
        from tantalio.localfeat.index import RefArrays
        from tantalio.localfeat.record import decode

        ids = [int(i) for i in ids]
        for part in chunks(ids, LOCAL_CHUNK if len(index) else max(LOCAL_CHUNK, len(ids))):
            rows = store.entry_local_rows(session, ids=part)
            if rows:
                index.add_arrays(RefArrays.of([decode(t) for _, t in rows], [e for e, _ in rows]))

    def drop_local(self) -> None:
        """Check the local-features index against the database again on next use."""
        self._local_checked = False

    def save(self) -> None:
        self._entries.save()
        self._media.save()
        index = self._local
        if index is not None and index.dirty and self._local_dir is not None:
            index.save(self._local_dir)
