"""Telegram, Signal and encrypted WhatsApp backups: parsing a large synthetic database of each.

    flock /tmp/tantalio-bench.lock .venv/bin/python bench/bench_chat_apps.py \
        [--messages 1000000] [--write docs/perf/chat_apps.md]

Each database has `--messages` messages among 5,000 accounts in 200 groups, one in five
with media:
  telegram   `cache4.db`, TL blobs as scripts/make_chat_app_fixtures.py writes them
  signal     `signal.db` encrypted with SQLCipher (Signal's settings), attachments with
             their SHA-256
  crypt15    bench_chats.py's Android `msgstore.db`, as a crypt15 backup

Measured in the same run, each step in a fresh process (so its peak RSS is its own; the
`import only` row is the interpreter with tantalio's parsers loaded):
  sqlite3 anchor   a bare `sqlite3` read of the message rows (and the blob or the media
                   row), every row fetched, of the plain database
  decrypt only     the decryption into a private temp file (Signal: sqlcipher_export;
                   crypt15: AES-GCM + zlib)
  parse_exhibit    `tantalio.chats.registry.parse_exhibit` with the key: decryption, schema
                   probe, records, artifacts
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "bench"))
import make_chat_app_fixtures as fx  # noqa: E402

from bench_chats import make_phone  # noqa: E402

ACCOUNTS, GROUPS = 5000, 200
KEY_HEX = "5f" * 32


# ---------------------------------------------------------------------------- databases
def make_telegram(path: Path, n: int) -> None:
    rng = random.Random(1)
    conn = sqlite3.connect(path)
    conn.executescript(fx.TELEGRAM_SCHEMA)
    conn.executemany(
        "INSERT INTO users VALUES (?, ?, 0, ?)",
        [
            (1000 + i, f"user {i}", fx.tg_user(1000 + i, f"User{i}", phone=f"1202555{i:04d}"))
            for i in range(ACCOUNTS)
        ],
    )
    conn.executemany(
        "INSERT INTO chats VALUES (?, ?, ?)",
        [(10 + g, f"group {g}", fx.tg_chat(10 + g, f"Group {g}", fx.T0)) for g in range(GROUPS)],
    )
    members = {g: rng.sample(range(ACCOUNTS), 60) for g in range(GROUPS)}
    rows = []
    for i in range(1, n + 1):
        g = rng.randrange(GROUPS)
        sender = 1000 + rng.choice(members[g])
        media = fx.tg_media_photo(rng.randrange(20000), 40000) if rng.random() < 0.2 else None
        text = "see https://example.org/page" if i % 50 == 0 else "hello"
        data = fx.tg_message(i, fx.tg_peer("chat", 10 + g), fx.T0 + i, text, sender, media=media)
        rows.append((i, -(10 + g), fx.T0 + i, data))
        if len(rows) == 50_000:
            _insert_tg(conn, rows)
    _insert_tg(conn, rows)
    conn.commit()
    conn.close()


def _insert_tg(conn: sqlite3.Connection, rows: list[tuple[int, int, int, bytes]]) -> None:
    conn.executemany(
        "INSERT INTO messages_v2 (mid, uid, read_state, send_state, date, data, out) "
        "VALUES (?, ?, 1, 0, ?, ?, 0)",
        rows,
    )
    rows.clear()


def make_signal(plain: Path, encrypted: Path, n: int) -> None:
    import base64
    import hashlib

    import sqlcipher3

    rng = random.Random(2)
    conn = sqlite3.connect(plain)
    conn.executescript(fx.SIGNAL_SCHEMA)
    conn.executemany(
        "INSERT INTO recipient (_id, e164, aci, profile_joined_name) VALUES (?, ?, ?, ?)",
        [(i + 1, f"+1202555{i:04d}", f"aci-{i:08d}", f"User{i}") for i in range(ACCOUNTS)],
    )
    groups = [f"__signal_group__v2__!{g:064x}" for g in range(GROUPS)]
    conn.executemany(
        "INSERT INTO recipient (_id, group_id) VALUES (?, ?)",
        [(10_000 + g, gid) for g, gid in enumerate(groups)],
    )
    conn.executemany(
        "INSERT INTO groups (_id, group_id, recipient_id, title) VALUES (?, ?, ?, ?)",
        [(g + 1, gid, 10_000 + g, f"Group {g}") for g, gid in enumerate(groups)],
    )
    members = {g: rng.sample(range(1, ACCOUNTS + 1), 60) for g in range(GROUPS)}
    conn.executemany(
        "INSERT INTO group_membership (group_id, recipient_id) VALUES (?, ?)",
        [(groups[g], r) for g, rs in members.items() for r in rs],
    )
    conn.executemany(
        "INSERT INTO thread (_id, recipient_id) VALUES (?, ?)",
        [(g + 1, 10_000 + g) for g in range(GROUPS)],
    )
    msgs, atts = [], []
    for i in range(1, n + 1):
        g = rng.randrange(GROUPS)
        text = "see https://example.org/page" if i % 50 == 0 else "hello"
        msgs.append((i, 1_700_000_000_000 + i, g + 1, rng.choice(members[g]), 10_000 + g, text))
        if rng.random() < 0.2:
            digest = hashlib.sha256(str(rng.randrange(20000)).encode()).digest()
            atts.append((i, "image/jpeg", 40000, base64.b64encode(digest).decode()))
    conn.executemany(
        "INSERT INTO message (_id, date_sent, date_received, thread_id, from_recipient_id, "
        "to_recipient_id, type, body) VALUES (?, ?, ?+1, ?, ?, ?, 10485780, ?)",
        [(i, d, d, t, f, to, b) for i, d, t, f, to, b in msgs],
    )
    conn.executemany(
        "INSERT INTO attachment (message_id, content_type, data_size, data_hash_end) "
        "VALUES (?, ?, ?, ?)",
        atts,
    )
    conn.commit()
    conn.close()
    enc = sqlcipher3.connect(str(plain))
    enc.execute(f"ATTACH DATABASE '{encrypted}' AS encrypted KEY '{KEY_HEX}'")
    enc.execute("PRAGMA encrypted.kdf_iter = 1")
    enc.execute("PRAGMA encrypted.cipher_page_size = 4096")
    enc.execute("SELECT sqlcipher_export('encrypted')")
    enc.execute("DETACH DATABASE encrypted")
    enc.close()


def make_crypt15(plain: Path, backup: Path, n: int) -> None:
    make_phone(plain, n)
    data = plain.read_bytes()
    backup.write_bytes(fx.backup(data, "crypt15", bytes.fromhex(KEY_HEX), bytes(range(16))))


# ---------------------------------------------------------------------------- steps
def _anchor(db: str, sql: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    count = sum(1 for _ in conn.execute(sql))
    conn.close()
    return count


def _parse(root: str) -> int:
    from tantalio.chats.keys import KeyRing
    from tantalio.chats.registry import parse_exhibit

    out = parse_exhibit(Path(root), keys=KeyRing.parse([KEY_HEX]))
    assert not [w for w in out.warnings if "not" in w.message], out.warnings[:3]
    return len(out.messages)


def _decrypt_signal(db: str) -> int:
    from tantalio.chats.keys import read_key
    from tantalio.chats.sqlcipher_util import decrypt_to

    with tempfile.TemporaryDirectory() as tmp:
        decrypt_to(Path(db), [read_key(KEY_HEX)], Path(tmp) / "plain.db")
    return 0


def _decrypt_crypt15(db: str) -> int:
    from tantalio.chats.keys import read_key
    from tantalio.chats.wacrypt import decrypt_backup

    with tempfile.TemporaryDirectory() as tmp:
        decrypt_backup(Path(db), read_key(KEY_HEX), Path(tmp) / "msgstore.db")
    return 0


def _import_only(_: str) -> int:
    import tantalio.chats.registry  # noqa: F401

    return 0


def _child(fn: Callable[[str], int], arg: str, q: Any) -> None:
    import tantalio.chats.registry  # noqa: F401  (the same baseline in every step)

    t = time.perf_counter()
    count = fn(arg)
    secs = time.perf_counter() - t
    q.put((secs, count, peak_rss_mb()))


def peak_rss_mb() -> float:
    """This process's peak RSS (`VmHWM`: of its own address space; `ru_maxrss` would carry
    the spawning parent's high-water mark across the exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(fn: Callable[[str], int], arg: str) -> tuple[float, int, float]:
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(fn, arg, q))
    p.start()
    result = q.get()
    p.join()
    return result  # type: ignore[no-any-return]


