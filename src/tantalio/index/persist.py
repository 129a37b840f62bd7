"""On-disk form of the indexes: a directory of .npy arrays plus `index.json`.

No pickle (HMA's pain: pickled state that breaks across versions and can run code on
load): arrays are read with `allow_pickle=False` and checked against the header's dtypes
and shapes, so a damaged or foreign directory fails with a clear error naming it.
A save writes a sibling temporary directory and swaps it in, so readers never see a half
written index and a crash mid-save leaves the previous one intact.
"""

from __future__ import annotations

import contextlib
import json
import mmap as mmap_module
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

HEADER = "index.json"

Loader = Callable[[str, Any, "tuple[int, ...] | None", bool], np.ndarray]


def write_dir(path: str | Path, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    with replacing_dir(path) as tmp:
        for name, arr in arrays.items():
            with open(tmp / f"{name}.npy", "wb") as fh:
                np.save(fh, np.ascontiguousarray(arr), allow_pickle=False)
        (tmp / HEADER).write_text(json.dumps(header, indent=1), encoding="utf-8")


@contextlib.contextmanager
def replacing_dir(path: str | Path) -> Iterator[Path]:
    """A fresh sibling directory for the caller to fill. On a clean exit every file in it
    is made durable (fsync) and it replaces `path` (`swap_in`); on an error it is removed
    and `path` is left as it was. Every index, snapshot and bulk build is saved this way."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    try:
        yield tmp
        for file in sorted(p for p in tmp.rglob("*") if p.is_file()):
            with open(file, "rb") as fh:
                os.fsync(fh.fileno())
        swap_in(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def swap_in(tmp: Path, target: Path) -> None:
    """Replace directory `target` by the complete directory `tmp` (renames only: a reader
    sees the old index or the new one, never half of one)."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{uuid.uuid4().hex[:8]}")
        os.rename(target, old)
    os.rename(tmp, target)
    sync_dir(target.parent)  # the rename itself on disk before the old copy goes
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def sync_dir(directory: Path) -> None:
    """fsync a directory: makes the renames in it durable (the entries, not only the data
    already fsynced in the files they name)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_dir(path: str | Path, fmt: str, version: int) -> tuple[dict[str, Any], Loader]:
    """The header (checked for format and version) and a loader for the arrays."""
    base = Path(path)
    try:
        header = json.loads((base / HEADER).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{base}: no {HEADER}; not a saved tantalio index") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{base / HEADER}: unreadable index header: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != fmt:
        raise ValueError(f"{base}: not a {fmt} (format {header.get('format')!r})")
    if not isinstance(header.get("version"), int) or header["version"] > version:
        raise ValueError(
            f"{base}: {fmt} version {header.get('version')!r} is newer than this "
            f"tantalio reads ({version})"
        )

    def load(name: str, dtype: Any, shape: tuple[int, ...] | None, mmap: bool) -> np.ndarray:
        file = base / f"{name}.npy"
        try:
            arr = np.load(file, mmap_mode="r" if mmap else None, allow_pickle=False)
        except FileNotFoundError:
            raise ValueError(f"{file}: missing") from None
        except (OSError, ValueError) as exc:
            raise ValueError(f"{file}: unreadable: {exc}") from None
        if arr.dtype != np.dtype(dtype) or (shape is not None and arr.shape != shape):
            raise ValueError(
                f"{file}: expected {np.dtype(dtype)} {shape}, found {arr.dtype} {arr.shape}"
            )
        if mmap and name.endswith((".ids", ".id_sorted", ".id_rows")):
            # The ids (and their lookup): a search reads one per hit, a write a few dozen by
            # binary search. Neither huge pages nor the kernel's read-around, which would
            # make each of those reads hold 2 MiB or 128 KiB resident (800 MB more at
            # 100M with huge pages; 616 MiB after a platform benchmark with read-around).
            random_access(arr)
        elif mmap:
            huge_pages(arr)
        return arr

    return header, load


def huge_pages(arr: np.ndarray) -> None:
    """Ask for transparent huge pages on a mapped array (`madvise(MADV_HUGEPAGE)`): pages
    the kernel reads in from then on come as 2 MiB folios mapped by one TLB entry, so the
    random reads of a search over GBs of mapped tables miss the TLB far less (the
    kernel's setting `madvise` honours it; where it is `never`, or the file system has no
    large folios, nothing changes). Pages already cached keep their size."""
    _advise(arr, "MADV_HUGEPAGE")


def random_access(arr: np.ndarray) -> None:
    """Tell the kernel a mapped array is read at random (`madvise(MADV_RANDOM)`): a page
    fault then reads that page alone, not the 128 KiB around it."""
    _advise(arr, "MADV_RANDOM")


def _advise(arr: np.ndarray, flag_name: str) -> None:
    """`madvise` on the mapping behind `arr`; nothing where there is none (an in-memory
    array) or the platform lacks the flag."""
    mapping = getattr(arr, "_mmap", None)
    advise = getattr(mapping, "madvise", None)
    flag = getattr(mmap_module, flag_name, None)
    if advise is None or flag is None:
        return
    with contextlib.suppress(OSError, ValueError):
        advise(flag)
