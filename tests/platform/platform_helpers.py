"""Helpers shared by the platform tests (a uniquely named module: `conftest` is ambiguous
when several test folders have one)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from tantalio.platform import PlatformConfig, PlatformService
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


def keys(svc: PlatformService) -> tuple[dict[str, str], ...]:
    out = []
    for name, scopes in (("admin", ["admin"]), ("curator", ["curate"]), ("matcher", ["lookup"])):
        token, _ = create_key(svc.store, name, scopes, rate_per_s=1000, burst=1000)
        out.append({"Authorization": f"Bearer {token}"})
    return tuple(out)
