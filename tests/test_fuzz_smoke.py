"""A few fuzzed inputs per target inside the normal test suite (`make fuzz` runs each for a
bounded time): every parser that reads evidence or lists keeps its contract on mutated seeds
(fuzz/targets.py). Derandomized, so a failure here reproduces."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fuzz.targets import TARGETS, run  # noqa: E402


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz_smoke(name: str) -> None:
    run(TARGETS[name], examples=8, derandomize=True)


def test_every_parser_family_has_a_target() -> None:
    from tantalio.hashsets.registry import FORMATS

    formats = {f"hashset_{name}" for name in FORMATS} - {"hashset_tantalio-signed"}
    assert formats <= set(TARGETS)  # signed lists are VICS-like JSON behind a signature
    assert {"archives", "disks", "e01", "chats", "le_report"} <= set(TARGETS)
