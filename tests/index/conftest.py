"""Fixtures for the index tests."""

from __future__ import annotations

import numpy as np
import pytest

from tantalio.index import mih


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20170)


@pytest.fixture
def force_probing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small test segments would be brute-force scanned (cheaper); probe them instead so
    the tests exercise multi-index hashing itself."""
    monkeypatch.setattr(mih, "SCAN_COST_RATIO", 0)
