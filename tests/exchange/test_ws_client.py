"""The workspace's exchange client against the real exchange process: TLS verified (a
private CA through `ca_cert`), plain http only to this machine, clear errors for 401, 403,
429 (Retry-After honoured, bounded) and an unreachable exchange, batched queries."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tantalio.exchange.client import (
    ExchangeAuthError,
    ExchangeClient,
    ExchangeForbidden,
    ExchangeRateLimited,
    ExchangeUnreachable,
    check_url,
)

from exchange_ws_env import env, free_port  # isort: skip


def test_plain_http_only_to_this_machine() -> None:
    assert check_url("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert check_url("http://localhost:8000") == "http://localhost:8000"
    assert check_url("https://exchange.example.org") == "https://exchange.example.org"
    with pytest.raises(ValueError, match="--insecure-http"):
        check_url("http://exchange.example.org")
    assert check_url("http://10.1.2.3:80", insecure_http=True) == "http://10.1.2.3:80"
    with pytest.raises(ValueError, match="https://HOST"):
        check_url("ftp://exchange.example.org")
    with pytest.raises(ValueError, match="key is needed"):
        ExchangeClient("https://exchange.example.org", " ")


def test_unreachable_exchange() -> None:
    client = ExchangeClient(f"http://127.0.0.1:{free_port()}", "tnt_x", timeout=3)
    with pytest.raises(ExchangeUnreachable, match="cannot be reached"):
        client.query([{"id": "1", "sha256": "0" * 64}])


def test_refusals_are_named(exchange) -> None:  # type: ignore[no-untyped-def]
    bad = ExchangeClient(exchange.url, "tnt_00000000_wrong")
    with bad, pytest.raises(ExchangeAuthError, match=r"refused the key \(401"):
        bad.status()
    push_only = exchange.agency(scopes=("push",))
    with ExchangeClient(exchange.url, push_only.token) as client:
        assert client.status()["scopes"] == ["push"]
        with pytest.raises(ExchangeForbidden, match=r"scope \(403\)"):
            client.query([{"id": "1", "sha256": "0" * 64}])


def test_rate_limit_retries_after_retry_after(exchange) -> None:  # type: ignore[no-untyped-def]
    slow = exchange.agency(rate=1.0, burst=1)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    with ExchangeClient(exchange.url, slow.token, max_retries=3, sleep=sleep) as client:
        for _ in range(3):
            client.status()  # over the rate: waits as Retry-After says, then succeeds
    assert waits and all(0 < w <= 30 for w in waits)
    client = ExchangeClient(exchange.url, slow.token, max_retries=0)
    with client, pytest.raises(ExchangeRateLimited, match=r"429 after 0 retries"):
        for _ in range(5):
            client.status()


def test_queries_go_in_batches(exchange) -> None:  # type: ignore[no-untyped-def]
    pusher, asker = exchange.agency(), exchange.agency()
    digests = [f"{i:064x}" for i in range(2500)]
    with ExchangeClient(exchange.url, pusher.token) as client:
        result = client.push([{"sha256": d, "category": 1} for d in digests[::100]])
        assert result.created == 25 and not result.refused
    sent: list[int] = []

    def hook(request: httpx.Request) -> None:
        if request.url.path == "/v1/query":
            sent.append(len(request.content))

    with ExchangeClient(exchange.url, asker.token, query_batch=1000) as client:
        client._http.event_hooks["request"].append(hook)
        answers = client.query([{"id": str(i), "sha256": d} for i, d in enumerate(digests)])
    assert len(sent) == 3  # 1000 + 1000 + 500
    assert len(answers) == 2500
    hits = {k for k, v in answers.items() if v}
    assert hits == {str(i) for i in range(0, 2500, 100)}
    assert answers["100"][0]["agency"] == pusher.agency and answers["100"][0]["category"] == 1


# --- TLS --------------------------------------------------------------------------------------


def _self_signed(root: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test exchange CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = root / "cert.pem", root / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_exchange(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """The exchange app behind TLS with a private CA's certificate (uvicorn's own TLS)."""
    cert, key = _self_signed(tmp_path)
    port = free_port()
    extra = {"TANTALIO_EXCHANGE_DB": f"sqlite:///{tmp_path / 'ex.db'}",
             "TANTALIO_EXCHANGE_SIGNING_KEY": str(tmp_path / "signing.pem")}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tantalio.exchange.app:app_from_env", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--ssl-certfile", str(cert),
         "--ssl-keyfile", str(key), "--log-level", "warning"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env(**extra),
    )  # fmt: skip
    url = f"https://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                context = ssl.create_default_context(cafile=str(cert))
                httpx.get(f"{url}/v1/status", verify=context, timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.time() < deadline, "TLS exchange did not start"
                time.sleep(0.2)
        yield url, cert
    finally:
        proc.terminate()
        proc.wait(15)


def test_tls_is_verified_and_a_private_ca_can_be_named(tls_exchange: tuple[str, Path]) -> None:
    url, cert = tls_exchange
    untrusted = ExchangeClient(url, "tnt_00000000_x")
    with untrusted, pytest.raises(ExchangeUnreachable, match="not trusted.*--ca-cert"):
        untrusted.status()
    # with the private CA named, the TLS handshake succeeds; the exchange then refuses the
    # made-up key
    trusted = ExchangeClient(url, "tnt_00000000_x", ca_cert=str(cert))
    with trusted, pytest.raises(ExchangeAuthError):
        trusted.status()
    with pytest.raises(ValueError, match="not a usable CA certificate"):
        ExchangeClient(url, "k", ca_cert=os.devnull)
