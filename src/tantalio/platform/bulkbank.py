"""Bulk banks (issue 17): 100M PDQ hashes in a bank without a row per hash.

`import_bulk` reads a PDQ list (one 64-hex hash per line, or a `.npy` of (n, 4) uint64
words / (n, 32) uint8 bytes), builds the memory-mapped PDQ index of it with
`index.bulk.build_dir` (positions 0..n-1 as ids) in a new directory, and records the
segment in the platform database (`PlatformStore.add_bulk_segment`): the run of entry ids
it reserves, the directory, its metadata and a check of the files. Position p of the index
is entry `first_id + p`. Serving processes map the directory at start (`load_segment`,
well under a second at 100M) and when the change feed announces it (op "bulk"); adds to a
bulk bank go through the ordinary path (rows, the in-memory index); removals write
tombstone rows and drop the position from the mapped index.

The directory is the bulk bank format: `index/` (the PDQ index's own saved form, .npy +
JSON, no pickle) and `bulk.json` (format, version, token, count, bank). The database row
holds what it must be: the token, the header's digest, every file's size and a digest of
sampled rows; a directory that is not that (damaged, truncated, another import's) is
refused at load with an error naming the file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.format import open_memmap
from numpy.typing import NDArray

from tantalio.index import PDQIndex
from tantalio.index.bulk import build_dir
from tantalio.index.codec import bytes_to_words, words_to_hex
from tantalio.platform.bulkindex import FORMAT, VERSION, digest, sample_positions
from tantalio.platform.imports import ImportRefused, ImportResult

log = logging.getLogger(__name__)

_LINES = 1 << 18  # text lines parsed per block
_ROWS = 1 << 22  # rows converted per block (128 MB of words)


# -- reading the list ------------------------------------------------------------------------


def _npy_words(path: Path, tmp: Path) -> NDArray[np.uint64]:
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise ImportRefused(f"{path}: not a readable .npy file: {exc}") from None
    if arr.dtype == np.uint64 and arr.ndim == 2 and arr.shape[1] == 4:
        return arr
    if arr.dtype == np.uint8 and arr.ndim == 2 and arr.shape[1] == 32:
        out = open_memmap(tmp / "words.npy", "w+", np.uint64, (len(arr), 4))
        for lo in range(0, len(arr), _ROWS):
            out[lo : lo + _ROWS] = bytes_to_words(np.asarray(arr[lo : lo + _ROWS]))
        out.flush()
        return out
    raise ImportRefused(
        f"{path}: expected PDQ hashes as (n, 4) uint64 or (n, 32) uint8, "
        f"found {arr.dtype} {arr.shape}"
    )


def _text_blocks(path: Path, warnings: list[str]) -> Iterator[bytes]:
    """Packed 32-byte hashes of a text list, block by block; a bad line is skipped and
    named (file:line) in `warnings`."""
    try:
        fh = open(path, encoding="utf-8", errors="replace")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise ImportRefused(f"{path}: cannot read: {exc.strerror}") from None
    with fh:
        line_no = 0
        while True:
            lines = fh.readlines(_LINES * 66)
            if not lines:
                return
            vals: list[str] = []
            for ln in lines:
                line_no += 1
                v = ln.strip()
                if not v or v.startswith("#"):
                    continue
                v = v.split(",", 1)[0].split(None, 1)[0].lower()
                if len(v) != 64:
                    warnings.append(f"{path}:{line_no}: not a 64-hex-digit PDQ hash; line skipped")
                    continue
                try:
                    bytes.fromhex(v)
                except ValueError:
                    warnings.append(f"{path}:{line_no}: not a 64-hex-digit PDQ hash; line skipped")
                    continue
                vals.append(v)
            if vals:
                yield bytes.fromhex("".join(vals))


def read_hashes(path: Path, tmp: Path) -> tuple[NDArray[np.uint64], list[str]]:
    """The list's hashes as (n, 4) uint64 words (memory-mapped) and its warnings."""
    if path.suffix == ".npy":
        return _npy_words(path, tmp), []
    warnings: list[str] = []
    packed = tmp / "hashes.bin"
    n = 0
    with open(packed, "wb") as out:
        for block in _text_blocks(path, warnings):
            out.write(block)
            n += len(block) // 32
    if n == 0:
        first = f" (first problem: {warnings[0]})" if warnings else ""
        raise ImportRefused(f"{path}: no PDQ hash in the list{first}")
    raw = np.memmap(packed, dtype=np.uint8, mode="r", shape=(n, 32))
    words = open_memmap(tmp / "words.npy", "w+", np.uint64, (n, 4))
    for lo in range(0, n, _ROWS):
        words[lo : lo + _ROWS] = bytes_to_words(np.asarray(raw[lo : lo + _ROWS]))
    words.flush()
    del raw
    packed.unlink()
    return words, warnings


