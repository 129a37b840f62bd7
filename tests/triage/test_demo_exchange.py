"""`python -m tantalio.demo.exchange` (what `make demo-exchange` runs, issue 11): two
agencies and an exchange on 127.0.0.1; B's triage names A's series (one identified long ago)
and B learns A's later identification at its next sync."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tantalio.demo.exchange import OLD_SERIES, SERIES, main

pytestmark = pytest.mark.slow


def _agency_lines(out: str) -> list[list[str]]:
    """The blocks `_show_agencies` prints: one list of lines per triage shown."""
    blocks = out.split("what agency B's triage of B-7 says of other agencies:")[1:]
    return [[ln.strip() for ln in b.splitlines() if re.match(r"  \S+\.jpg ", ln)] for b in blocks]


def test_demo_exchange_shows_seen_identified_and_learned(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    assert main(["--out", str(tmp_path / "demo")]) == 0
    out = capfd.readouterr().out
    assert "demo finished in" in out
    # every command an examiner types is shown, with the exchange on 127.0.0.1
    assert re.search(r"\$ tantalio exchange serve --db \S+ --host 127\.0\.0\.1 --port \d+", out)
    for cmd in ("exchange push A-1", "triage B-7", "exchange sync"):
        assert f"$ tantalio {cmd}" in out
    before, after = _agency_lines(out)
    seen = [ln for ln in before if "Agency A (DE)" in ln]
    assert len(seen) == 3  # two exact copies and a resized one
    assert any(f"series {OLD_SERIES} identified, victim identified" in ln for ln in seen)
    assert sum(f"series {SERIES} unidentified" in ln for ln in seen) == 2
    # after the sync: A's later identification of SERIES reached B
    learned = [ln for ln in after if f"series {SERIES} identified, victim identified" in ln]
    assert len(learned) == 2
    assert not any(f"series {SERIES} unidentified" in ln for ln in after)
    # a picture nobody else has stays unknown to the exchange
    assert any(ln.endswith(" -") for ln in after)
    assert (tmp_path / "demo" / "workspace-B").is_dir()
