"""Web app fixtures: a real workspace (SQLite file or PostgreSQL), the app in-process over
httpx's ASGI transport, and logged-in clients of every role."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from tantalio.store import auth as store_auth
from tantalio.store.workspace import Workspace, init_workspace
from tantalio.web.app import WebSettings, create_app

from .demo_case import DemoCase, ingest_demo

# Debian's Chromium, driven by Playwright in the browser tests (one launch per test module).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

PASSWORD = "correct horse battery"
ROLE_USERS = {"admin": "admin", "examiner": "erin", "victim-id": "vicky", "auditor": "otto"}


def grant_all(ws: Workspace) -> None:
    """Make every examiner and victim-id user a member of every case (as `tantalio case grant`
    would): the tests of pages assume access; tests/web/test_case_access.py tests refusals."""
    from sqlalchemy import select

    from tantalio.store import access
    from tantalio.store.cases import Case

    with ws.transaction() as db:
        for case in db.scalars(select(Case)):
            for user in store_auth.list_users(db):
                if user.role in ("examiner", "victim-id"):
                    access.grant(db, case, user, by_name="(test)")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@dataclass
class WebEnv:
    workspace: Workspace
    app: Any

    def session(self) -> Session:
        return self.workspace.session()


@pytest.fixture
def workspace(db_url: str, tmp_path: Path) -> Iterator[Workspace]:
    """A fresh workspace with one user per role (all with PASSWORD)."""
    ws = init_workspace(tmp_path / "ws", database=db_url)
    with ws.transaction() as db:
        for role, name in ROLE_USERS.items():
            store_auth.create_user(db, name, PASSWORD, role)
    yield ws
    ws.close()


@pytest.fixture
def web_env(workspace: Workspace) -> WebEnv:
    settings = WebSettings(login_failures_per_user=3, queries_per_minute=5)
    return WebEnv(workspace, create_app(workspace, settings))


def client_for(env: WebEnv | DemoEnv) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=env.app)
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def anon(web_env: WebEnv) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(web_env) as client:
        yield client


async def login(client: httpx.AsyncClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the JSON API; returns the CSRF token and sends it from then on."""
    r = await client.post("/api/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    token = r.json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return str(token)


async def _logged_in(env: WebEnv | DemoEnv, role: str) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(env) as client:
        await login(client, ROLE_USERS[role])
        yield client


@pytest.fixture
async def admin(web_env: WebEnv) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _logged_in(web_env, "admin"):
        yield c


@pytest.fixture
async def examiner(web_env: WebEnv) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _logged_in(web_env, "examiner"):
        yield c


@pytest.fixture
async def vid(web_env: WebEnv) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _logged_in(web_env, "victim-id"):
        yield c


@pytest.fixture
async def auditor(web_env: WebEnv) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _logged_in(web_env, "auditor"):
        yield c


# --- the benign demo case, ingested once per module and back end ----------------------------


def _create_pg_database() -> tuple[str, str] | None:
    import os
    import uuid

    admin = os.environ.get(
        "TANTALIO_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    try:
        import psycopg

        name = f"tantalio_web_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            admin.replace("+psycopg", ""), autocommit=True, connect_timeout=3
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception:
        return None
    return admin, name


def _drop_pg_database(admin: str, name: str) -> None:
    import psycopg

    with psycopg.connect(admin.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def module_database(backend: str) -> Iterator[str | None]:
    """The database a module-scoped workspace runs on: None for SQLite (the workspace's own
    file), else a fresh PostgreSQL database's URL, dropped afterwards."""
    if backend != "postgresql":
        yield None
        return
    pg = _create_pg_database()
    if pg is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432")
        pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")
    try:
        yield pg[0].rsplit("/", 1)[0] + "/" + pg[1]
    finally:
        _drop_pg_database(*pg)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_workspace(workspace_dir: Path, *args: str) -> Iterator[str]:
    """`tantalio serve` in a subprocess over WORKSPACE_DIR (more options in `args`); yields
    its URL once /login answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("TANTALIO_DB", "TANTALIO_WORKSPACE")}
    cmd = [sys.executable, "-m", "tantalio.cli.main", "serve", "-w", str(workspace_dir)]
    proc = subprocess.Popen(
        [*cmd, "--port", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                httpx.get(f"{url}/login", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, "tantalio serve exited"
                assert time.time() < deadline, "tantalio serve did not start"
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(15)


@dataclass
class DemoEnv:
    workspace: Workspace
    demo: DemoCase
    app: Any

    def session(self) -> Session:
        return self.workspace.session()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def demo_workspace(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Workspace, DemoCase]]:
    """The demo case ingested through the real pipeline, with one user per role."""
    root = tmp_path_factory.mktemp("demo")
    with module_database(request.param) as url:
        ws = init_workspace(root / "ws", database=url)
        with ws.transaction() as db:
            for role, name in ROLE_USERS.items():
                store_auth.create_user(db, name, PASSWORD, role)
        demo = ingest_demo(ws, root)
        grant_all(ws)
        yield ws, demo
        ws.close()


@pytest.fixture
def demo_env(demo_workspace: tuple[Workspace, DemoCase], tmp_path: Path) -> DemoEnv:
    ws, demo = demo_workspace
    settings = WebSettings(queries_per_minute=5, evidence_roots=[tmp_path / "evidence"])
    return DemoEnv(ws, demo, create_app(ws, settings))


@pytest.fixture
async def d_examiner(demo_env: DemoEnv) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _logged_in(demo_env, "examiner"):
        yield c


@pytest.fixture
async def d_vid(demo_env: DemoEnv) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _logged_in(demo_env, "victim-id"):
        yield c


@pytest.fixture
async def d_auditor(demo_env: DemoEnv) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _logged_in(demo_env, "auditor"):
        yield c


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one browser-test module (its pages share the process)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