TG_SQL = "SELECT mid, uid, date, out, data FROM messages_v2"
SIGNAL_SQL = (
    "SELECT m._id, m.thread_id, m.date_sent, m.from_recipient_id, m.type, m.body, "
    "a.data_hash_end FROM message m LEFT JOIN attachment a ON a.message_id = m._id"
)


def main() -> None:
    from bench_chats import ANCHOR_SQL

    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--write", type=Path)
    args = ap.parse_args()
    n = args.messages
    rows: list[tuple[str, str, float, int, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-chat-apps-") as tmp:
        base = Path(tmp)
        secs, _c, rss = run(_import_only, "")
        rows.append(("-", "import only (baseline)", secs, 0, rss))

        tg = base / "telegram"
        tg.mkdir()
        t = time.perf_counter()
        make_telegram(tg / "cache4.db", n)
        print(f"telegram database built in {time.perf_counter() - t:.0f} s", file=sys.stderr)
        rows.append(("telegram", "sqlite3 anchor", *run(_anchor_tg, str(tg / "cache4.db"))))
        rows.append(("telegram", "parse_exhibit", *run(_parse, str(tg))))

        sig = base / "signal"
        sig.mkdir()
        t = time.perf_counter()
        make_signal(base / "signal-plain.db", sig / "signal.db", n)
        print(f"signal database built in {time.perf_counter() - t:.0f} s", file=sys.stderr)
        rows.append(
            ("signal", "sqlite3 anchor", *run(_anchor_signal, str(base / "signal-plain.db")))
        )
        rows.append(("signal", "decrypt only", *run(_decrypt_signal, str(sig / "signal.db"))))
        rows.append(("signal", "parse_exhibit", *run(_parse, str(sig))))

        wa = base / "crypt15"
        wa.mkdir()
        t = time.perf_counter()
        make_crypt15(base / "msgstore.db", wa / "msgstore.db.crypt15", n)
        print(f"crypt15 backup built in {time.perf_counter() - t:.0f} s", file=sys.stderr)
        anchor_wa = run(_anchor_wa, str(base / "msgstore.db") + "|" + ANCHOR_SQL)
        rows.append(("crypt15", "sqlite3 anchor", *anchor_wa))
        rows.append(
            ("crypt15", "decrypt only", *run(_decrypt_crypt15, str(wa / "msgstore.db.crypt15")))
        )
        rows.append(("crypt15", "parse_exhibit", *run(_parse, str(wa))))

    anchors = {app: secs for app, step, secs, _c, _r in rows if step == "sqlite3 anchor"}
    lines = [
        f"One synthetic database per app: {n:,} messages, {ACCOUNTS:,} accounts, "
        f"{GROUPS} groups, one message in five with media.",
        "",
        "| app | step | seconds | messages/s | vs anchor | peak RSS (MB) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for app, step, secs, _count, rss in rows:
        rate = f"{n / secs:,.0f}" if app != "-" and secs > 0 else ""
        ratio = f"{secs / anchors[app]:.1f}×" if app in anchors else ""
        lines.append(f"| {app} | {step} | {secs:.2f} | {rate} | {ratio} | {rss:,.0f} |")
    table = "\n".join(lines)
    print(table)
    if args.write:
        args.write.write_text(
            "# Chat apps: Telegram, Signal, encrypted WhatsApp backups\n\n"
            "Measured by `bench/bench_chat_apps.py` (the anchor is a bare sqlite3 read of the "
            "same rows of the plain database, in the same run; each step in its own process).\n\n"
            + table
            + "\n"
        )


def _anchor_tg(db: str) -> int:
    return _anchor(db, TG_SQL)


def _anchor_signal(db: str) -> int:
    return _anchor(db, SIGNAL_SQL)


def _anchor_wa(arg: str) -> int:
    db, sql = arg.split("|", 1)
    return _anchor(db, sql)


if __name__ == "__main__":
    main()
