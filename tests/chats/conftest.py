"""Fixtures of the chat parser tests: the synthetic samples in tests/data/chats/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "chats"


@pytest.fixture(scope="session")
def chats_data() -> Path:
    return DATA


@pytest.fixture(scope="session")
def facts() -> dict[str, Any]:
    return json.loads((DATA / "unit" / "facts.json").read_text())
