"""The exchange as a real process: `tantalio exchange serve` on a free port over a real SQLite
file or a fresh PostgreSQL database, agencies created in its database."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tantalio.exchange.admin import create_agency

PG_ADMIN_URL = os.environ.get(
    "TANTALIO_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def random_pdq() -> str:
    return secrets.token_hex(32)


def flip(pdq: str, bits: int) -> str:
    """`pdq` with its lowest `bits` bits flipped (Hamming distance `bits`)."""
    return format(int(pdq, 16) ^ ((1 << bits) - 1), "064x")


@contextmanager
def serve_exchange(db_url: str, signing_key: Path, **env_extra: str) -> Iterator[str]:
    """`tantalio exchange serve` in a subprocess; yields its URL once it answers (401)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("TANTALIO_EXCHANGE")}
    # The index snapshot beside the test's files (not in the user's cache directory).
    env["TANTALIO_EXCHANGE_INDEX_DIR"] = str(signing_key.parent.parent / "exchange-index")
    env.update(env_extra)
    cmd = [sys.executable, "-m", "tantalio.cli.main", "exchange", "serve", "--db", db_url]
    log = signing_key.parent.parent / f"serve-{port}.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [*cmd, "--port", str(port), "--signing-key", str(signing_key)],
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 240  # imports, migrations, index load on a loaded machine
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


@contextmanager
def exchange_database(backend: str, tmp: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp / 'exchange.db'}"
        return
    try:
        import psycopg

        name = f"tantalio_exch_{uuid.uuid4().hex[:12]}"
        admin = PG_ADMIN_URL.replace("+psycopg", "")
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


@dataclass
class Exchange:
    url: str
    db_url: str
    signing_key: Path
    clients: list[httpx.Client] = field(default_factory=list)

    def agency(
        self,
        name: str | None = None,
        country: str = "DE",
        scopes: tuple[str, ...] = ("push", "query"),
        rate: float = 1000.0,
        burst: int = 1000,
    ) -> httpx.Client:
        """A new agency with one key; an httpx client that sends it."""
        name = name or f"agency-{secrets.token_hex(3)}"
        token, _, _ = create_agency(
            self.db_url, name, country, f"desk of {name}", scopes, rate, burst
        )
        client = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        client.token = token  # type: ignore[attr-defined]
        client.agency = name  # type: ignore[attr-defined]
        self.clients.append(client)
        return client


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def exchange(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Exchange]:
    tmp = tmp_path_factory.mktemp("exchange")
    with exchange_database(request.param, tmp) as db_url:
        key = tmp / "signing" / "exchange-key.pem"
        from tantalio.store.exchange import ExchangeStore

        ExchangeStore(db_url).close()
        with serve_exchange(db_url, key) as url:
            ex = Exchange(url, db_url, key)
            yield ex
            for c in ex.clients:
                c.close()


def audit_actions(db_url: str) -> list[tuple[str, str | None, dict[str, Any]]]:
    """(action, agency, detail) of every audit event, oldest first."""
    import json

    from tantalio.store.exchange import ExchangeStore
    from tantalio.store.exchange import audit as audit_log

    store = ExchangeStore(db_url)
    try:
        with store.session() as s:
            rows = audit_log.events(s, limit=100_000)
            return [(r.action, r.agency, json.loads(r.detail)) for r in reversed(rows)]
    finally:
        store.close()
