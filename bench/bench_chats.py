"""Chat parsing on large synthetic phones: a msgstore.db and a text export per language
style, each with the bare-parser anchor measured in the same run.

    flock /tmp/tantalio-bench.lock .venv/bin/python bench/bench_chats.py \
        [--messages 1000000] [--styles es_android,pt_br_ios,...] [--store] [--write FILE]

Phones (synthetic, benign):
  msgstore.db   an Android database in the current schema (the tables and columns of
                scripts/make_chat_fixtures.py): 5,000 accounts, 200 groups of 60 members,
                members posting in their own groups, one message in five carrying media
                (base64 SHA-256 in `message_media.file_hash`, 20,000 distinct items), one in
                fifty a URL, a tenth of the members shown by `@lid` (mapped in `jid_map`).
  export        a WhatsApp "Export chat" text file of one group in a language and platform
                style (`es_android`, `pt_br_ios`, ...; see STYLES): 300 members shown by
                name or number, one message in five an attachment marker, one in fifty a
                URL, one in a thousand a system line of that language, one in twenty over
                two lines; dates in that locale's style.

Measured, each step in a fresh process (so its peak memory is its own):
  anchor (database)  a bare `sqlite3` SELECT of message ⋈ jid ⟕ message_media, every row
                     fetched: the floor of reading the rows at all
  parse (database)   `tantalio.chats.registry.parse_exhibit` (private copy, schema probe,
                     records, artifacts)
  anchor (export)    read the file, decode it and match every line against the header
                     pattern of its platform: the floor of splitting it into messages
  parse (export)     `parse_exhibit` on the folder holding the export
  parse + store      with --store (or --export-store): `parse_exhibit` on the export, then
  (export)           its records through the chat mediator into a fresh SQLite workspace,
                     in one process; the parse and store seconds are reported apart (the
                     store is the same code for every language: a language far slower than
                     the others shows in the parse column)
  store (SQLite)     with --store: the parsed database through the chat mediator into a
                     fresh SQLite workspace, then the network (load + graph + rank); the
                     store-only and network seconds are printed (slow on 2 shared cores; off
                     by default)

Peak memory is the step process's maximum resident set size minus that of an idle process
that imported the same modules (`ru_maxrss`).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import multiprocessing
import random
import resource
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

ANCHOR_SQL = """
SELECT m._id, m.chat_row_id, m.from_me, m.key_id, j.raw_string, m.timestamp, m.message_type,
       m.text_data, mm.file_hash, mm.mime_type
