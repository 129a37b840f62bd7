"""Index snapshots: restart in seconds instead of re-reading every entry.

With `index_dir` set, the serving process writes its PDQ and exact indexes there (the
index package's own .npy + JSON format: no pickle) together with the change-feed position
they reflect, at start-up after a full load, every `snapshot_interval_s` when something
changed, and at shutdown. The next start loads the snapshot and replays the change feed
from that position; vPDQ frames (few) are re-read from the database. A snapshot is used only
if it was written for the same database URL and that database's feed has not gone
backwards; otherwise the process falls back to a full load.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tantalio.index import ExactIndex, PDQIndex
from tantalio.platform.bulkindex import LayeredPDQ
from tantalio.platform.pdq_backend import TantalioPDQ

if TYPE_CHECKING:
    from tantalio.platform.service import PlatformService

log = logging.getLogger(__name__)
FORMAT = "tantalio-platform-index-snapshot"
VERSION = 1


def _db_tag(url: str) -> str:
    # The URL without credentials, hashed: says "same database" without storing secrets.
    scheme, _, rest = url.partition("://")
    rest = rest.rsplit("@", 1)[-1]
    return hashlib.sha256(f"{scheme}://{rest}".encode()).hexdigest()[:16]


def save(service: PlatformService, directory: Path) -> None:
    """Write the snapshot; the previous one stays valid until the new one is complete."""
    directory.mkdir(parents=True, exist_ok=True)
    pdq = getattr(service.index.pdq, "main", service.index.pdq)  # not the bulk segments
    if not isinstance(pdq, TantalioPDQ):
        return
    t0 = time.perf_counter()
    work = directory / f"snapshot.tmp-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    with service.sync.lock:  # index state == applied changes up to last_seq (minus gaps)
        meta: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "db": _db_tag(service.store.url),
            "seq": service.sync.last_seq,
            "gaps": sorted(service.sync.gaps()),
            "entries": len(service.index),
            "saved_at": time.time(),
        }
        pdq.index.save(work / "pdq")
        service.index.exact.save(work / "exact")
    (work / "snapshot.json").write_text(json.dumps(meta))
    final = directory / "snapshot"
    old = directory / f"snapshot.old-{os.getpid()}"
    if final.exists():
        final.rename(old)
    work.rename(final)
    shutil.rmtree(old, ignore_errors=True)
    log.info(
        "index snapshot written: %d entries in %.1f s", meta["entries"], time.perf_counter() - t0
    )


def load(service: PlatformService, directory: Path) -> bool:
    """Load the snapshot into `service.index` and position the follower; False if there is
    no usable snapshot (the caller then does a full load)."""
    path = directory / "snapshot"
    try:
        meta = json.loads((path / "snapshot.json").read_text())
    except (OSError, ValueError):
        return False
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        log.warning("ignoring index snapshot of another format/version")
        return False
    if meta.get("db") != _db_tag(service.store.url):
        log.warning("ignoring index snapshot written for another database")
        return False
    if service.store.max_change_seq() < int(meta["seq"]):
        log.warning("ignoring index snapshot newer than the database's change feed")
        return False
    try:
        # Mapped, not read: a 100M-hash index (~9 GB of arrays) starts in under a second and
        # its pages come in as lookups touch them (the page cache holds them, not the heap).
        # A later save replaces the directory by renames; the mapped files stay readable.
        pdq = PDQIndex.load(path / "pdq", mmap=True)
        exact = ExactIndex.load(path / "exact")
    except (OSError, ValueError) as exc:
        log.warning("ignoring damaged index snapshot: %s", exc)
        return False
    layered = service.index.pdq
    if isinstance(layered, LayeredPDQ):
        layered.main = TantalioPDQ(pdq)
    else:
        service.index.pdq = TantalioPDQ(pdq)
    service.index.exact = exact
    for rows in service.store.iter_video_rows():
        service.index.add_rows(rows)
    service.sync.position(int(meta["seq"]), [int(g) for g in meta.get("gaps", [])])
    return True
