"""Bank import of each list format (API and CLI), and signed distribution lists: verified,
tampered or unsigned ones refused (nothing added) unless unsigned lists are allowed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from platform_helpers import Env
from typer.testing import CliRunner

from tantalio.cli.main import app as cli
from tantalio.hashsets.record import HashEntry
from tantalio.hashsets.signed import generate_keypair, publish, save_public_key
from tantalio.platform.imports import ImportRefused, import_bytes, import_file

DATA = Path(__file__).with_name("data")


@pytest.mark.parametrize(
    ("name", "fmt", "count"),
    [
        ("hma.csv", "hma", 4),
        ("vics.json", "vics", 3),
        ("list.md5", "md5sum", 4),
        ("list.sha256", "sha256sum", 2),
        ("hma.csv", None, 4),
    ],
)
def test_import_each_format(env: Env, name: str, fmt: str | None, count: int) -> None:
    env.service.create_bank("IMPORTS")
    res = import_file(env.service, "IMPORTS", DATA / name, format=fmt)
    assert res.added == count and res.warnings == []
    entries = env.service.store.list_entries(env.service.bank("IMPORTS").id)
    assert {e.source_list for e in entries} == {name}
    probe = entries[0]
    algo, value = next(iter(probe.signals().items()))
    assert [m.entry_id for m in env.service.lookup(algo, value)] == [probe.id]


def test_hma_csv_keeps_provenance(env: Env) -> None:
    env.service.create_bank("HMA")
    import_file(env.service, "HMA", DATA / "hma.csv", format="hma")
    entries = env.service.store.list_entries(env.service.bank("HMA").id)
    assert [(e.original_id, e.category) for e in entries][:2] == [("HMA-0", 1), ("HMA-1", 1)]
    assert entries[-1].md5 and entries[-1].category == 2  # video_md5 row


def _signed(tmp_path: Path, *, sign: bool = True) -> tuple[bytes, Path]:
    private, public = generate_keypair()
    pem = tmp_path / "central.pub.pem"
    save_public_key(public, pem)
    entries = [
        HashEntry(
            pdq=hashlib.sha256(f"baseline-{i}".encode()).hexdigest(),
            category=1,
            original_id=f"BL-{i}",
        )
        for i in range(5)
    ]
    data = publish(entries, private if sign else None, "Baseline", "Central Registry")
    return data, pem


def test_signed_list_verified_and_imported(env: Env, tmp_path: Path) -> None:
    data, pem = _signed(tmp_path)
    env.service.create_bank("BASELINE")
    res = import_bytes(env.service, "BASELINE", data, source="baseline.json", trusted_keys=[pem])
    assert res.added == 5
    r = env.client.post("/v1/banks/BASELINE/import", content=data, headers=env.curate)
    assert r.status_code == 422  # the app was given no trusted key


def test_tampered_signed_list_refused(env: Env, tmp_path: Path) -> None:
    data, pem = _signed(tmp_path)
    doc = json.loads(data)
    doc["payload"]["entries"][0]["category"] = 0  # someone "declassifies" an entry
    tampered = json.dumps(doc).encode()
    env.service.create_bank("BASELINE")
    with pytest.raises(ImportRefused, match="modified"):
        import_bytes(env.service, "BASELINE", tampered, source="baseline.json", trusted_keys=[pem])
    with pytest.raises(
        ImportRefused, match="modified"
    ):  # allow_unsigned never admits a bad signature
        import_bytes(
            env.service,
            "BASELINE",
            tampered,
            source="baseline.json",
            trusted_keys=[pem],
            allow_unsigned=True,
        )
    _, other_pem = _signed(tmp_path / "..")
    with pytest.raises(ImportRefused, match="not a trusted key"):
        import_bytes(
            env.service, "BASELINE", data, source="baseline.json", trusted_keys=[other_pem]
        )
    assert env.service.store.bank_sizes() == {}


def test_unsigned_list_needs_permission(env: Env, tmp_path: Path) -> None:
    data, pem = _signed(tmp_path, sign=False)
    env.service.create_bank("BASELINE")
    with pytest.raises(ImportRefused, match="not signed"):
        import_bytes(env.service, "BASELINE", data, source="u.json", trusted_keys=[pem])
    r = env.client.post(
        "/v1/banks/BASELINE/import?allow_unsigned=true", content=data, headers=env.curate
    )
    assert r.status_code == 200 and r.json()["added"] == 5


def test_not_the_format_adds_nothing(env: Env) -> None:
    env.service.create_bank("X")
    with pytest.raises(ImportRefused):
        import_file(env.service, "X", DATA / "vics.json", format="md5sum")
    assert env.service.store.bank_sizes() == {}


def test_cli_bank_import_and_keys(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    run = CliRunner().invoke
    r = run(cli, ["platform", "bank", "create", "CLI_BANK", "--threshold", "20", "--db", db])
    assert r.exit_code == 0, r.output
    data, pem = _signed(tmp_path)
    (tmp_path / "list.json").write_bytes(data)
    r = run(
        cli, ["platform", "bank", "import", "CLI_BANK", str(tmp_path / "list.json"), "--db", db]
    )
    assert r.exit_code == 1 and "trusted" in r.output  # no key given: refused
    r = run(
        cli,
        [
            "platform",
            "bank",
            "import",
            "CLI_BANK",
            str(tmp_path / "list.json"),
            "--trusted-key",
            str(pem),
            "--db",
            db,
        ],
    )
    assert r.exit_code == 0 and "imported 5 entries" in r.output
    r = run(cli, ["platform", "bank", "list", "--db", db])
    assert "CLI_BANK\t5 entries\tthreshold 20" in r.output
    r = run(
        cli,
        ["platform", "key", "create", "ops", "--scope", "lookup", "--scope", "curate", "--db", db],
    )
    assert r.exit_code == 0 and r.stdout.startswith("tnt_")
    token = r.stdout.strip().splitlines()[0]
    r = run(cli, ["platform", "key", "list", "--db", db])
    assert "ops" in r.output and token not in r.output
    r = run(cli, ["platform", "key", "revoke", "ops", "--db", db])
    assert r.exit_code == 0 and "revoked 1" in r.output
    r = run(cli, ["platform", "key", "create", "bad", "--scope", "root", "--db", db])
    assert r.exit_code != 0
