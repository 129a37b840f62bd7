"""Helpers for the workspace-side exchange tests (test_ws_*.py): the exchange and the
workspace commands as real processes, databases on SQLite or the real PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

PG_ADMIN_URL = os.environ.get(
    "TANTALIO_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
CLEAN_ENV = ("TANTALIO_EXCHANGE", "TANTALIO_DB", "TANTALIO_WORKSPACE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env(**extra: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith(CLEAN_ENV)}
    return out | extra


def cli(*args: str, check: bool = True, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """`tantalio ARGS` in a subprocess, as an examiner runs it."""
    done = subprocess.run(
        [sys.executable, "-m", "tantalio.cli.main", *args],
        capture_output=True,
        text=True,
        env=env(**extra_env),
        timeout=300,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"tantalio {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


@contextmanager
def database(backend: str, prefix: str) -> Iterator[str | None]:
    """None for SQLite (the workspace's own file), else a fresh PostgreSQL database."""
    if backend == "sqlite":
        yield None
        return
    try:
        import psycopg

        admin = PG_ADMIN_URL.replace("+psycopg", "")
        name = f"tantalio_{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(admin, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432")
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def serve_exchange(db_url: str, root: Path) -> Iterator[str]:
    """`tantalio exchange serve --db URL --host 127.0.0.1 --port P` until the block ends."""
    port = free_port()
    log = root / f"exchange-{port}.log"
    args = ["exchange", "serve", "--db", db_url, "--host", "127.0.0.1", "--port", str(port),
            "--signing-key", str(root / f"signing-{port}.pem")]  # fmt: skip
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tantalio.cli.main", *args],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env(),
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 90
        while True:
            try:
                httpx.get(f"{url}/v1/status", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, f"exchange serve exited: {log.read_text()[-2000:]}"
                assert time.time() < deadline, "exchange serve did not start"
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(15)


def agency_key(db_url: str, name: str, country: str, *options: str) -> str:
    """`tantalio exchange agency create`: the key is stdout's last line."""
    done = cli("exchange", "agency", "create", name, "--country", country,
               "--contact", f"desk of {name}", "--db", db_url, *options)  # fmt: skip
    return done.stdout.strip().splitlines()[-1]
