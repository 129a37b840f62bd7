from __future__ import annotations

import json
import random
from pathlib import Path

from sqlalchemy import delete, select

from tantalio.store.media import Match, Media
from tantalio.store.workspace import init_workspace
from tantalio.triage.indexes import ORIENTATIONS, WorkspaceIndexes

from .helpers import fingerprint, rand_pdq, store_files


def test_media_index_is_persisted_extended_and_rebuilt(tmp_path: Path) -> None:
    rng = random.Random(11)
    first = {f"a{i}.jpg": fingerprint(f"a{i}".encode(), pdq=rand_pdq(rng)) for i in range(5)}
    low = fingerprint(b"flat", pdq=rand_pdq(rng), quality=10)  # below the gate: never indexed
    with init_workspace(tmp_path / "ws") as ws:
        store_files(ws, "C", "e", {**first, "flat.jpg": low})
        idx = WorkspaceIndexes(ws)
        with ws.session() as s:
            assert len(idx.media(s)) == 5  # one orientation each here
        idx.save()
        marker = json.loads((tmp_path / "ws" / "index" / "media_pdq.json").read_text())
        assert (marker["count"], marker["threshold"]) == (5, 31)
        # More media stored later (an ingest killed before it saved): loaded, then extended.
        store_files(ws, "C", "e", {"b.jpg": fingerprint(b"b", pdq=rand_pdq(rng))})
        with ws.session() as s:
            again = WorkspaceIndexes(ws).media(s)
            assert len(again) == 6
            mid = s.scalar(select(Media.id).where(Media.sha256 == first["a0.jpg"].sha256))
            assert again.search([first["a0.jpg"].pdq])[0] == [(mid * ORIENTATIONS, 0)]
        # Rows deleted behind the index's back: the marker no longer agrees, it is rebuilt.
        with ws.transaction() as s:
            gone = s.scalar(select(Media.id).where(Media.sha256 == first["a1.jpg"].sha256))
            s.execute(delete(Match).where(Match.media_id == gone))
            from tantalio.store.cases import File

            s.execute(delete(File).where(File.media_id == gone))
            s.execute(delete(Media).where(Media.id == gone))
        with ws.session() as s:
            rebuilt = WorkspaceIndexes(ws).media(s)
            assert len(rebuilt) == 5
            assert rebuilt.search([first["a1.jpg"].pdq])[0] == []
