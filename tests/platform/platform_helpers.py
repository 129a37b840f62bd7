"""Helpers shared by the platform tests (a uniquely named module: `conftest` is ambiguous
when several test folders have one)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image

from tantalio.hashsets import deltas
from tantalio.hashsets.record import HashEntry
from tantalio.hashsets.signed import generate_keypair, save_public_key
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


@dataclass
class SignedList:
    """A folder of signed list deltas with its first delta written, as a central list's
    issuer publishes them: the issuer's public key beside it, its private key to sign more."""

    folder: Path
    issuer: Path
    private: Any
    first: dict[str, Any]


def signed_list(tmp_path: Path, name: str, entries: list[HashEntry]) -> SignedList:
    folder = tmp_path / "list"
    folder.mkdir()
    private, public = generate_keypair()
    save_public_key(public, tmp_path / "issuer.pem")
    first = deltas.build_payload(name, "central", 1, "", entries)
    (folder / "1.json").write_bytes(deltas.sign_payload(first, private))
    return SignedList(folder, tmp_path / "issuer.pem", private, first)
