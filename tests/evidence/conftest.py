"""Fixtures for the evidence tests: disk images decompressed once per session."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import pytest

from .helpers import DATA


@pytest.fixture(scope="session")
def disks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The gzipped disk-image fixtures, decompressed once per test session."""
    out = tmp_path_factory.mktemp("disks")
    for name in ("fat.img", "mbr.dd", "ext4.img", "gpt-ntfs.dd"):
        with gzip.open(DATA / f"{name}.gz") as src, open(out / name, "wb") as dst:
            shutil.copyfileobj(src, dst)
    shutil.copy(DATA / "mbr.E01", out / "mbr.E01")
    return out
