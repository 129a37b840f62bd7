from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tantalio.cli.main import app

runner = CliRunner()


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("TANTALIO_DB", raising=False)
    monkeypatch.delenv("TANTALIO_WORKSPACE", raising=False)
    ws = tmp_path / "ws"
    result = runner.invoke(app, ["init", str(ws)])
    assert result.exit_code == 0, result.output
    assert "workspace ready" in result.output
    return ws


def test_import_and_list(workspace: Path, tmp_path: Path) -> None:
    lst = tmp_path / "list.sha256"
    lst.write_text(f"{'ab' * 32}  one.jpg\nnot-a-hash  two.jpg\n{'cd' * 32}  three.jpg\n")
    result = runner.invoke(
        app,
        ["hashset", "import", str(lst), "--format", "sha256sum", "--name", "demo",
         "--kind", "alert", "-w", str(workspace)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "imported hash set 'demo' (alert, sha256sum): 2 entries, 1 records skipped" in (
        result.output
    )
    assert "list.sha256:2" in result.output  # the skipped record is named by file and line
    # A value that is ignored (the record kept) is not counted as a skipped record.
    hma = tmp_path / "list.csv"
    hma.write_text(f"signal_type,signal,category\npdq,{'ab' * 32},not-a-category\n")
    result = runner.invoke(
        app,
        ["hashset", "import", str(hma), "--format", "hma", "--name", "hma",
         "-w", str(workspace)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "1 entries, 0 records skipped, 1 values ignored (records kept)" in result.output
    listed = runner.invoke(app, ["hashset", "list"], env={"TANTALIO_WORKSPACE": str(workspace)})
    assert listed.exit_code == 0, listed.output
    assert "demo" in listed.output and "alert" in listed.output


def test_errors_name_the_problem(workspace: Path, tmp_path: Path) -> None:
    lst = tmp_path / "x.md5"
    lst.write_text("d41d8cd98f00b204e9800998ecf8427e  empty\n")
    args = [
        "hashset",
        "import",
        str(lst),
        "--format",
        "md5sum",
        "--name",
        "x",
        "-w",
        str(workspace),
    ]
    assert runner.invoke(app, args).exit_code == 0
    again = runner.invoke(app, args)
    assert again.exit_code == 1 and "--replace" in again.output
    bad_kind = runner.invoke(app, [*args[:-2], "--kind", "evil", "-w", str(workspace)])
    assert bad_kind.exit_code == 2 and "known-bad" in bad_kind.output  # a usage error
    missing = runner.invoke(app, ["hashset", "list", "-w", str(tmp_path / "nope")])
    assert missing.exit_code == 1 and "tantalio init" in missing.output


def test_case_create_and_list(workspace: Path) -> None:
    w = ["-w", str(workspace)]
    assert "created" in runner.invoke(app, ["case", "create", "OP-1", "--title", "Lake", *w]).output
    assert "exists already" in runner.invoke(app, ["case", "create", "OP-1", *w]).output
    listed = runner.invoke(app, ["case", "list", *w])
    assert "OP-1" in listed.output and "Lake" in listed.output


def test_publish_signed_list_and_import_it_elsewhere(workspace: Path, tmp_path: Path) -> None:
    hma = tmp_path / "known.csv"
    hma.write_text(
        f"signal_type,signal,category,series\nmd5,{'1' * 32},1,Lake\npdq,{'f0' * 32},2,Forest\n"
    )
    w = ["-w", str(workspace)]
    assert (
        runner.invoke(
            app, ["hashset", "import", str(hma), "-f", "hma", "-n", "central", *w]
        ).exit_code
        == 0
    )
    keys = tmp_path / "central"
    made = runner.invoke(app, ["hashset", "keygen", str(keys)])
    assert made.exit_code == 0, made.output
    out = tmp_path / "list.json"
    published = runner.invoke(
        app,
        ["hashset", "publish", "central", "--key", f"{keys}.key.pem", "--issuer", "Demo Unit",
         "--out", str(out), *w],
    )  # fmt: skip
    assert published.exit_code == 0, published.output
    assert "published 2 entries" in published.output
    other = tmp_path / "other"
    assert runner.invoke(app, ["init", str(other)]).exit_code == 0
    args = ["hashset", "import", str(out), "-f", "tantalio-signed", "-n", "from-central"]
    refused = runner.invoke(app, [*args, "-w", str(other)])
    assert refused.exit_code == 1 and "nothing imported" in refused.output  # no trusted key
    ok = runner.invoke(app, [*args, "--trusted-key", f"{keys}.pub.pem", "-w", str(other)])
    assert ok.exit_code == 0, ok.output
    assert "2 entries" in ok.output
    tampered = tmp_path / "tampered.json"
    tampered.write_text(out.read_text().replace('"Lake"', '"Sea"'))
    bad = runner.invoke(
        app,
        ["hashset", "import", str(tampered), "-f", "tantalio-signed", "-n", "t",
         "--trusted-key", f"{keys}.pub.pem", "-w", str(other)],
    )  # fmt: skip
    assert bad.exit_code == 1
