"""The case behind issue 5, in miniature: three seized phones and a saved page of invite
links; the ranking must put the planted distributors on top, and known media whose files
were deleted must still be flagged through the hashes the chat databases kept."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tantalio.network import build_graph, rank
from tantalio.store.chats import ChatGraphData, load_graph_data
from tantalio.store.repo import get_case
from tantalio.store.workspace import Workspace, init_workspace, open_workspace
from tantalio.triage.chat_import import import_chats
from tantalio.triage.hashset_import import import_hash_set

PHONES = ("phone1", "phone2", "phone3", "saved_site")


def _data(ws: Workspace) -> ChatGraphData:
    with ws.session() as s:
        return load_graph_data(s, [get_case(s, "OP-CIRCLES").id])


def _check_ranking(data: ChatGraphData, expected: dict[str, Any]) -> None:
    graph = build_graph(data)
    ranking = rank(data, graph)
    top = [r.key for r in ranking[:3]]
    assert set(top) == set(expected["distributors"]), [(r.key, r.score) for r in ranking[:6]]
    assert ranking[3].score < ranking[2].score / 2  # a clear gap to everyone else
    by_key = {r.key: r for r in ranking}
    assert by_key[expected["forwarder"]].known_posts == 1  # one forward is not distribution
    assert by_key[expected["chatty"]].new_posts >= 20  # posting a lot of new media is not either
    for key in expected["distributors"]:
        assert by_key[key].known_posts >= 6
    # The same person on several phones is one account.
    d1, d2, d3 = (by_key[k] for k in expected["distributors"])
    acc = {a.key: a for a in data.accounts}
    assert acc[d1.key].exhibits == ["OP-CIRCLES/phone1", "OP-CIRCLES/phone2"]
    assert acc[d2.key].lid == "555000111222333@lid"  # shown as @lid on phone1
    assert acc[d3.key].owner_of == ["OP-CIRCLES/phone3"]
    assert "OP-CIRCLES/phone2" in acc[d3.key].exhibits
    # Deleted files: known through the stored SHA-256 alone.
    deleted = set(expected["deleted_known_sha256"])
    assert deleted <= set(data.known)
    posts = [p for p in data.posts if p.media_sha256 in deleted]
    assert posts and not any(p.media_stored for p in posts)
    # The saved site ties itself to the groups through the invite links it lists.
    site = f"site:{expected['site']}"
    invites = set(graph.neighbors(site))
    assert len(invites) == 8
    tied = {n for i in invites for n in graph.neighbors(i) if n.startswith("group:")}
    assert len(tied) == 6  # the phone holds invite cards for six of them
    assert len(data.groups) == expected["groups"]
    assert d1.component == 1 and d2.component == 1 and d3.component == 1


def _import_all(ws: Workspace, scenario: Path) -> None:
    for phone in PHONES:
        result = import_chats(ws, "OP-CIRCLES", scenario / phone)
        assert result.summary.warnings == []


def test_ranking_from_chat_databases_alone(
    db_url: str, scenario: Path, expected: dict[str, Any]
) -> None:
    with open_workspace(db_url) as ws:
        import_hash_set(
            ws, scenario / "known_standins_vics.json", "vics", "standins", kind="known-bad"
        )
        _import_all(ws, scenario)
        _check_ranking(_data(ws), expected)


@pytest.mark.slow
def test_ranking_after_full_ingest(
    tmp_path: Path, scenario: Path, expected: dict[str, Any]
) -> None:
    """Through `tantalio ingest`: files on the phones become media and match the hash set;
    messages link to them; deleted ones are still flagged by their stored hash."""
    from tantalio.triage.pipeline import IngestOptions, ingest

    with init_workspace(tmp_path / "ws") as ws:
        import_hash_set(
            ws, scenario / "known_standins_vics.json", "vics", "standins", kind="known-bad"
        )
        report = ingest(
            ws,
            "OP-CIRCLES",
            [str(scenario / p) for p in PHONES],
            options=IngestOptions(jobs=1, progress=False, thumbnails=False),
        )
        messages = [m for e in report.exhibits for m in e.messages]
        assert any(m.startswith("chats: 49 accounts") for m in messages), messages
        data = _data(ws)
    _check_ranking(data, expected)
    stored_known = {p.media_sha256 for p in data.posts if p.media_stored} & set(data.known)
    assert stored_known  # files kept on the phones matched as media rows
    assert any("match:" in v for sha in stored_known for v in data.known[sha].via)
