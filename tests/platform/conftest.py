"""Fixtures for the platform service: a real database (SQLite file or PostgreSQL), the
service on it, keys of each scope, and an in-process client (httpx through ASGI)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tantalio.platform import PlatformConfig, PlatformService, create_platform_app
from tantalio.platform.auth import create_key


def benign_image(seed: int, size: int = 160) -> bytes:
    """A synthetic texture (smoothed noise plus a gradient) as PNG: benign, high PDQ quality."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size // 8, size // 8, 3), dtype=np.uint8)
    img = Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


@dataclass
class Env:
    service: PlatformService
    client: TestClient
    admin: dict[str, str]
    curate: dict[str, str]
    lookup: dict[str, str]


def make_config(db_url: str, **overrides: object) -> PlatformConfig:
    cfg = PlatformConfig(
        db_url=db_url,
        run_workers=False,
        poll_interval_s=0.1,
        webhook_backoff_base_s=0.05,
        webhook_timeout_s=2.0,
    )
    for k, v in overrides.items():
        setattr(cfg, k, v)
    return cfg


def _keys(svc: PlatformService) -> tuple[dict[str, str], ...]:
    out = []
    for name, scopes in (("admin", ["admin"]), ("curator", ["curate"]), ("matcher", ["lookup"])):
        token, _ = create_key(svc.store, name, scopes, rate_per_s=1000, burst=1000)
        out.append({"Authorization": f"Bearer {token}"})
    return tuple(out)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    """The service on a fresh SQLite file, started, with an in-process client."""
    svc = PlatformService(make_config(f"sqlite:///{tmp_path / 'platform.db'}"))
    admin, curate, lookup = _keys(svc)
    app = create_platform_app(service=svc, background=False)
    with TestClient(app) as client:
        yield Env(svc, client, admin, curate, lookup)
    svc.close()


@pytest.fixture
def any_env(db_url: str) -> Iterator[Env]:
    """Like `env`, on SQLite and on the real PostgreSQL."""
    svc = PlatformService(make_config(db_url))
    admin, curate, lookup = _keys(svc)
    app = create_platform_app(service=svc, background=False)
    with TestClient(app) as client:
        yield Env(svc, client, admin, curate, lookup)
    svc.close()