# -- the segment directory -------------------------------------------------------------------


def _files(index_dir: Path) -> dict[str, int]:
    return {f.name: f.stat().st_size for f in sorted(index_dir.iterdir()) if f.is_file()}


def make_check(directory: Path, token: str, words: NDArray[np.uint64]) -> dict[str, Any]:
    index_dir = directory / "index"
    header = (index_dir / "index.json").read_bytes()
    n = len(words)
    pos = sample_positions(n)
    return {
        "token": token,
        "count": n,
        "header_sha256": hashlib.sha256(header).hexdigest(),
        "files": _files(index_dir),
        "samples": digest(words_to_hex(np.asarray(words[pos]))),
    }


def _adopt(prebuilt: Path, target: Path, words: NDArray[np.uint64]) -> None:
    """Use an index that `bulk.build_dir` already wrote over these hashes (default ids):
    checked (count, sampled rows), then hard-linked (copied across file systems)."""
    try:
        idx = PDQIndex.load(prebuilt, mmap=True)
    except (OSError, ValueError) as exc:
        raise ImportRefused(f"{prebuilt}: not a usable prebuilt index: {exc}") from None
    n = len(words)
    if len(idx) != n:
        raise ImportRefused(f"{prebuilt}: holds {len(idx)} hashes, the list {n}")
    pos = list(range(0, n, max(1, n // 256)))[:256] + [n - 1]
    if [idx.get(p) for p in pos] != words_to_hex(np.asarray(words[pos])):
        raise ImportRefused(f"{prebuilt}: not an index of this list's hashes (ids 0..n-1)")
    target.mkdir()
    for f in prebuilt.iterdir():
        try:
            os.link(f, target / f.name)
        except OSError:
            shutil.copy2(f, target / f.name)


def import_bulk(
    service: Any,
    bank_name: str,
    path: str | Path,
    directory: str | Path,
    *,
    source_list: str | None = None,
    category: int | None = None,
    prebuilt: str | Path | None = None,
    workers: int | None = None,
) -> ImportResult:
    """Bulk-import a PDQ list into bank `bank_name`; its index goes in a new directory under
    `directory`. Nothing is recorded unless the whole list is read and indexed."""
    bank = service.bank(bank_name)  # a missing bank is an error before any reading
    src = Path(path)
    root = Path(directory).resolve()
    root.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    seg_dir = root / f"{bank.name}-{token[:12]}"
    with tempfile.TemporaryDirectory(prefix=".bulk-read-", dir=root) as tmp_name:
        words, warnings = read_hashes(src, Path(tmp_name))
        n = len(words)
        if n == 0:
            raise ImportRefused(f"{src}: no PDQ hash in the list")
        seg_dir.mkdir()
        try:
            if prebuilt is not None:
                _adopt(Path(prebuilt), seg_dir / "index", words)
            else:
                build_dir(seg_dir / "index", words, workers=workers)
            (seg_dir / "bulk.json").write_text(
                json.dumps(
                    {
                        "format": FORMAT,
                        "version": VERSION,
                        "token": token,
                        "count": n,
                        "bank": bank.name,
                        "source": src.name,
                    },
                    indent=1,
                ),
                encoding="utf-8",
            )
            check = make_check(seg_dir, token, words)
            del words
            service.store.add_bulk_segment(
                bank.id,
                n,
                str(seg_dir),
                check,
                category=category,
                source_list=source_list or src.name,
            )
        except BaseException:
            shutil.rmtree(seg_dir, ignore_errors=True)
            raise
    service._changed()  # a serving process in this process maps it now; others by the feed
    return ImportResult(bank.name, "pdq-bulk", n, warnings)
