"""Chat database parsing, storing and network ranking on a large synthetic phone.

    flock /tmp/tantalio-bench.lock .venv/bin/python bench/bench_chats.py \
        [--messages 200000] [--write docs/perf/chats.md]

The phone is an Android `msgstore.db` in the current schema (the tables and columns of
scripts/make_chat_fixtures.py): 5,000 accounts, 200 groups of 60 members, members posting
in their own groups, one message in five carrying media (base64 SHA-256 in
`message_media.file_hash`, 20,000 distinct items), one in fifty a URL.

Measured in the same run:
  sqlite3 anchor      a bare `sqlite3` SELECT of message ⋈ jid ⟕ message_media, every row
                      fetched (the floor: reading the rows at all)
  parse               `tantalio.chats.registry.parse_exhibit` (copy + schema probe + records
                      + artifacts)
  store (SQLite)      `store.chats.save_exhibit_chats` into a fresh workspace
  network             `load_graph_data` + `build_graph` + `rank` (sampled betweenness)
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
from make_chat_fixtures import ANDROID_DDL  # noqa: E402

ANCHOR_SQL = """
SELECT m._id, m.chat_row_id, m.from_me, m.key_id, j.raw_string, m.timestamp, m.message_type,
       m.text_data, mm.file_hash, mm.mime_type
FROM message m JOIN jid j ON j._id = m.sender_jid_row_id
LEFT JOIN message_media mm ON mm.message_row_id = m._id
"""


def make_phone(path: Path, messages: int) -> None:
    rng = random.Random(1)
    conn = sqlite3.connect(path)
    conn.executescript(ANDROID_DDL)
    people = [
        f"1{rng.choice(('202', '310', '415', '212'))}55501{i % 100:02d}{i // 100:03d}"
        for i in range(5000)
    ]
    conn.executemany(
        "INSERT INTO jid (_id, user, server, raw_string) VALUES (?, ?, 's.whatsapp.net', ?)",
        [(i + 1, p, f"{p}@s.whatsapp.net") for i, p in enumerate(people)],
    )
    conn.executemany(
        "INSERT INTO jid (_id, user, server, raw_string) VALUES (?, ?, 'g.us', ?)",
        [(6000 + g, f"12036300{g:08d}", f"12036300{g:08d}@g.us") for g in range(200)],
    )
    conn.executemany(
        "INSERT INTO chat (_id, jid_row_id, subject) VALUES (?, ?, ?)",
        [(g + 1, 6000 + g, f"Group {g}") for g in range(200)],
    )
    members = {g: rng.sample(range(1, 5001), 60) for g in range(200)}
    conn.executemany(
        "INSERT INTO group_participant_user (group_jid_row_id, user_jid_row_id, rank, pending)"
        " VALUES (?, ?, 0, 0)",
        [(6000 + g, p) for g, ps in members.items() for p in ps],
    )
    rows, media = [], []
    for i in range(1, messages + 1):
        g = rng.randrange(200)
        has_media = rng.random() < 0.2
        text = "see https://example.org/page" if i % 50 == 0 else "hello"
        rows.append(
            (
                i,
                g + 1,
                f"3EB0{i:012X}",
                rng.choice(members[g]),
                1_500_000_000_000 + i * 1000,
                int(has_media),
                text,
            )
        )
        if has_media:
            digest = hashlib.sha256(str(rng.randrange(20000)).encode()).digest()
            media.append((i, g + 1, base64.b64encode(digest).decode()))
    conn.executemany(
        "INSERT INTO message (_id, chat_row_id, from_me, key_id, sender_jid_row_id, timestamp,"
        " message_type, text_data) VALUES (?, ?, 0, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.executemany(
        "INSERT INTO message_media (message_row_id, chat_row_id, file_hash, mime_type)"
        " VALUES (?, ?, ?, 'image/jpeg')",
        media,
    )
    conn.commit()
    conn.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--write", type=Path)
    args = ap.parse_args()
    from tantalio.chats.registry import parse_exhibit
    from tantalio.network import build_graph, rank
    from tantalio.store.chats import load_graph_data, save_exhibit_chats
    from tantalio.store.repo import ensure_case, ensure_exhibit
    from tantalio.store.workspace import init_workspace

    n = args.messages
    with tempfile.TemporaryDirectory(prefix="bench-chats-") as tmp:
        phone = Path(tmp) / "phone"
        phone.mkdir()
        make_phone(phone / "msgstore.db", n)
        results: list[tuple[str, float, str]] = []

        t = time.perf_counter()
        conn = sqlite3.connect(f"file:{phone / 'msgstore.db'}?mode=ro", uri=True)
        fetched = sum(1 for _ in conn.execute(ANCHOR_SQL))
        conn.close()
        anchor = time.perf_counter() - t
        assert fetched == n
        results.append(("sqlite3 anchor (rows only)", anchor, f"{n / anchor:,.0f} msg/s"))

        t = time.perf_counter()
        records = parse_exhibit(phone)
        parse = time.perf_counter() - t
        assert len(records.messages) == n and not records.warnings
        results.append(("parse_exhibit", parse, f"{n / parse:,.0f} msg/s"))

        ws = init_workspace(Path(tmp) / "ws")
        t = time.perf_counter()
        with ws.transaction() as s:
            case, _ = ensure_case(s, "BENCH")
            save_exhibit_chats(s, ensure_exhibit(s, case, "phone").id, records)
        save = time.perf_counter() - t
        results.append(("save_exhibit_chats (SQLite)", save, f"{n / save:,.0f} msg/s"))

        t = time.perf_counter()
        with ws.session() as s:
            data = load_graph_data(s)
        graph = build_graph(data)
        ranking = rank(data, graph)
        net = time.perf_counter() - t
        ws.close()
        results.append(
            (
                "network: load + graph + rank",
                net,
                f"{graph.number_of_nodes():,} nodes, {graph.number_of_edges():,} edges, "
                f"{len(ranking):,} accounts",
            )
        )
        shutil.rmtree(Path(tmp) / "ws", ignore_errors=True)

    lines = [
        f"Chats on one synthetic Android phone: {n:,} messages, 5,000 accounts, 200 groups.",
        "",
        "| step | seconds | rate / size | vs anchor |",
        "|---|---:|---|---:|",
    ]
    for name, secs, rate in results:
        lines.append(f"| {name} | {secs:.2f} | {rate} | {secs / anchor:.1f}× |")
    table = "\n".join(lines)
    print(table)
    if args.write:
        args.write.write_text(
            "# Chats and network performance\n\n"
            "Measured by `bench/bench_chats.py` (the anchor is a bare sqlite3 read of the same "
            "rows, in the same run).\n\n" + table + "\n"
        )


if __name__ == "__main__":
    main()
