"""`python -m tantalio.demo.exchange` (what `make demo-exchange` runs): two agencies and a
central exchange on 127.0.0.1, with benign synthetic pictures only.

1. `tantalio exchange serve` starts on a free local port (SQLite), agencies A and B are created.
2. Agency A ingests its exhibit, an examiner categorizes three pictures and puts them in two
   series (one identified long ago), and A pushes the case's records (hashes only).
3. Agency B connects, ingests its own exhibit (two exact copies of A's pictures, one resized
   copy, two pictures nobody has seen): its triage shows the media seen by A, one of them
   in a series A identified earlier.
4. A's victim-identification specialist marks the series identified; A pushes again.
5. B runs `tantalio exchange sync` and learns it: notices per case, verdicts refreshed.

Every command an examiner would type is printed before it runs; the web app's actions
(categorize, series) are done through the same store functions the web app calls.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tantalio.demo import synth

SERIES = "A-2026-017"
OLD_SERIES = "A-2025-003"


def build_media(root: Path, seed: int = 11) -> tuple[Path, Path]:
    """Agency A's exhibit and agency B's (benign landscapes, shapes, textures)."""
    rng = random.Random(seed)
    pictures = [synth.picture(rng, 480, 360) for _ in range(6)]
    a, b = root / "evidence-A" / "phone", root / "evidence-B" / "laptop"
    for i in range(4):
        synth.write(a / f"DCIM/IMG_{i:04d}.jpg", synth.jpeg_bytes(pictures[i]))
    synth.write(b / "Downloads/copy_of_0.jpg", (a / "DCIM/IMG_0000.jpg").read_bytes())
    synth.write(b / "Downloads/copy_of_1.jpg", (a / "DCIM/IMG_0001.jpg").read_bytes())
    synth.write(b / "Pictures/smaller_2.jpg", synth.jpeg_bytes(synth.resized(pictures[2]), 75))
    for i in (4, 5):
        synth.write(b / f"Pictures/own_{i}.jpg", synth.jpeg_bytes(pictures[i]))
    return a, b


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def tantalio(*args: str, capture: bool = False, show: bool = True) -> str:
    """Run the `tantalio` command as a user would (a subprocess); print it first."""
    if show:
        print(f"\n$ tantalio {shlex.join(args)}", flush=True)
    cmd = [sys.executable, "-m", "tantalio.cli.main", *args]
    if capture:
        done = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True)
        return done.stdout
    subprocess.run(cmd, check=True)
    return ""


@contextmanager
def serve(db_url: str, signing_key: Path, log: Path) -> Iterator[str]:
    """`tantalio exchange serve` on 127.0.0.1 until the block ends; yields its URL."""
    port = _free_port()
    args = ["exchange", "serve", "--db", db_url, "--host", "127.0.0.1", "--port", str(port),
            "--signing-key", str(signing_key)]  # fmt: skip
    print(f"\n$ tantalio {shlex.join(args)} &", flush=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANTALIO_EXCHANGE")}
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tantalio.cli.main", *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{url}/v1/status", timeout=2)
                break
            except httpx.TransportError as exc:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the exchange did not start; see {log}") from exc
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(15)


def agency_key(db_url: str, name: str, country: str) -> str:
    out = tantalio("exchange", "agency", "create", name, "--country", country,
                   "--contact", f"victim-id desk of {name}", "--db", db_url,
                   capture=True)  # fmt: skip
    return out.strip().splitlines()[-1]


def examiner_reviews(workspace: Path, case: str, identified: bool = False) -> None:
    """What A's examiners do in the web app: categorize, build two series (an older one
    already identified), later identify the second."""
    from tantalio.store import review
    from tantalio.store.repo import get_case
    from tantalio.store.series import Series
    from tantalio.store.workspace import open_workspace
    from tantalio.triage.results import triage_rows

    with open_workspace(workspace) as ws, ws.transaction() as s:
        case_id = get_case(s, case).id
        rows = {r.path: r.media_id for r in triage_rows(s, case_id) if r.media_id is not None}
        new = [rows["DCIM/IMG_0000.jpg"], rows["DCIM/IMG_0002.jpg"]]
        old = [rows["DCIM/IMG_0001.jpg"]]
        if not identified:
            print(f"\n[web app, agency A] categorize 3 media as 1 (child abuse material "
                  f"stand-ins); series {SERIES} (2 media) and {OLD_SERIES} (1 media, "
                  "identified)")  # fmt: skip
            review.categorize(s, new + old, 1)
            review.create_series(s, SERIES, new)
            done = review.create_series(s, OLD_SERIES, old)
            review.update_series(s, done, status="identified", victim_identified=True)
        else:
            series = s.query(Series).filter(Series.name == SERIES).one()
            print(f"\n[web app, agency A] series {SERIES}: status identified, victim identified")
            review.update_series(s, series, status="identified", victim_identified=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tantalio.demo.exchange", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo-exchange-output"))
    opts = parser.parse_args(argv)
    started = time.monotonic()
    out: Path = opts.out.resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    evidence_a, evidence_b = build_media(out)
    db = f"sqlite:///{out / 'exchange.db'}"
    ws_a, ws_b = out / "workspace-A", out / "workspace-B"
    with serve(db, out / "exchange-signing-key.pem", out / "exchange.log") as url:
        key_a = agency_key(db, "Agency A", "DE")
        key_b = agency_key(db, "Agency B", "FR")
        print("(keys printed once by the exchange; each workspace stores its own, mode 0600)")
        for ws, key in ((ws_a, key_a), (ws_b, key_b)):
            tantalio("init", str(ws))
            shown = key[:8] + "…"
            print(f"\n$ tantalio exchange connect {url} --key {shown} -w {ws}", flush=True)
            tantalio("exchange", "connect", url, "--key", key, "-w", str(ws), show=False)
        tantalio("ingest", "A-1", str(evidence_a), "--no-progress", "-w", str(ws_a))
        examiner_reviews(ws_a, "A-1")
        tantalio("exchange", "push", "A-1", "-w", str(ws_a))
        tantalio("ingest", "B-7", str(evidence_b), "--no-progress", "-w", str(ws_b))
        tantalio("triage", "B-7", "-w", str(ws_b))
        _show_agencies(ws_b, "B-7")
        examiner_reviews(ws_a, "A-1", identified=True)
        tantalio("exchange", "push", "A-1", "-w", str(ws_a))
        tantalio("exchange", "sync", "-w", str(ws_b))
        _show_agencies(ws_b, "B-7")
    print(f"\ndemo finished in {time.monotonic() - started:.0f} s; workspaces in {out}")
    print(f"see it in the browser: tantalio serve -w {ws_b} (after `tantalio user add`)")
    return 0


def _show_agencies(ws: Path, case: str) -> None:
    out = tantalio("triage", case, "--format", "json", "-w", str(ws), capture=True)
    print(f"\nwhat agency B's triage of {case} says of other agencies:")
    for line in out.splitlines():
        row = json.loads(line)
        if row["agencies"]:
            for a in row["agencies"]:
                print(f"  {row['path']:<28} {row['verdict']:<15} {a['agency']} ({a['country']}) "
                      f"series {a['series']} {a['status']}"
                      f"{', victim identified' if a['victim_identified'] else ''}")  # fmt: skip
        else:
            print(f"  {row['path']:<28} {row['verdict']:<15} -")


if __name__ == "__main__":
    raise SystemExit(main())
