"""Tor Browser / Firefox places.sqlite and Chromium History: visits with times, and the
onion site → invite link → group chain with a page saved from the site."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tantalio.chats.browsing import from_unix_any, from_webkit
from tantalio.chats.record import ChatRecords
from tantalio.chats.registry import parse_exhibit, wants

DATA = Path(__file__).resolve().parents[1] / "data" / "chat_apps"
PHONE = DATA / "browsing"
TOR = "data/data/org.torproject.torbrowser/databases/places.sqlite"
CHROME = "data/data/com.android.chrome/app_chrome/Default/History"


@pytest.fixture(scope="module")
def facts() -> dict[str, Any]:
    return dict(json.loads((DATA / "facts.json").read_text())["browsing"])


@pytest.fixture(scope="module")
def out() -> ChatRecords:
    return parse_exhibit(PHONE)


def test_visits_with_their_times(out: ChatRecords, facts: dict[str, Any]) -> None:
    assert out.warnings == []
    visits = {(a.value, a.seen_at) for a in out.artifacts if a.kind == "visit"}
    onion = facts["onion"]
    assert (f"http://{onion}/", datetime(2024, 1, 1, 10, 15, tzinfo=UTC)) in visits  # Tor, ms
    assert (
        "https://www.torproject.org/download/",
        datetime(2024, 1, 1, 10, 1, 40, tzinfo=UTC),
    ) in visits
    assert not any(v.startswith("about:") for v, _t in visits)
    links = next(a for a in out.artifacts if a.kind == "visit" and a.value.endswith("links.html"))
    assert links.where == f"{TOR}:moz_places 2 (2 visits, last 2024-01-01T11:06:40+00:00)"
    assert links.site == onion and links.sender == "owner:phone"
    assert out.accounts["owner:phone"].is_owner


def test_onion_visit_and_saved_page_tie_the_site_to_the_invite(
    out: ChatRecords, facts: dict[str, Any]
) -> None:
    onion = facts["onion"]
    visited = {a.site for a in out.artifacts if a.kind == "visit"}
    listed = {(a.site, a.value) for a in out.artifacts if a.kind == "telegram_invite" and a.site}
    assert onion in visited
    assert (onion, facts["invite"]) in listed  # the page saved from the onion site lists it
    opened = [
        a for a in out.artifacts if a.kind == "telegram_invite" and a.where.startswith(CHROME)
    ]
    assert [a.seen_at for a in opened] == [datetime(2024, 1, 1, 10, 16, 40, tzinfo=UTC)]


def test_time_units() -> None:
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    seconds = int(moment.timestamp())
    assert from_unix_any(seconds) == from_unix_any(seconds * 1000) == from_unix_any(seconds * 10**6)
    assert from_webkit((seconds + 11_644_473_600) * 10**6) == moment
    assert from_unix_any(0) is None and from_webkit(None) is None


def test_garbled_history_costs_a_warning(tmp_path: Path) -> None:
    phone = tmp_path / "phone"
    shutil.copytree(PHONE, phone)
    (phone / CHROME).write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    (phone / TOR).write_bytes(b"not a database at all")
    out = parse_exhibit(phone)
    assert {w.where for w in out.warnings} == {CHROME, TOR}
    assert any(a.kind == "telegram_invite" for a in out.artifacts)  # the saved page still read


def test_history_files_are_wanted() -> None:
    assert wants(TOR) and wants(CHROME) and wants(TOR + "-wal")
