"""Done-when of issue 15: on a three-phone scenario mixing Spanish, Portuguese and English
exports, a database, and LID members, the planted distributors rank top 3 and the planted
first uploader of each known stand-in is named, although the phones' clocks disagree."""

from __future__ import annotations

import json
from typing import Any

import pytest
from typer.testing import CliRunner

from tantalio.cli.main import app
from tantalio.network import attach_first_posts, build_graph, media_spread, rank
from tantalio.network.firstpost import SpreadReport, SpreadRules
from tantalio.store.chats import ChatGraphData, load_graph_data
from tantalio.store.chats.copies import CopyRow, load_message_copies
from tantalio.store.workspace import Workspace, open_workspace
from tantalio.triage.chat_import import import_chats
from tantalio.triage.hashset_import import import_hash_set


def _load(ws: Workspace) -> tuple[ChatGraphData, list[CopyRow]]:
    with ws.session() as s:
        return load_graph_data(s), load_message_copies(s)


def _import(ws: Workspace, lenguas: Any, order: list[str]) -> None:
    import_hash_set(ws, lenguas.hashset, "vics", "standins")
    for label in order:
        result = import_chats(ws, lenguas.case, lenguas.phones[label], exhibit=label)
        assert result.summary.warnings == [], label


def _check(data: ChatGraphData, report: SpreadReport, lenguas: Any) -> None:
    ranking = rank(data, build_graph(data))
    top = [r.key for r in ranking[:3]]
    assert set(top) == set(lenguas.distributors), [(r.key, r.score) for r in ranking[:5]]
    assert ranking[3].score < ranking[2].score / 2
    accounts = {a.key: a for a in data.accounts}
    for lid, jid in lenguas.lids.items():  # LID members are their phone accounts
        assert accounts[jid].lid == lid
        assert lid not in accounts
    d2 = accounts[lenguas.distributors[1]]
    assert "OP-LENGUAS/phone-en" in d2.exhibits  # shown there only by an unmapped lid
    assert "Dist Dois" in d2.names
    firsts = {m.sha256: m for m in report.media if m.known}
    assert set(firsts) == set(lenguas.first_uploaders)
    for sha, jid in lenguas.first_uploaders.items():
        assert firsts[sha].first.sender == jid, sha
        assert firsts[sha].uncertain is None
        assert firsts[sha].groups >= 3


def test_distributors_and_first_uploaders(db_url: str, lenguas: Any) -> None:
    with open_workspace(db_url) as ws:
        _import(ws, lenguas, ["phone-es", "phone-br", "phone-en"])
        data, copies = _load(ws)
    report = media_spread(copies, data.known)
    _check(data, report, lenguas)
    clocks = {f.exhibit + ("/local" if k[1] else ""): f for k, f in report.clocks.items()}
    assert round(clocks["OP-LENGUAS/phone-es/local"].offset_minutes or 0) == 60  # Madrid
    assert round(clocks["OP-LENGUAS/phone-br/local"].offset_minutes or 0) == -173  # + 7 fast


def test_phone_times_as_written_name_the_wrong_first_uploaders(lenguas: Any, db_url: str) -> None:
    """Why the clocks are aligned: read as written, three of six stand-ins get the wrong
    first poster."""
    with open_workspace(db_url) as ws:
        _import(ws, lenguas, ["phone-es", "phone-br", "phone-en"])
        data, copies = _load(ws)
    for c in copies:  # every clock taken as UTC, and none aligned on another
        c.local_time, c.utc_offset = False, None
    naive = media_spread(copies, data.known, SpreadRules(min_anchors=10**9))
    wrong = [
        m for m in naive.media if m.known and m.first.sender != lenguas.first_uploaders[m.sha256]
    ]
    assert len(wrong) == 3


