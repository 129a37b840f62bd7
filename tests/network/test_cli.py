"""`tantalio chats import` and `tantalio network` from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import networkx as nx
from typer.testing import CliRunner

from tantalio.cli.main import app


def _run(*args: str) -> Any:
    result = CliRunner().invoke(app, list(args))
    return result


def test_import_then_rank_as_json_and_export(
    tmp_path: Path, scenario: Path, expected: dict[str, Any]
) -> None:
    ws = str(tmp_path / "ws")
    assert _run("init", ws).exit_code == 0
    r = _run(
        "hashset",
        "import",
        str(scenario / "known_standins_vics.json"),
        "-f",
        "vics",
        "-n",
        "k",
        "-w",
        ws,
    )
    assert r.exit_code == 0, r.output
    for phone in ("phone1", "phone2", "phone3", "saved_site"):
        r = _run("chats", "import", "OP", str(scenario / phone), "-w", ws)
        assert r.exit_code == 0, r.output
    assert (
        "49 accounts, 6 groups"
        in _run("chats", "import", "OP", str(scenario / "phone1"), "-w", ws).output
    )
    gexf = tmp_path / "net.gexf"
    r = _run("network", "OP", "--top", "3", "--format", "json", "--export", str(gexf), "-w", ws)
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [
        set(row) >= {"account", "score", "groups", "known_posts", "new_posts"} for row in rows
    ] == [True] * 3
    assert {row["key"] for row in rows} == set(expected["distributors"])
    head = r.stderr.split("audit head: ", 1)[1].split()[0]  # issue 14: exports carry it
    assert f"<description>tantalio audit head {head}</description>" in gexf.read_text()
    graphml = tmp_path / "net.graphml"
    r = _run("network", "OP", "--export", str(graphml), "-w", ws)
    head = r.output.split("audit head: ", 1)[1].split()[0]
    assert nx.read_graphml(graphml).graph["tantalio_audit_head"] == head
    graph = nx.read_gexf(gexf)
    assert {d["type"] for _, d in graph.nodes(data=True)} == {
        "account",
        "group",
        "media",
        "series",
        "invite",
        "site",
    }
    table = _run("network", "OP", "--top", "5", "-w", ws)
    assert table.exit_code == 0 and "Likely distributors (5 of" in table.output


def test_clear_errors(tmp_path: Path, scenario: Path) -> None:
    ws = str(tmp_path / "ws")
    _run("init", ws)
    r = _run("network", "NOPE", "-w", ws)
    assert r.exit_code == 1 and "no case 'NOPE'" in r.output
    r = _run("network", "NOPE", "--export", "x.csv", "-w", ws)
    assert r.exit_code == 2 and "export as .gexf or .graphml" in r.output  # usage error
    r = _run("chats", "import", "C", str(tmp_path / "missing"), "-w", ws)
    assert r.exit_code == 1 and "no such file or folder" in r.output
    r = _run("chats", "import", "C", str(scenario / "phone1"), "--owner", "nonsense", "-w", ws)
    assert r.exit_code == 1 and "neither a JID nor a phone number" in r.output
