"""Triage grid paging at 100,000+ media in one case: keyset pages against OFFSET pages.

    flock /tmp/tantalio-bench.lock .venv/bin/python bench/bench_web.py \
        [--media 100000] [--db postgresql+psycopg://postgres@127.0.0.1/tantalio_bench] \
        [--repeat 5] [--write docs/perf/web.md]

Inserts N synthetic media rows (and one file per media, plus 5 % duplicate occurrences)
into one case of a fresh workspace — two exhibits, verdicts and priorities as triage
writes them, categories, camera EXIF on a third, GPS on a tenth — then times, for the
first, middle and last page of 120 tiles:

  keyset query   tantalio.store.web_queries.grid_page with the previous page's cursor
                 (what the app does)
  OFFSET query   the same query paged with OFFSET (the anchor: what a naive grid does)
  page render    GET /cases/{id}/triage?cursor=... through the whole app in-process
                 (session check, query, Jinja2 render of 120 tiles), keyset

with no filter and with the usual filters. Median of --repeat runs. No image is decoded:
the grid's thumbnails are separate requests (served from the cache of blurred variants).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import insert, select

from tantalio.store import auth as store_auth
from tantalio.store import web_queries as wq
from tantalio.store.cases import Case, Exhibit, File
from tantalio.store.media import Media
from tantalio.store.workspace import Workspace, init_workspace
from tantalio.web.app import WebSettings, create_app
from tantalio.web.routers.triage import FILTER_KEYS, parse_filter

PAGE = 120
FILTERS: list[tuple[str, dict[str, str]]] = [
    ("all media", {}),
    ("verdict=new", {"verdict": "new"}),
    ("uncategorized images", {"category": "none", "kind": "image"}),
    ("exhibit 2, deleted", {"exhibit": "2", "deleted": "yes"}),
    ("camera contains 'canon'", {"camera": "canon"}),
]


def populate(ws: Workspace, n: int, seed: int = 1) -> int:
    rng = random.Random(seed)
    with ws.transaction() as db:
        case = Case(reference="BENCH-100K", title="synthetic rows")
        db.add(case)
        db.flush()
        exhibits = [
            Exhibit(case_id=case.id, label=f"E{i + 1}", status="complete") for i in range(2)
        ]
        db.add_all(exhibits)
        db.flush()
        case_id, ex_ids = case.id, [e.id for e in exhibits]
    cameras = [("Canon", "EOS 5D"), ("Nikon", "D750"), ("Acme", "Trail 9"), ("Apple", "iPhone 12")]
    batch = 5000
    file_id = 0
    for start in range(0, n, batch):
        media, files = [], []
        for i in range(start, min(n, start + batch)):
            sha = hashlib.sha256(f"bench-{i}".encode()).hexdigest()
            cam = cameras[i % 4] if i % 3 == 0 else (None, None)
            media.append(
                {
                    "id": i + 1,
                    "sha256": sha,
                    "md5": sha[:32],
                    "sha1": sha[:40],
                    "size": 50_000 + i,
                    "kind": "video" if i % 25 == 0 else "image",
                    "type": "mp4" if i % 25 == 0 else "jpeg",
                    "width": 640,
                    "height": 480,
                    "make": cam[0],
                    "model": cam[1],
                    "gps_latitude": 46.5 if i % 10 == 0 else None,
                    "category": rng.choice([None, None, None, 0, 0, 1, 2, 3]),
                }
            )
            verdict = rng.choices(
                ["new", "known", "near-known", "seen-elsewhere", "known-good"], [55, 10, 5, 10, 20]
            )[0]
            copies = 2 if i % 20 == 0 else 1
            for c in range(copies):
                file_id += 1
                files.append(
                    {
                        "id": file_id,
                        "exhibit_id": ex_ids[(i + c) % 2],
                        "path": f"DCIM/{i // 1000}/IMG_{i:06d}_{c}.jpg",
                        "path_key": hashlib.sha1(f"{i}-{c}".encode()).hexdigest(),
                        "size": 50_000 + i,
                        "deleted": i % 40 == 0,
                        "media_id": i + 1,
                        "verdict": verdict,
                        "priority": round(rng.random() * 8, 3) if verdict == "new" else None,
                    }
                )
        with ws.transaction() as db:
            db.execute(insert(Media), media)
            db.execute(insert(File), files)
    with ws.session() as db:
        wq.refresh_planner_statistics(db)
    return case_id


def median_ms(fn: Any, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def cursors(
    ws: Workspace, case_id: int, flt: wq.GridFilter
) -> tuple[int, dict[str, str | None], dict[str, int]]:
    """Total and the cursors that start the first, middle and last page (not timed)."""
    with ws.session() as db:
        total = wq.grid_count(db, case_id, flt)
        conds, key = wq._grid_base(case_id, flt)
        rows = db.execute(
            select(key, File.id)
            .join(Media, Media.id == File.media_id)
            .where(*conds)
            .order_by(key.desc(), File.id.desc())
        ).all()

    def at(k: int) -> str | None:
        return None if k <= 0 else wq.encode_cursor(float(rows[k - 1][0]), int(rows[k - 1][1]))

    last = max(0, (total - 1) // PAGE * PAGE)
    middle = (total // 2) // PAGE * PAGE
    offsets = {"first": 0, "middle": middle, "last": last}
    return total, {k: at(v) for k, v in offsets.items()}, offsets


def offset_page(ws: Workspace, case_id: int, flt: wq.GridFilter, offset: int) -> int:
    with ws.session() as db:
        conds, key = wq._grid_base(case_id, flt)
        rows = db.execute(
            select(File.id, Media.sha256)
            .join(Media, Media.id == File.media_id)
            .join(Exhibit, Exhibit.id == File.exhibit_id)
            .where(*conds)
            .order_by(key.desc(), File.id.desc())
            .offset(offset)
            .limit(PAGE + 1)
        ).all()
    return len(rows)


def keyset_page(ws: Workspace, case_id: int, flt: wq.GridFilter, cursor: str | None) -> int:
    with ws.session() as db:
        return len(wq.grid_page(db, case_id, flt, cursor=cursor, limit=PAGE).items)


async def render_times(
    ws: Workspace,
    case_id: int,
    plan: list[tuple[str, dict[str, str], dict[str, str | None]]],
    repeat: int,
) -> dict[tuple[str, str], float]:
    app = create_app(ws, WebSettings(page_size=PAGE))
    out: dict[tuple[str, str], float] = {}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        r = await client.post(
            "/api/login", json={"username": "bench", "password": "bench password 1"}
        )
        r.raise_for_status()
        for label, params, curs in plan:
            for where, cursor in curs.items():
                query = {**params, **({"cursor": cursor} if cursor else {})}
                times = []
                for _ in range(repeat):
                    t = time.perf_counter()
                    resp = await client.get(f"/cases/{case_id}/triage", params=query)
                    times.append(time.perf_counter() - t)
                    assert resp.status_code == 200, resp.text[:300]
                out[(label, where)] = statistics.median(times) * 1000
    return out


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--media", type=int, default=100_000)
    ap.add_argument("--db", help="database URL (default: SQLite in a temporary workspace)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--write", type=Path, help="write the table (Markdown) to this file")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="tantalio-bench-web-"))
    ws = init_workspace(tmp / "ws", database=args.db)
    backend = ws.engine.dialect.name
    t = time.perf_counter()
    case_id = populate(ws, args.media)
    print(
        f"inserted {args.media:,} media into {backend} in {time.perf_counter() - t:.1f} s",
        file=sys.stderr,
    )
    with ws.transaction() as db:
        store_auth.create_user(db, "bench", "bench password 1", "examiner")

    plan = []
    rows = []
    for label, params in FILTERS:
        flt = parse_filter({k: params.get(k, "") for k in FILTER_KEYS})
        total, curs, offsets = cursors(ws, case_id, flt)
        plan.append((label, params, curs))
        for where in ("first", "middle", "last"):
            cursor, offset_at = curs[where], offsets[where]
            keyset = median_ms(lambda f=flt, c=cursor: keyset_page(ws, case_id, f, c), args.repeat)
            offset = median_ms(
                lambda f=flt, o=offset_at: offset_page(ws, case_id, f, o), args.repeat
            )
            rows.append([label, f"{total:,}", where, keyset, offset])
    renders = asyncio.run(render_times(ws, case_id, plan, args.repeat))

    head = (
        f"Triage grid, {args.media:,} media in one case ({backend}), pages of {PAGE}; "
        f"median of {args.repeat} runs, milliseconds"
    )
    lines = [
        head,
        "",
        "| filter | matching | page | keyset query | OFFSET query (anchor) "
        "| page render (keyset) |",
        "|---|---:|---|---:|---:|---:|",
    ]
    for label, total, where, keyset, offset in rows:
        render = renders[(label, where)]
        lines.append(
            f"| {label} | {total} | {where} | {keyset:.1f} | {offset:.1f} | {render:.1f} |"
        )
    table = "\n".join(lines)
    print(table)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        with args.write.open("a", encoding="utf-8") as fh:
            fh.write(table + "\n\n")
    ws.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