@pytest.mark.parametrize("order", [["phone-en", "phone-br", "phone-es"]])
def test_import_order_does_not_matter(db_url: str, lenguas: Any, order: list[str]) -> None:
    with open_workspace(db_url) as ws:
        _import(ws, lenguas, order)  # the unmapped lid arrives before its mapping
        data, copies = _load(ws)
    _check(data, media_spread(copies, data.known), lenguas)


def test_network_json_names_first_posts(tmp_path: Any, lenguas: Any) -> None:
    ws = str(tmp_path / "ws")
    runner = CliRunner()
    assert runner.invoke(app, ["init", ws]).exit_code == 0
    r = runner.invoke(
        app, ["hashset", "import", str(lenguas.hashset), "-f", "vics", "-n", "k", "-w", ws]
    )
    assert r.exit_code == 0, r.output
    for label, path in lenguas.phones.items():
        r = runner.invoke(app, ["chats", "import", lenguas.case, str(path), "-e", label, "-w", ws])
        assert r.exit_code == 0 and "warning" not in r.output, r.output
    r = runner.invoke(app, ["network", lenguas.case, "--top", "3", "--format", "json", "-w", ws])
    assert r.exit_code == 0, r.output
    rows = {row["key"]: row for row in json.loads(r.stdout)}
    named = {
        post["sha256"]: key
        for key, row in rows.items()
        for post in row["first_posts"]
        if post["known"]
    }
    assert named == lenguas.first_uploaders
    post = rows[lenguas.distributors[0]]["first_posts"][0]
    assert post["certain"] and post["groups"] >= 3
    assert {"at", "sender", "group", "exhibits", "forwarded"} <= set(post["spread"][1])
    table = runner.invoke(app, ["network", lenguas.case, "-w", ws])
    assert table.exit_code == 0 and "first" in table.output


def test_attach_first_posts_leaves_other_accounts_empty(db_url: str, lenguas: Any) -> None:
    with open_workspace(db_url) as ws:
        _import(ws, lenguas, ["phone-es", "phone-br", "phone-en"])
        data, copies = _load(ws)
    ranking = rank(data, build_graph(data))
    attach_first_posts(ranking, media_spread(copies, data.known))
    assert all(r.first_posts == [] for r in ranking[3:] if r.key != lenguas.forwarder)


def test_telegram_on_a_phone_links_the_distributors_across_apps(db_url: str, lenguas: Any) -> None:
    """The English phone's Telegram `cache4.db` (issue 15): the distributors' Telegram
    accounts stay accounts of their own, linked to their WhatsApp accounts by `same_number`
    edges; the Telegram group is opened by the invite link posted in a WhatsApp group; and
    the ranking is still the distributors' WhatsApp accounts on top."""
    with open_workspace(db_url) as ws:
        _import(ws, lenguas, ["phone-es", "phone-br", "phone-en"])
        data, copies = _load(ws)
    graph = build_graph(data)
    node = {a.key: f"account:{a.id}" for a in data.accounts}
    for jid in lenguas.distributors:
        tg = lenguas.telegram_accounts[jid]
        assert graph.nodes[node[tg]]["app"] == "telegram"
        assert graph.edges[node[jid], node[tg]]["relation"] == "same_number"
    group = next(f"group:{g.id}" for g in data.groups if g.key == lenguas.telegram_group)
    members = {m for m in graph.neighbors(group) if graph.edges[group, m]["relation"] == "member"}
    assert {node[lenguas.telegram_accounts[j]] for j in lenguas.distributors} <= members
    invite = f"invite:{lenguas.telegram_invite}"
    assert graph.edges[invite, group]["relation"] == "opens"
    # One component: WhatsApp groups, the Telegram group and its members.
    import networkx as nx

    assert nx.has_path(graph, node[lenguas.distributors[0]], group)
    tg_posts = [p for p in data.posts if p.group_id and f"group:{p.group_id}" == group]
    assert len(tg_posts) >= len(lenguas.first_uploaders)  # the stand-ins, as posts without hash
    _check(data, media_spread(copies, data.known), lenguas)
