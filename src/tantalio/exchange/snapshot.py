"""A snapshot of the exchange's record indexes beside the database, so a restart at 10M
records loads arrays instead of rebuilding from every row (docs/decisions/exchange-server.md).

A snapshot is a directory: the saved PDQ, exact and vPDQ-frame indexes (`index.persist`
format, no pickle) and `snapshot.json`, which names the database (its `database_id`), the
marks the snapshot has seen (highest record id, highest `exchange_index_log` seq), the match
rules, and the size and CRC-32 of every file. A start uses it only when all of that agrees
with the database and the files; otherwise it says why (one log line) and rebuilds. After a
load the server replays what came after the marks: records with a higher id, and records
the index log names after the seq (changed in place, retracted or deleted).

Watches are not in the snapshot: they are reloaded from the database, as before.
"""

from __future__ import annotations

import json
import os
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tantalio.exchange.index import ExchangeIndex, IndexRules
from tantalio.index import persist

FORMAT = "tantalio-exchange-index-snapshot"
VERSION = 1
HEADER = "snapshot.json"
BLOCK = 1 << 24
CRC_THREADS = min(os.cpu_count() or 1, 4)


class SnapshotRefused(Exception):
    """The snapshot cannot be used; `reason` says why (no hash values in it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Marks:
    database_id: str
    record_id: int  # highest record id the snapshot has seen
    log_seq: int  # highest exchange_index_log seq the snapshot has seen


def _crc(path: Path) -> int:
    crc = 0
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK):
            crc = zlib.crc32(block, crc)
    return crc


def _files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file() and p.name != HEADER)


def save(index: ExchangeIndex, path: str | Path, marks: Marks) -> dict[str, Any]:
    """Write the snapshot to `path` (replaced atomically: a sibling directory renamed in).
    The caller holds the service's write lock (no record changes meanwhile)."""
    with persist.replacing_dir(path) as tmp:
        index.save_parts(tmp)
        written = _files(tmp)
        with ThreadPoolExecutor(max_workers=CRC_THREADS) as pool:
            crcs = list(pool.map(_crc, written))
        files = {
            f.relative_to(tmp).as_posix(): [f.stat().st_size, crc]
            for f, crc in zip(written, crcs, strict=True)
        }
        header = {
            "format": FORMAT,
            "version": VERSION,
            **asdict(marks),
            "rules": asdict(index.rules),
            "records_pdq": len(index.pdq),
            "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "files": files,
        }
        (tmp / HEADER).write_text(json.dumps(header, indent=1), encoding="utf-8")
    return header


def load(
    path: str | Path,
    rules: IndexRules,
    database_id: str,
    record_id: int,
    log_seq: int,
    log_pruned: int,
) -> tuple[ExchangeIndex, Marks]:
    """The snapshot's index and marks, or SnapshotRefused naming why it cannot be used:
    missing, unreadable, of another format or database, other match rules, ahead of the
    database (a restored backup), older than the pruned index log, or a file whose size or
    checksum differs. `record_id`/`log_seq`: the database's current marks."""
    base = Path(path)
    try:
        header = json.loads((base / HEADER).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SnapshotRefused(f"no snapshot at {base}") from None
    except (OSError, ValueError) as exc:
        raise SnapshotRefused(f"{base / HEADER}: unreadable ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise SnapshotRefused(f"{base}: not an exchange index snapshot")
    if header.get("version") != VERSION:
        raise SnapshotRefused(f"{base}: snapshot version {header.get('version')!r}, not {VERSION}")
    try:
        marks = Marks(str(header["database_id"]), int(header["record_id"]), int(header["log_seq"]))
        files = {str(k): (int(v[0]), int(v[1])) for k, v in header["files"].items()}
        saved_rules = dict(header["rules"])
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise SnapshotRefused(f"{base / HEADER}: damaged header ({exc})") from None
    if marks.database_id != database_id:
        raise SnapshotRefused(f"{base}: snapshot of another database")
    if saved_rules != asdict(rules):
        raise SnapshotRefused(f"{base}: made with other match rules ({saved_rules})")
    if marks.record_id > record_id or marks.log_seq > log_seq:
        raise SnapshotRefused(
            f"{base}: snapshot is ahead of the database (record {marks.record_id} > "
            f"{record_id} or log {marks.log_seq} > {log_seq}); a restored backup?"
        )
    if marks.log_seq < log_pruned:
        raise SnapshotRefused(
            f"{base}: older than the pruned index log (seq {marks.log_seq} < {log_pruned})"
        )
    present = {f.relative_to(base).as_posix() for f in _files(base)}
    if present != set(files):
        raise SnapshotRefused(f"{base}: files differ from its header")
    for name, (size, _) in files.items():
        if (base / name).stat().st_size != size:
            raise SnapshotRefused(f"{base / name}: checksum mismatch (size differs)")
    names = sorted(files)
    with ThreadPoolExecutor(max_workers=CRC_THREADS) as pool:  # zlib frees the GIL
        crcs = list(pool.map(lambda n: _crc(base / n), names))
    for name, crc in zip(names, crcs, strict=True):
        if crc != files[name][1]:
            raise SnapshotRefused(f"{base / name}: checksum mismatch (damaged snapshot)")
    try:
        index = ExchangeIndex.load_parts(base, rules)
    except (OSError, ValueError) as exc:
        raise SnapshotRefused(f"{base}: unreadable index ({exc})") from None
    return index, marks
