"""Per-key token buckets in the platform database (ratelimit_db.py), for several hosts.

Each `DatabaseBuckets` opens its own engine, as each host would: two of them on one database
stand for two hosts behind a load balancer and must share one burst. Both back ends run:
SQLite (one file) and the real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text

from tantalio.platform.auth import KeyRing, create_key
from tantalio.platform.ratelimit import RATE_FILE_ENV, RATE_STORE_ENV, LocalBuckets
from tantalio.platform.ratelimit_db import DatabaseBuckets
from tantalio.store.platform import PlatformStore

SLOW_RATE = 0.001  # well under one token over any test's duration


@pytest.fixture
def platform_db(db_url: str) -> str:
    PlatformStore(db_url).close()  # the schema, migrated as `serve` does
    return db_url


def test_a_key_gets_its_burst_then_waits(platform_db: str) -> None:
    buckets = DatabaseBuckets(platform_db)
    try:
        waits = [buckets.allow(7, 0.5, 3) for _ in range(5)]
    finally:
        buckets.close()
    assert waits[:3] == [0.0, 0.0, 0.0]
    assert all(0.0 < w <= 2.0 for w in waits[3:]), waits


def test_tokens_come_back_at_the_rate(platform_db: str) -> None:
    buckets = DatabaseBuckets(platform_db)
    try:
        assert buckets.allow(1, 20.0, 1) == 0.0
        assert 0.0 < buckets.allow(1, 20.0, 1) <= 0.05
        time.sleep(0.12)  # 2.4 tokens' worth, capped at the burst of 1
        assert buckets.allow(1, 20.0, 1) == 0.0
        assert buckets.allow(1, 20.0, 1) > 0.0
    finally:
        buckets.close()


def test_keys_have_their_own_buckets(platform_db: str) -> None:
    buckets = DatabaseBuckets(platform_db)
    try:
        assert [buckets.allow(1, SLOW_RATE, 1) for _ in range(2)][1] > 0.0
        assert buckets.allow(2, SLOW_RATE, 1) == 0.0
    finally:
        buckets.close()


def test_two_hosts_share_one_burst(platform_db: str) -> None:
    """Two engines (two hosts) taking turns, then concurrently from threads: the key's burst
    is granted once in all, not once per host."""
    hosts = [DatabaseBuckets(platform_db), DatabaseBuckets(platform_db)]
    try:
        turns = [hosts[i % 2].allow(11, SLOW_RATE, 4) == 0.0 for i in range(10)]
        assert turns == [True] * 4 + [False] * 6

        def draw(i: int) -> bool:
            return hosts[i % 2].allow(12, SLOW_RATE, 25) == 0.0

        with ThreadPoolExecutor(6) as pool:
            granted = sum(pool.map(draw, range(90)))
    finally:
        for h in hosts:
            h.close()
    assert granted == 25


@pytest.mark.postgres
def test_a_connection_the_server_dropped_costs_no_request(pg_url: str) -> None:
    """No pre-ping on the bucket pool: a pooled connection the server closed (restart, idle
    timeout) is retried once on a fresh one, and the bucket stays exact."""
    PlatformStore(pg_url).close()
    buckets = DatabaseBuckets(pg_url)
    store = PlatformStore(pg_url)
    try:
        assert buckets.allow(5, SLOW_RATE, 3) == 0.0  # the pool now holds a connection
        with store.engine.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar()
        assert killed and killed >= 1
        assert [buckets.allow(5, SLOW_RATE, 3) == 0.0 for _ in range(3)] == [True, True, False]
    finally:
        buckets.close()
        store.close()


def test_keyring_uses_the_database_when_asked(
    platform_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = PlatformStore(platform_db)
    try:
        _, key = create_key(store, "k", ["lookup"], rate_per_s=SLOW_RATE, burst=2)
        monkeypatch.delenv(RATE_STORE_ENV, raising=False)
        assert isinstance(KeyRing(store)._buckets, LocalBuckets)
        monkeypatch.setenv(RATE_STORE_ENV, "database")
        rings = [KeyRing(store), KeyRing(store)]  # two hosts' apps
        assert [rings[i % 2].allow(key) == 0.0 for i in range(4)] == [True, True, False, False]
        with store.engine.connect() as conn:
            row = conn.execute(
                text("SELECT tokens, granted FROM platform_rate_buckets WHERE key_id = :k"),
                {"k": key.id},
            ).one()
        assert row[0] < 1.0 and not row[1]
    finally:
        store.close()


@pytest.mark.slow
@pytest.mark.postgres
def test_two_serve_hosts_on_one_postgres_share_a_key_limit(pg_url: str, tmp_path: Path) -> None:
    """Two `tantalio platform serve --rate-limits database` processes (two hosts) on one
    PostgreSQL database: requests spread over both get one key's burst in all."""
    from test_ratelimit_serve import _lookup, free_port

    burst, requests = 6, 24
    store = PlatformStore(pg_url)
    token, _ = create_key(store, "limited", ["lookup"], rate_per_s=SLOW_RATE, burst=burst)
    store.close()
    env = {k: v for k, v in os.environ.items() if k not in (RATE_FILE_ENV, RATE_STORE_ENV)}
    procs, bases, logs = [], [], []
    try:
        for n in range(2):
            port = free_port()
            log = tmp_path / f"host{n}.log"
            cmd = [sys.executable, "-m", "tantalio.cli.main", "platform", "serve"]
            args = ["--db", pg_url, "--port", str(port), "--rate-limits", "database"]
            with log.open("wb") as err:
                procs.append(
                    subprocess.Popen([*cmd, *args], stdout=subprocess.DEVNULL, stderr=err, env=env)
                )
            bases.append(f"http://127.0.0.1:{port}")
            logs.append(log)
        deadline = time.time() + 60
        for proc, log in zip(procs, logs, strict=True):
            while "Application startup complete" not in log.read_text():
                assert proc.poll() is None, log.read_text()
                assert time.time() < deadline, "serve did not start"
                time.sleep(0.1)
        with ThreadPoolExecutor(4) as pool:
            responses = list(pool.map(lambda i: _lookup(bases[i % 2], token), range(requests)))
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)
    codes = [r.status_code for r in responses]
    assert set(codes) <= {200, 429}, codes
    assert codes.count(200) == burst, codes  # host-local buckets would grant 2 x burst
    for r in responses:
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) >= 1


def test_serve_refuses_an_unknown_rate_limit_store(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tantalio.cli.main import app

    db = f"sqlite:///{tmp_path / 'p.db'}"
    result = CliRunner().invoke(app, ["platform", "serve", "--db", db, "--rate-limits", "redis"])
    assert result.exit_code == 2
    assert "--rate-limits must be 'host' or 'database'" in result.output
    assert not (tmp_path / "p.db").exists()  # refused before anything was created
