"""Per-key token buckets shared by worker processes through one mapped file (ratelimit.py).

The multi-process tests start real processes ('spawn', like uvicorn's workers) on one file:
together they must get one key's burst, not one burst each."""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tantalio.platform.auth import KeyRing, create_key
from tantalio.platform.ratelimit import RATE_FILE_ENV, LocalBuckets, SharedBuckets
from tantalio.store.platform import PlatformStore

SLOW_RATE = 0.001  # well under one token over any test's duration


SHARED_BURST = 200


def _drain(path: str, key_id: int, start: Any, ready: Any, out: Any) -> None:
    """Child process: once both are ready, draw from KEY_ID every ~2 ms for 1 s (the other
    process draws at the same time) and report how many draws were allowed."""
    buckets = SharedBuckets(path)
    buckets.allow(key_id + 1, SLOW_RATE, 1)  # warm: the slot lookup, another key
    ready.put(os.getpid())
    assert start.wait(30)
    allowed = 0
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        allowed += buckets.allow(key_id, SLOW_RATE, SHARED_BURST) == 0.0
        time.sleep(0.002)
    buckets.close()
    out.put(allowed)


@pytest.mark.slow
def test_two_processes_share_one_burst(tmp_path: Path) -> None:
    path = str(tmp_path / "buckets")
    SharedBuckets(path).close()
    ctx = mp.get_context("spawn")
    start, ready, out = ctx.Event(), ctx.Queue(), ctx.Queue()
    procs = [ctx.Process(target=_drain, args=(path, 7, start, ready, out)) for _ in range(2)]
    for p in procs:
        p.start()
    assert len({ready.get(timeout=60) for _ in procs}) == 2  # both have the file open
    start.set()
    counts = [out.get(timeout=30) for _ in procs]
    for p in procs:
        p.join(10)
        assert p.exitcode == 0
    # One burst between them (not one each), and both drew from it.
    assert sum(counts) == SHARED_BURST and min(counts) > 0, counts


def test_starts_full_and_refills(tmp_path: Path) -> None:
    b = SharedBuckets(tmp_path / "buckets")
    assert [b.allow(1, 20.0, 3) for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = b.allow(1, 20.0, 3)
    assert 0.0 < wait <= 0.05
    time.sleep(0.12)  # 2.4 tokens at 20/s
    assert b.allow(1, 20.0, 3) == 0.0
    assert b.allow(1, 20.0, 3) == 0.0
    assert b.allow(1, 20.0, 3) > 0
    b.close()


def test_refill_is_capped_at_burst(tmp_path: Path) -> None:
    b = SharedBuckets(tmp_path / "buckets")
    assert b.allow(1, 50.0, 2) == 0.0
    time.sleep(0.2)  # 10 tokens' worth of time, but the bucket holds 2
    assert [b.allow(1, 50.0, 2) for _ in range(2)] == [0.0, 0.0]
    assert b.allow(1, 50.0, 2) > 0
    b.close()


def test_wait_is_seconds_until_next_token(tmp_path: Path) -> None:
    """The value behind Retry-After: (1 - tokens) / rate."""
    b = SharedBuckets(tmp_path / "buckets")
    assert b.allow(3, 0.5, 1) == 0.0
    assert 1.9 < b.allow(3, 0.5, 1) <= 2.0
    assert LocalBuckets().allow(3, 0.5, 1) == 0.0
    b.close()


def test_keys_have_separate_buckets_and_openers_share(tmp_path: Path) -> None:
    path = tmp_path / "buckets"
    a, b = SharedBuckets(path), SharedBuckets(path, slots=16)
    assert b.slots == a.slots  # the file's slot count wins over the opener's wish
    assert a.allow(1, SLOW_RATE, 2) == 0.0
    assert b.allow(1, SLOW_RATE, 2) == 0.0
    assert a.allow(1, SLOW_RATE, 2) > 0 and b.allow(1, SLOW_RATE, 2) > 0
    assert b.allow(2, SLOW_RATE, 2) == 0.0  # another key: its own full bucket
    a.close()
    b.close()


def test_full_table_falls_back_to_process_buckets(tmp_path: Path) -> None:
    path = tmp_path / "buckets"
    a, b = SharedBuckets(path, slots=2), SharedBuckets(path)
    assert a.allow(10, SLOW_RATE, 1) == 0.0
    assert a.allow(11, SLOW_RATE, 1) == 0.0
    # Keys 10 and 11 hold both slots and stay shared.
    assert b.allow(10, SLOW_RATE, 1) > 0 and b.allow(11, SLOW_RATE, 1) > 0
    # Key 12 finds no slot: each opener limits it on its own.
    assert a.allow(12, SLOW_RATE, 1) == 0.0 and a.allow(12, SLOW_RATE, 1) > 0
    assert b.allow(12, SLOW_RATE, 1) == 0.0 and b.allow(12, SLOW_RATE, 1) > 0
    a.close()
    b.close()


def test_refuses_a_file_that_is_not_a_bucket_table(tmp_path: Path) -> None:
    path = tmp_path / "other"
    path.write_bytes(b"not a rate file at all, but long enough" * 4)
    with pytest.raises(ValueError):
        SharedBuckets(path)


def test_file_is_private(tmp_path: Path) -> None:
    SharedBuckets(tmp_path / "buckets").close()
    assert os.stat(tmp_path / "buckets").st_mode & 0o077 == 0


def test_keyrings_share_limits_through_the_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two KeyRings (as in two workers) on $TANTALIO_RATE_FILE draw from one bucket; without
    it each has its own."""
    store = PlatformStore(f"sqlite:///{tmp_path / 'p.db'}")
    _token, key = create_key(store, "k", ["lookup"], rate_per_s=SLOW_RATE, burst=3)
    local = [KeyRing(store), KeyRing(store)]
    monkeypatch.setenv(RATE_FILE_ENV, str(tmp_path / "buckets"))
    shared = [KeyRing(store), KeyRing(store)]
    assert [r.allow(key) for r in shared * 2].count(0.0) == 3
    assert [r.allow(key) for r in local * 2].count(0.0) == 4
    store.close()
