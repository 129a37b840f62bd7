"""Telegram, Signal, an encrypted WhatsApp backup and browser history in one network
(issue 15): each account named with its app; a bad database of each kind costs a warning
naming it, never the rest of the phone."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import networkx as nx
from typer.testing import CliRunner

from tantalio.cli.main import app

DATA = Path(__file__).resolve().parents[1] / "data" / "chat_apps"
FACTS = json.loads((DATA / "facts.json").read_text())


def _run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_apps_in_one_network_with_the_onion_site_chain(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    assert _run("init", ws).exit_code == 0
    signal_key = str(DATA / "signal" / "keys" / "signal.hex")
    crypt_key = str(DATA / "whatsapp_backup" / "keys" / "encrypted_backup.key")
    for folder, label, keys in (
        (DATA / "telegram", "tg-phone", []),
        (DATA / "signal" / "phone", "signal-phone", ["--key", signal_key]),
        (DATA / "browsing", "browser", []),
        (DATA / "whatsapp_backup" / "phone", "backup", ["--key", f"*.crypt15={crypt_key}"]),
    ):
        r = _run("chats", "import", "OP", str(folder), "-e", label, *keys, "-w", ws)
        assert r.exit_code == 0, r.output
    gexf = tmp_path / "net.graphml"
    r = _run("network", "OP", "--top", "100", "--format", "json", "--export", str(gexf), "-w", ws)
    assert r.exit_code == 0, r.output
    rows = {row["key"]: row for row in json.loads(r.stdout)}
    tg, sig = FACTS["telegram"], FACTS["signal"]
    assert rows[tg["users"]["alice"]]["app"] == "telegram"
    assert rows[sig["accounts"]["bob"]]["app"] == "signal"
    assert (
        "12025550101@s.whatsapp.net" in rows
        and rows["12025550101@s.whatsapp.net"]["app"] == "whatsapp"
    )
    assert rows[tg["users"]["alice"]]["group_list"] == ["Garden Swap"]
    onion = FACTS["browsing"]["onion"]
    [browser_owner] = [row for row in rows.values() if row["owner_of"] == ["OP/browser"]]
    assert browser_owner["sites_visited"] == [onion]
    g = nx.read_graphml(gexf)
    site, invite = f"site:{onion}", f"invite:{tg['invite']}"
    group = next(n for n, d in g.nodes(data=True) if d.get("label") == "Garden Swap")
    assert g.has_edge(site, invite) and g.has_edge(invite, group)  # site → invite → group
    owner_node = f"account:{browser_owner['id']}"
    assert g.edges[owner_node, site]["relation"] == "visited"


def test_a_bad_database_of_each_kind_is_a_warning_naming_it(tmp_path: Path) -> None:
    phone = tmp_path / "phone"
    shutil.copytree(DATA / "whatsapp_backup" / "plain", phone / "whatsapp")
    bad = {
        "telegram/cache4.db": b"SQLite format 3\x00" + b"\x13" * 300,
        "signal/signal.db": b"\x00" * 8192,
        "backup/msgstore.db.crypt15": b"\x05\x01garbled",
        "tor/places.sqlite": b"junk",
        "chrome/History": b"SQLite format 3\x00",
    }
    for name, data in bad.items():
        (phone / name).parent.mkdir(parents=True, exist_ok=True)
        (phone / name).write_bytes(data)
    ws = str(tmp_path / "ws")
    assert _run("init", ws).exit_code == 0
    r = _run("chats", "import", "C", str(phone), "--key", "ab" * 32, "-w", ws)
    assert r.exit_code == 0, r.output
    for name in bad:
        assert f"warning: {name}:" in r.output, (name, r.output)
    assert "15 messages" in r.output  # the phone's WhatsApp database is still imported