FROM message m JOIN jid j ON j._id = m.sender_jid_row_id
LEFT JOIN message_media mm ON mm.message_row_id = m._id
"""

# style -> (language code in tantalio.chats.lang, ios?, date format, attachment, omitted)
STYLES: dict[str, tuple[str, bool, str]] = {
    "en_android": ("en", False, "{m}/{d}/{y}, {I}:{M}\u202f{p}"),
    "en_ios": ("en", True, "[{m}/{d}/{y}, {I}:{M}:{S}\u202f{p}]"),
    "es_android": ("es", False, "{d}/{m}/{y}, {H}:{M}"),
    "es_ios": ("es", True, "[{d}/{m}/{y}, {H}:{M}:{S}]"),
    "pt_br_android": ("pt-BR", False, "{d}/{m}/{Y} {H}:{M}"),
    "pt_br_ios": ("pt-BR", True, "[{d}/{m}/{Y} {H}:{M}:{S}]"),
    "pt_pt_android": ("pt-PT", False, "{d}/{m}/{y}, {H}:{M}"),
    "pt_pt_ios": ("pt-PT", True, "[{d}/{m}/{y}, {H}:{M}:{S}]"),
    "fr_android": ("fr", False, "{d}/{m}/{Y} à {H}:{M}"),
    "fr_ios": ("fr", True, "[{d}/{m}/{Y} {H}:{M}:{S}]"),
    "it_android": ("it", False, "{d}/{m}/{y}, {H}:{M}"),
    "it_ios": ("it", True, "[{d}/{m}/{y}, {H}:{M}:{S}]"),
    "de_android": ("de", False, "{d}.{m}.{y}, {H}:{M}"),
    "de_ios": ("de", True, "[{d}.{m}.{y}, {H}:{M}:{S}]"),
}
DEFAULT_STYLES = (
    "en_android",
    "es_android",
    "es_ios",
    "pt_br_ios",
    "pt_pt_android",
    "fr_android",
    "it_ios",
    "de_android",
)


# ------------------------------------------------------------------------------ inputs
def make_database(path: Path, messages: int) -> None:
    from make_chat_fixtures import ANDROID_DDL

    rng = random.Random(1)
    path.parent.mkdir(parents=True, exist_ok=True)
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
    # One member in ten is shown by a lid (jid rows 10001...), mapped to their number.
    lids = {i + 1: 10001 + i for i in range(0, 5000, 10)}
    conn.executemany(
        "INSERT INTO jid (_id, user, server, raw_string) VALUES (?, ?, 'lid', ?)",
        [(row, f"2040{row:011d}", f"2040{row:011d}@lid") for row in lids.values()],
    )
    conn.executemany(
        "INSERT INTO jid_map (lid_row_id, jid_row_id) VALUES (?, ?)",
        [(lid, phone) for phone, lid in lids.items()],
    )
    conn.executemany(
        "INSERT INTO jid (_id, user, server, raw_string) VALUES (?, ?, 'g.us', ?)",
        [(6000 + g, f"12036300{g:08d}", f"12036300{g:08d}@g.us") for g in range(200)],
    )
    conn.executemany(
        "INSERT INTO chat (_id, jid_row_id, subject) VALUES (?, ?, ?)",
        [(g + 1, 6000 + g, f"Group {g}") for g in range(200)],
    )
    members = {g: [lids.get(p, p) for p in rng.sample(range(1, 5001), 60)] for g in range(200)}
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
        if len(rows) >= 100_000:
            _insert(conn, rows, media)
            rows, media = [], []
    _insert(conn, rows, media)
    conn.commit()
    conn.close()


def _insert(conn: sqlite3.Connection, rows: list[Any], media: list[Any]) -> None:
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


def _stamp(fmt: str, t: datetime) -> str:
    return fmt.format(
        d=f"{t.day:02d}",
        m=f"{t.month:02d}",
        y=f"{t.year % 100:02d}",
        Y=str(t.year),
        H=f"{t.hour:02d}",
        I=str(t.hour % 12 or 12),
        M=f"{t.minute:02d}",
        S=f"{t.second:02d}",
        p="PM" if t.hour >= 12 else "AM",
    )


def make_export(folder: Path, style: str, messages: int) -> Path:
    """One group's export of `messages` messages in `style` (see the module docstring)."""
    from tantalio.chats.lang import BY_CODE

    code, ios, fmt = STYLES[style]
    lang = BY_CODE[code]
    rng = random.Random(2)
    folder.mkdir(parents=True, exist_ok=True)
    people = [f"Contact {i:03d}" for i in range(150)]
    people += [f"+34 612 {i // 1000:03d} {i % 1000:03d}" for i in range(150)]
    systems = [s[0] for s in lang.samples if s[1] != "other"]
    attached = (
        f"\u200e<{lang.attached_ios[0]}: {{name}}>"
        if ios
        else f"{{name}} ({lang.attached_android[0]})"
    )
    omitted = next(iter(lang.omitted_ios)) if ios else lang.omitted_android[0]
    subject = "Big Group"
    t = datetime(2023, 1, 13, 9, 0)
    lines = []
    for i in range(messages):
        t += timedelta(seconds=rng.randint(1, 40))
        stamp = _stamp(fmt, t)
        if i % 1000 == 0:
            text = systems[(i // 1000) % len(systems)]
            lines.append(f"{stamp} {subject}: \u200e{text}" if ios else f"{stamp} - {text}")
            continue
        who = rng.choice(people)
        head = f"{stamp} {who}: " if ios else f"{stamp} - {who}: "
        r = rng.random()
        if r < 0.1:
            body = attached.format(name=f"IMG-{t:%Y%m%d}-WA{i % 10000:04d}.jpg")
        elif r < 0.2:
            body = ("\u200e" if ios else "") + omitted
        elif i % 50 == 0:
            body = "mira https://example.org/page"
        elif i % 20 == 0:
            body = "first line\nsecond line"
        else:
            body = rng.choice(("hola", "ok", "gracias", "buenas noches", "jaja"))
        lines.append(head + body)
    name = "_chat.txt" if ios else f"{lang.chat_file[0]} {subject}.txt"
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------------------ steps
def _imports() -> None:
    import tantalio.chats.registry  # noqa: F401
    import tantalio.store.chats.sink  # noqa: F401


def step_idle(_: Path) -> int:
    _imports()
    return 0


def step_anchor_db(phone: Path) -> int:
    _imports()
    conn = sqlite3.connect(f"file:{phone / 'msgstore.db'}?mode=ro", uri=True)
    n = sum(1 for _ in conn.execute(ANCHOR_SQL))
    conn.close()
    return n


def step_parse(root: Path) -> int:
    _imports()
    from tantalio.chats.registry import parse_exhibit

    records = parse_exhibit(root)
    # An export names attachments the benchmark does not write; nothing else may be wrong.
    unexpected = [w for w in records.warnings if "not beside it" not in w.message]
    assert not unexpected, unexpected[:3]
    return len(records.messages)


def step_anchor_export(path: Path) -> int:
    _imports()
    from tantalio.chats.textdates import ANDROID_HEADER, IOS_HEADER

    header = IOS_HEADER if path.name == "_chat.txt" else ANDROID_HEADER
    n = 0
    for line in path.read_bytes().decode("utf-8").splitlines():
        if header.match(line):
            n += 1
    return n


def step_store(phone: Path) -> int:
    _imports()
    from tantalio.chats.mediator import ChatMediator
    from tantalio.chats.registry import parse_exhibit
    from tantalio.store.chats.sink import WorkspaceChatSink
    from tantalio.store.repo import ensure_case, ensure_exhibit
    from tantalio.store.workspace import init_workspace

    records = parse_exhibit(phone)
    with tempfile.TemporaryDirectory(prefix="bench-ws-") as tmp:
        ws = init_workspace(Path(tmp) / "ws")
        with ws.transaction() as s:
            case, _ = ensure_case(s, "BENCH")
            exhibit_id = ensure_exhibit(s, case, "phone").id
        mediator = ChatMediator(WorkspaceChatSink(ws, exhibit_id))
        mediator.produce_records(records)
        t = time.perf_counter()
        summary = mediator.flush()
        print(f"  store only: {time.perf_counter() - t:.2f} s", flush=True)
        from tantalio.network import build_graph, rank
        from tantalio.store.chats import load_graph_data

        t = time.perf_counter()
        with ws.session() as s:
            data = load_graph_data(s)
        graph = build_graph(data)
        ranking = rank(data, graph)
        print(
            f"  network (load + graph + rank): {time.perf_counter() - t:.2f} s, "
            f"{graph.number_of_nodes():,} nodes, {len(ranking):,} accounts",
            flush=True,
        )
        ws.close()
    return summary.messages


def step_store_export(folder: Path) -> int:
    """Parse an export and store its records in a fresh SQLite workspace, timing each phase
    (`PHASES`): the per-language cost is in the parse, the store is shared code."""
    _imports()
    from tantalio.chats.mediator import ChatMediator
    from tantalio.chats.registry import parse_exhibit
    from tantalio.store.chats.sink import WorkspaceChatSink
    from tantalio.store.repo import ensure_case, ensure_exhibit
    from tantalio.store.workspace import init_workspace

    t = time.perf_counter()
    records = parse_exhibit(folder)
    PHASES["parse"] = time.perf_counter() - t
    with tempfile.TemporaryDirectory(prefix="bench-ws-") as tmp:
        ws = init_workspace(Path(tmp) / "ws")
        with ws.transaction() as s:
            case, _ = ensure_case(s, "BENCH")
            exhibit_id = ensure_exhibit(s, case, "phone").id
        t = time.perf_counter()
        mediator = ChatMediator(WorkspaceChatSink(ws, exhibit_id))
        mediator.produce_records(records)
        summary = mediator.flush()
        PHASES["store"] = time.perf_counter() - t
        ws.close()
    return summary.messages


PHASES: dict[str, float] = {}  # seconds of a step's phases, filled by the step, sent back


def _child(step: Callable[[Path], int], arg: Path, conn: Any) -> None:
    _imports()  # not timed: every step pays it once
    t = time.perf_counter()
    n = step(arg)
    secs = time.perf_counter() - t
    conn.send((secs, n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, dict(PHASES)))
    conn.close()


def measure(step: Callable[[Path], int], arg: Path) -> tuple[float, int, int]:
    """(seconds, items, peak RSS in KiB) of `step(arg)` in a fresh process."""
    secs, n, rss, _ = measure_phases(step, arg)
    return secs, n, rss


def measure_phases(
    step: Callable[[Path], int], arg: Path
) -> tuple[float, int, int, dict[str, float]]:
    """`measure` plus the seconds of the phases the step reported."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(step, arg, child))
    proc.start()
    result = parent.recv()
    proc.join()
    if proc.exitcode:
        raise SystemExit(f"{step.__name__} failed")
    return result  # type: ignore[no-any-return]


def _load() -> str:
    """The 1-minute load average, stated beside each figure (the machine is shared)."""
    return f"{Path('/proc/loadavg').read_text().split()[0]}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=1_000_000)
    ap.add_argument("--styles", default=",".join(DEFAULT_STYLES), help="export styles, or 'all'")
    ap.add_argument("--store", action="store_true", help="also store the database (slow)")
    ap.add_argument("--no-database", action="store_true", help="exports only")
    ap.add_argument(
        "--export-store", action="store_true", help="parse + store each export (not the database)"
    )
    ap.add_argument("--write", type=Path)
    args = ap.parse_args()
    styles = list(STYLES) if args.styles == "all" else [s for s in args.styles.split(",") if s]
    n = args.messages
    rows: list[tuple[str, str, float, int, int, float]] = []
    # style, load, messages/s of: anchor, parse (in the store step), store alone, parse + store
    export_rates: list[tuple[str, str, float, float, float, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-chats-") as tmp:
        idle = measure(step_idle, Path(tmp))[2]
        phone = Path(tmp) / "phone"
        if not args.no_database:
            t = time.perf_counter()
            make_database(phone / "msgstore.db", n)
            print(f"database of {n:,} messages written in {time.perf_counter() - t:.0f} s")
            anchor = measure(step_anchor_db, phone)
            parse = measure(step_parse, phone)
            assert anchor[1] == parse[1] == n, (anchor[1], parse[1])
            rows.append(("msgstore.db", "anchor: sqlite3 rows", *anchor, anchor[0]))
            rows.append(("msgstore.db", "parse_exhibit", *parse, anchor[0]))
            if args.store:
                store = measure(step_store, phone)
                rows.append(("msgstore.db", "parse + store (SQLite)", *store, anchor[0]))
            for row in rows:
                print(_row(row, idle), flush=True)
        store_exports = args.store or args.export_store
        for style in styles:
            folder = Path(tmp) / style
            path = make_export(folder, style, n)
            load = _load()
            anchor = measure(step_anchor_export, path)
            assert anchor[1] == n, (style, anchor[1])
            new_rows = [(style, f"anchor: header regex (load {load})", *anchor, anchor[0])]
            if not store_exports:  # with the store, its step times the parse as a phase
                parse = measure(step_parse, folder)
                assert parse[1] == n, (style, parse[1])
                new_rows.append((style, "parse_exhibit", *parse, anchor[0]))
            else:
                secs, stored, rss, phases = measure_phases(step_store_export, folder)
                assert stored == n, (style, stored)
                new_rows.append((style, "parse + store (SQLite)", secs, stored, rss, anchor[0]))
                export_rates.append(
                    (style, load, n / anchor[0], n / phases["parse"], n / phases["store"], n / secs)
                )
            for row in new_rows:
                rows.append(row)
                print(_row(row, idle), flush=True)
            path.unlink()
            _report(n, idle, rows, export_rates, args.write, final=False)
    _report(n, idle, rows, export_rates, args.write)


def _report(
    n: int,
    idle: int,
    rows: list[tuple[str, str, float, int, int, float]],
    export_rates: list[tuple[str, str, float, float, float, float]],
    write: Path | None,
    final: bool = True,
) -> None:
    """Print the tables (at the end) and write them to `write` (after every input, so a run
    cut short still leaves what it measured)."""
    lines = [
        f"Chat parsing, {n:,} messages per input; each step in a fresh process; peak memory "
        f"is its maximum RSS above an idle process with the same imports ({idle / 1024:.0f} MiB).",
        "",
        "| input | step | seconds | messages/s | peak memory | vs anchor |",
        "|---|---|---:|---:|---:|---:|",
        *(_row(r, idle) for r in rows),
    ]
    if export_rates:
        lines += [
            "",
            "Text export per language: messages/s of each phase of the parse + store step "
            "(one process), beside the anchor of the same export; load = 1-minute load average "
            "when the style started.",
            "",
            "| style | load | anchor msg/s | parse msg/s | store msg/s | parse + store msg/s "
            "| parse vs anchor |",
            "|---|---:|---:|---:|---:|---:|---:|",
            *(
                f"| {st} | {ld} | {a:,.0f} | {p:,.0f} | {so:,.0f} | {ps:,.0f} | {a / p:.1f}× |"
                for st, ld, a, p, so, ps in export_rates
            ),
        ]
    table = "\n".join(lines)
    if final:
        print("\n" + table)
    if write:
        write.write_text(
            "# Chats performance\n\n"
            "Measured by `bench/bench_chats.py`: a 1M-message Android `msgstore.db` and 1M-message "
            "text exports in several language styles, each with its bare-parser anchor in the "
            "same run (2 shared cores).\n\n" + table + "\n"
        )


def _row(r: tuple[str, str, float, int, int, float], idle: int) -> str:
    name, step, secs, n, rss, anchor = r
    mib = max(rss - idle, 0) / 1024
    rate, ratio = f"{n / secs:,.0f}", f"{secs / anchor:.1f}×"
    return f"| {name} | {step} | {secs:.2f} | {rate} | {mib:,.0f} MiB | {ratio} |"


if __name__ == "__main__":
    main()
