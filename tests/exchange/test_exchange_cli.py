"""`tantalio exchange ...` administration commands as a user runs them."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy import text

from conftest import serve_exchange
from tantalio.store.exchange import ExchangeStore


def tantalio(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tantalio.cli.main", "exchange", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def test_cli_agency_key_list_audit(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ex.db'}"
    made = tantalio(
        "agency",
        "create",
        "Polizei Nord",
        "--country",
        "de",
        "--contact",
        "VID desk",
        "--db",
        db,
        cwd=tmp_path,
    )
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    assert made.stdout == token + "\n" and token.startswith("tnt_")
    assert "Polizei Nord (DE) created" in made.stderr and "push,query" in made.stderr
    bad = tantalio("agency", "create", "X", "--country", "Germany", "--db", db, cwd=tmp_path)
    assert bad.returncode == 1 and "ISO 3166" in bad.stderr and not bad.stdout
    dup = tantalio("agency", "create", "Polizei Nord", "--country", "DE", "--db", db, cwd=tmp_path)
    assert dup.returncode == 1 and "exists" in dup.stderr
    admin = tantalio(
        "key",
        "create",
        "Polizei Nord",
        "--scope",
        "admin",
        "--scope",
        "publish",
        "--db",
        db,
        cwd=tmp_path,
    )
    admin_token = admin.stdout.strip()
    assert admin.returncode == 0 and admin_token.startswith("tnt_")
    assert (
        tantalio("key", "create", "Nobody", "--scope", "push", "--db", db, cwd=tmp_path).returncode
        == 1
    )
    listed = tantalio("key", "list", "--db", db, cwd=tmp_path).stdout
    assert "Polizei Nord" in listed and token not in listed and "active" in listed
    assert (
        tantalio(
            "list",
            "create",
            "worst",
            "--category",
            "1",
            "--min-agencies",
            "1",
            "--db",
            db,
            cwd=tmp_path,
        ).returncode
        == 0
    )
    key = tmp_path / "keys" / "signing.pem"
    with serve_exchange(db, key) as url:
        h = {"Authorization": f"Bearer {token}"}
        r = httpx.post(
            f"{url}/v1/records", headers=h, json={"records": [{"md5": "a" * 32, "category": 1}]}
        )
        assert r.json()["created"] == 1
        published = httpx.post(
            f"{url}/v1/lists/worst/publish", headers={"Authorization": f"Bearer {admin_token}"}
        )
        assert published.json() == {"seq": 1, "added": 1, "retracted": 0}
        # Revoked on the command line: refused once the server's 2 s key cache has passed.
        assert tantalio("key", "revoke", "1", "--db", db, cwd=tmp_path).returncode == 0
        time.sleep(2.2)
        assert httpx.get(f"{url}/v1/status", headers=h).status_code == 401
    assert tantalio("key", "revoke", "1", "--db", db, cwd=tmp_path).returncode == 1
    # The CLI publishes with the same key file as the server.
    out = tantalio("list", "publish", "worst", "--db", db, "--signing-key", str(key), cwd=tmp_path)
    assert out.returncode == 0 and "delta 2 signed (0 added, 0 retracted)" in out.stdout
    ok = tantalio("audit", "verify", "--db", db, cwd=tmp_path)
    assert ok.returncode == 0 and "audit chain intact" in ok.stdout
    store = ExchangeStore(db)
    with store.transaction() as s:
        actions = [
            r[0] for r in s.execute(text("SELECT action FROM exchange_audit_events ORDER BY seq"))
        ]
        s.execute(text("UPDATE exchange_audit_events SET detail = '{}' WHERE seq = 3"))
    store.close()
    # (the 401 is serve_exchange's readiness probe, sent without a key)
    assert actions[:5] == [
        "agency.create",
        "key.create",
        "list.create",
        "refused.unauthorized",
        "records.push",
    ]
    assert "key.revoke" in actions and "refused.unauthorized" in actions
    broken = tantalio("audit", "verify", "--db", db, cwd=tmp_path)
    assert broken.returncode == 1 and "event 3: content does not match its hash" in broken.stderr


def test_signing_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'ex.db'}"
    assert (
        tantalio("list", "create", "l", "--category", "1", "--db", db, cwd=tmp_path).returncode == 0
    )
    first = tantalio("list", "publish", "l", "--db", db, cwd=tmp_path)
    key = tmp_path / "tantalio-exchange-signing-key.pem"  # default: beside the SQLite file
    assert first.returncode == 0 and key.stat().st_mode & 0o777 == 0o600
    key.chmod(0o644)
    again = tantalio("list", "publish", "l", "--db", db, cwd=tmp_path)
    assert again.returncode != 0 and "chmod 600" in again.stderr
