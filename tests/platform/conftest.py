"""Fixtures for the platform service: a real database (SQLite file or PostgreSQL), the
service on it, keys of each scope, and an in-process client (httpx through ASGI)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from platform_helpers import Env, keys, make_config

from tantalio.platform import PlatformService, create_platform_app


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    """The service on a fresh SQLite file, started, with an in-process client."""
    svc = PlatformService(make_config(f"sqlite:///{tmp_path / 'platform.db'}"))
    admin, curate, lookup = keys(svc)
    app = create_platform_app(service=svc, background=False)
    with TestClient(app) as client:
        yield Env(svc, client, admin, curate, lookup)
    svc.close()


@pytest.fixture
def any_env(db_url: str) -> Iterator[Env]:
    """Like `env`, on SQLite and on the real PostgreSQL."""
    svc = PlatformService(make_config(db_url))
    admin, curate, lookup = keys(svc)
    app = create_platform_app(service=svc, background=False)
    with TestClient(app) as client:
        yield Env(svc, client, admin, curate, lookup)
    svc.close()
