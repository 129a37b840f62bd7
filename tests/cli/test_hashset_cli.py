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


def test_a_caid_uk_list_lands_on_the_one_internal_scale(workspace: Path, tmp_path: Path) -> None:
    """Regional category profiles (issue 16): a UK CAID list's letters and its pre-2014 SAP
    levels map onto the internal (VICS 2.0, US) scale, the source's value kept beside it."""
    from tantalio.store.hashsets import HashEntry
    from tantalio.store.workspace import open_workspace

    caid = tmp_path / "caid.csv"
    caid.write_text(
        "ID,MD5,Category,Series Name\n"
        f"1,{'1' * 32},Category B,Harbour\n"
        f"2,{'2' * 32},3,\n"  # SAP level 3: an indecent image too
        f"3,{'3' * 32},0,\n"  # no SAP level 0: left for a person, never "non-pertinent"
        f"4,{'4' * 32},C,\n"
    )
    args = ["hashset", "import", str(caid), "--format", "icse", "--name", "caid",
            "--categories", "caid-uk", "-w", str(workspace)]  # fmt: skip
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "4 entries" in result.output
    with open_workspace(workspace) as ws, ws.session() as s:
        rows = {r.md5: (r.category, r.source_category) for r in s.query(HashEntry)}
    assert rows == {
        "1" * 32: (1, "Category B"),
        "2" * 32: (1, "3"),
        "3" * 32: (None, "0"),
        "4" * 32: (1, "C"),
    }
    # Under the US profile a "3" is CGI/animation: the profile decides, not a guess.
    us = runner.invoke(
        app,
        ["hashset", "import", str(caid), "--format", "icse", "--name", "us",
         "--categories", "projectvic-us", "-w", str(workspace)],
    )  # fmt: skip
    assert us.exit_code == 0, us.output
    wrong = runner.invoke(app, [*args[:6], "x", "--categories", "caid", "-w", str(workspace)])
    assert wrong.exit_code == 2 and "--categories must be one of" in wrong.output
    md5 = tmp_path / "l.md5"
    md5.write_text(f"{'5' * 32}  x\n")
    not_for = runner.invoke(
        app,
        ["hashset", "import", str(md5), "--format", "md5sum", "--name", "m",
         "--categories", "caid-uk", "-w", str(workspace)],
    )  # fmt: skip
    assert not_for.exit_code == 2 and "applies to the vics and icse formats" in not_for.output
