"""End to end: `tantalio platform serve --workers 2` limits a key once for the host, not once
per worker (the workers share their token buckets through $TANTALIO_RATE_FILE)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tantalio.platform.auth import create_key
from tantalio.platform.ratelimit import RATE_FILE_ENV
from tantalio.store.platform import PlatformStore

BURST = 6
REQUESTS = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _lookup(base: str, token: str) -> httpx.Response:
    """One lookup of a random PDQ hash on a fresh connection (so either worker may take it)."""
    with httpx.Client(base_url=base, timeout=10) as c:
        return c.get(
            "/m/lookup",
            params={"signal_type": "pdq", "signal": secrets.token_hex(32)},
            headers={"Authorization": f"Bearer {token}"},
        )


@pytest.mark.slow
def test_two_workers_share_one_key_limit(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'serve.db'}"
    store = PlatformStore(db)
    token, _ = create_key(store, "limited", ["lookup"], rate_per_s=0.01, burst=BURST)
    store.close()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"  # uvicorn's own lines and query-free access lines
    tmp = tmp_path / "tmp"  # the server's TMPDIR: where its rate file goes
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if k != RATE_FILE_ENV}
    env["TMPDIR"] = str(tmp)
    cmd = [sys.executable, "-m", "tantalio.cli.main", "platform", "serve", "--db", db]
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [*cmd, "--port", str(port), "--workers", "2", "--log-level", "info"],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
    try:
        # Both workers have started their app (each logs it once) before any request, so
        # that either may take each connection.
        deadline = time.time() + 60
        while log.read_text().count("Application startup complete") < 2:
            assert proc.poll() is None, log.read_text()
            assert time.time() < deadline, "serve did not start two workers"
            time.sleep(0.1)
        rate_dirs = [p.stat().st_mode & 0o777 for p in tmp.glob("tantalio-rate-*")]
        with ThreadPoolExecutor(4) as pool:
            responses = list(pool.map(lambda _: _lookup(base, token), range(REQUESTS)))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    codes = [r.status_code for r in responses]
    assert set(codes) <= {200, 429}, codes
    assert BURST - 1 <= codes.count(200) <= BURST + 1, codes
    for r in responses:
        if r.status_code == 429:
            assert 1 <= int(r.headers["Retry-After"]) <= 101
    # The rate file lived in a private temporary directory, removed when the server exited.
    assert [oct(mode) for mode in rate_dirs] == ["0o700"]
    assert proc.returncode == 0 and not list(tmp.iterdir())
