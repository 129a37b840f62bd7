"""End to end with the demo's own HMA list: `tantalio platform bank import … --format hma`
(PDQ rows and HMA's `pdq,quality,timestamp` vPDQ row), then `tantalio platform serve` (a
real process on 127.0.0.1) starts although the database also holds unusable rows, and
finds the PDQ rows and the vPDQ row through `/m/raw_lookup` and `/v1/match`, the rotated
demo copy (`turned.jpg`) through `POST /m/lookup` and `/v1/match/upload`; a list imported
while it serves is matchable at once, bad rows notwithstanding."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tantalio.demo.build import build
from tantalio.platform.auth import create_key
from tantalio.store.platform import PlatformStore
from tantalio.store.platform.records import NewEntry

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-m", "tantalio.cli.main", "platform"]


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo")
    build(root)
    return root


@pytest.fixture
def served(demo: Path, tmp_path: Path) -> Iterator[tuple[str, dict[str, str], str, Path]]:
    """(base URL, auth header, db URL, serve log) of `platform serve` on the imported list."""
    db = f"sqlite:///{tmp_path / 'platform.db'}"
    made = _cli("bank", "create", "known", "--db", db)
    assert made.returncode == 0, made.stderr
    imported = _cli(
        "bank",
        "import",
        "known",
        str(demo / "hashsets" / "demo-pdq.csv"),
        "--format",
        "hma",
        "--db",
        db,
    )
    assert imported.returncode == 0, imported.stderr
    assert "imported 17 entries into known" in imported.stdout, imported.stdout
    store = PlatformStore(db)
    bank = store.get_bank("known")
    assert bank is not None
    # Rows no import would write, as an older version or a hand edit might have left them.
    store.add_entries(bank.id, [NewEntry(pdq="zz" * 32), NewEntry(vpdq=["not a frame"])])
    token, _ = create_key(store, "matcher", ["lookup"], rate_per_s=1000, burst=1000)
    store.close()
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [*CLI, "serve", "--db", db, "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=dict(os.environ),
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.time() < deadline, "serve did not start"
            try:
                if httpx.get(f"{base}/status", timeout=2).text == "I-AM-ALIVE":
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield base, {"Authorization": f"Bearer {token}"}, db, log
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _entries(db: str) -> list[Any]:
    store = PlatformStore(db)
    try:
        bank = store.get_bank("known")
        assert bank is not None
        return store.list_entries(bank.id, limit=1000)
    finally:
        store.close()


def test_demo_list_served(served: tuple[str, dict[str, str], str, Path], demo: Path) -> None:
    base, auth, db, log = served
    entries = _entries(db)
    pdq_rows = {e.pdq: e.id for e in entries if e.pdq and e.pdq != "zz" * 32}
    [video] = [e for e in entries if e.vpdq and e.vpdq != ["not a frame"]]
    assert len(pdq_rows) == 16 and all(len(f) == 64 for f in video.vpdq)  # frames converted
    assert "value skipped" in log.read_text()  # the bad rows were logged, not fatal
    with httpx.Client(base_url=base, headers=auth, timeout=30) as c:
        for pdq, eid in pdq_rows.items():
            r = c.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": pdq})
            assert r.status_code == 200 and eid in r.json()["matches"], r.text
        frames = ",".join(video.vpdq)
        r = c.get("/m/raw_lookup", params={"signal_type": "vpdq", "signal": frames})
        assert r.json() == {"matches": [video.id]}
        pdq, eid = next(iter(pdq_rows.items()))
        r = c.post("/v1/match", json={"hashes": {"pdq": pdq}})
        assert [m["entry_id"] for m in r.json()["matches"]] == [eid]
        r = c.post("/v1/match", json={"hashes": {"vpdq": frames}})
        [m] = r.json()["matches"]
        assert (m["entry_id"], m["rule"], m["query_share"]) == (video.id, "vpdq-query-share", 1.0)
        # The rotated copy of a known picture, as content.
        turned = demo / "evidence" / "phone1" / "Pictures" / "Downloads" / "turned.jpg"
        data = turned.read_bytes()
        r = c.post("/m/lookup", files={"photo": ("turned.jpg", data)})
        assert r.status_code == 200, r.text
        [hit] = r.json()["pdq"]["known"]
        assert hit["bank_content_id"] in pdq_rows.values() and int(hit["distance"]) <= 31
        r = c.post("/m/lookup", params={"orientations": "false"}, files={"photo": ("t", data)})
        assert r.json() == {"pdq": {}}  # as HMA: the upload as it is only
        r = c.post("/v1/match/upload", files={"file": ("turned.jpg", data)})
        [m] = r.json()["matches"]
        assert m["entry_id"] == hit["bank_content_id"] and m["orientation"] != "identity"


def test_import_while_serving(
    served: tuple[str, dict[str, str], str, Path], tmp_path: Path
) -> None:
    base, auth, db, _log = served
    store = PlatformStore(db)
    bank = store.get_bank("known")
    assert bank is not None
    store.add_entries(bank.id, [NewEntry(pdq="0" * 63 + "g")])  # the follower skips it
    store.close()
    new = "5a" * 32
    extra = tmp_path / "extra.csv"
    cell = json.dumps(["ab" * 32 + ",10,0.000"]).replace('"', '""')  # one frame, quality 10
    extra.write_text(f'pdq,{new}\nvpdq,"{cell}"\n')
    res = _cli("bank", "import", "known", str(extra), "--format", "hma", "--db", db)
    assert res.returncode == 0, res.stderr
    assert "imported 1 entries" in res.stdout
    assert f"{extra}:2: no vpdq frame has quality >= 50; row skipped" in res.stderr
    with httpx.Client(base_url=base, headers=auth, timeout=30) as c:
        deadline = time.time() + 10
        while not c.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": new}).json()[
            "matches"
        ]:
            assert time.time() < deadline, "the imported PDQ never became matchable"
            time.sleep(0.2)
