"""The case scenario (tests/data/chats/scenario, made by scripts/make_chat_fixtures.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "chats" / "scenario"


@pytest.fixture(scope="session")
def scenario() -> Path:
    return SCENARIO


@pytest.fixture(scope="session")
def expected() -> dict[str, Any]:
    return json.loads((SCENARIO / "expected.json").read_text())


@pytest.fixture(scope="session")
def lenguas(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The three-phone scenario in Spanish, Portuguese and English (tantalio.demo.chatscenario),
    built once per session."""
    from tantalio.demo.chatscenario import build_chat_phones

    return build_chat_phones(tmp_path_factory.mktemp("lenguas"))
