"""An HMA client works unchanged against `tantalio platform serve` over real HTTP."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from hma_client import HMAClient
from platform_helpers import benign_image, make_config

from tantalio.platform import PlatformService, create_platform_app
from tantalio.platform.auth import create_key


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str, PlatformService]]:
    svc = PlatformService(make_config(f"sqlite:///{tmp_path / 'p.db'}"))
    token, _ = create_key(svc.store, "hma-client", ["lookup", "curate"], rate_per_s=500, burst=500)
    port = free_port()
    config = uvicorn.Config(
        create_platform_app(service=svc, background=False),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not srv.started:
        assert time.time() < deadline, "server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", token, svc
    srv.should_exit = True
    thread.join(timeout=10)
    svc.close()


def test_hma_client_round_trip(server: tuple[str, str, PlatformService]) -> None:
    base, token, _svc = server
    hma = HMAClient(base, token)
    assert hma.status() == "I-AM-ALIVE"
    assert hma.create_bank("KNOWN_STANDINS") == {
        "name": "KNOWN_STANDINS",
        "matching_enabled_ratio": 1.0,
    }
    assert {"name": "KNOWN_STANDINS", "matching_enabled_ratio": 1.0} in hma.banks()

    image = benign_image(11)
    hashed = hma.hash_photo(image)
    assert set(hashed) == {"pdq"} and len(hashed["pdq"]) == 64

    added = hma.add_photo("KNOWN_STANDINS", image, metadata='{"content_id": "c-1"}')
    assert added["signals"] == hashed and isinstance(added["id"], int)
    sig = hma.add_signal("KNOWN_STANDINS", "pdq", "0f" * 32)
    assert sig["signals"] == {"pdq": "0f" * 32}

    # Raw lookups: ids, or ids with distances as strings (HMA's pretty_str).
    assert hma.raw_lookup("pdq", hashed["pdq"]) == [added["id"]]
    assert hma.raw_lookup("pdq", "0f" * 32, include_distance=True) == [
        {"bank_content_id": sig["id"], "distance": "0"}
    ]
    # Lookup by signal: bank -> matches; by upload: signal type -> bank -> matches.
    assert hma.lookup_signal("pdq", hashed["pdq"]) == {
        "KNOWN_STANDINS": [{"bank_content_id": added["id"], "distance": "0"}]
    }
    assert hma.lookup_photo(image) == {
        "pdq": {"KNOWN_STANDINS": [{"bank_content_id": added["id"], "distance": "0"}]}
    }
    assert hma.lookup_photo(benign_image(12)) == {"pdq": {}}

    assert hma.delete_content("KNOWN_STANDINS", added["id"]) == {"deleted": 1}
    assert hma.raw_lookup("pdq", hashed["pdq"]) == []


def test_hma_errors_have_message(server: tuple[str, str, PlatformService]) -> None:
    base, token, _ = server
    hma = HMAClient(base, token)
    r = hma.http.get("/m/raw_lookup", params={"signal_type": "pdq"})
    assert r.status_code == 400 and r.json()["message"] == "signal is required"
    r = hma.http.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": "xyz"})
    assert r.status_code == 400 and "64 hexadecimal" in r.json()["message"]
    r = hma.http.post("/c/bank/NOPE/signal", json={"pdq": "0" * 64})
    assert r.status_code == 404 and r.json()["message"] == "bank 'NOPE' not found"
    hma.create_bank("DUP")
    r = hma.http.post("/c/banks", json={"name": "DUP"})
    assert r.status_code == 403 and r.json()["message"] == "Bank already exists"
    # No key, no lookup: an open match oracle would let offenders test evasions.
    r = httpx_get(base + "/m/raw_lookup?signal_type=pdq&signal=" + "0" * 64)
    assert r.status_code == 401


def httpx_get(url: str):  # type: ignore[no-untyped-def]
    import httpx

    return httpx.get(url, timeout=10)


@pytest.mark.slow
def test_cli_serve_answers(tmp_path: Path) -> None:
    """`tantalio platform serve` starts, migrates its database and serves HMA routes."""
    import subprocess
    import sys

    import httpx

    db = f"sqlite:///{tmp_path / 'serve.db'}"
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tantalio.cli.main",
            "platform",
            "serve",
            "--db",
            db,
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            try:
                if httpx.get(f"http://127.0.0.1:{port}/status", timeout=1).text == "I-AM-ALIVE":
                    break
            except httpx.HTTPError:
                pass
            assert time.time() < deadline, "serve did not start"
            time.sleep(0.2)
        r = httpx.get(f"http://127.0.0.1:{port}/m/raw_lookup?signal_type=pdq&signal=" + "0" * 64)
        assert r.status_code == 401
        assert httpx.get(f"http://127.0.0.1:{port}/v1/openapi.json").status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_v1_status_hash_and_openapi(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient
    from platform_helpers import keys

    svc = PlatformService(make_config(f"sqlite:///{tmp_path / 'v1.db'}"))
    _admin, _curate, lookup = keys(svc)
    with TestClient(create_platform_app(service=svc, background=False)) as c:
        st = c.get("/v1/status", headers=lookup).json()
        assert st["ready"] is True and st["entries"] == 0
        fp = c.post(
            "/v1/hash", files={"file": ("x.png", benign_image(3), "image/png")}, headers=lookup
        ).json()
        assert len(fp["pdq"]) == 64 and len(fp["pdq_orientations"]) == 8 and fp["sha256"]
        # issue 14: only /status is open; the API description needs a key too
        assert c.get("/v1/openapi.json").status_code == 401
        assert c.get("/v1/docs").status_code == 401
        docs = c.get("/v1/docs", headers=lookup)
        assert docs.status_code == 200 and '"/v1/match"' in docs.text  # spec embedded
        paths = c.get("/v1/openapi.json", headers=lookup).json()["paths"]
        assert {
            "/m/raw_lookup",
            "/m/lookup",
            "/h/hash",
            "/c/banks",
            "/c/bank/{bank_name}/signal",
            "/c/bank/{bank_name}/content",
            "/status",
            "/v1/match",
            "/v1/reports/{account_id}",
            "/v1/review/take",
            "/v1/keys",
        } <= set(paths)
    svc.close()
