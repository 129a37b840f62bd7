"""`tantalio user ...`, `tantalio audit verify` and the first start of `tantalio serve`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tantalio.cli.main import app
from tantalio.store.workspace import Workspace

from .conftest import free_port

runner = CliRunner()


def _run(ws: Workspace, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "-w", str(ws.dir)], input=stdin)
    return result.exit_code, result.output


def test_user_add_list_disable(workspace: Workspace) -> None:
    code, out = _run(workspace, "user", "add", "Quinn", "--role", "vid", "--name", "Quinn Q")
    assert code == 0 and "added quinn (victim-id)" in out and "one-time password: " in out
    code, out = _run(workspace, "user", "add", "quinn", "--role", "examiner")
    assert code == 1 and "already exists" in out
    code, out = _run(
        workspace,
        "user",
        "add",
        "rob",
        "--role",
        "boss",
        "--password-stdin",
        stdin="a long enough pw\n",
    )
    assert code == 1 and "unknown role" in out
    code, out = _run(workspace, "user", "disable", "quinn")
    assert code == 0
    code, out = _run(workspace, "user", "list")
    assert code == 0
    line = next(row for row in out.splitlines() if row.startswith("quinn"))
    assert "victim-id" in line and "disabled" in line
    code, out = _run(workspace, "user", "disable", "nobody")
    assert code == 1 and "no user" in out


def test_audit_verify_exit_status(workspace: Workspace) -> None:
    _run(workspace, "user", "add", "sam", "--role", "auditor")
    code, out = _run(workspace, "audit", "verify")
    assert code == 0 and "intact" in out
    with workspace.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_event_no_change ON audit_event"))
        else:
            conn.execute(text("DROP TRIGGER audit_event_no_update"))
        conn.execute(text("UPDATE audit_event SET detail = '{}' WHERE seq = 1"))
    code, out = _run(workspace, "audit", "verify")
    assert code == 1 and "BROKEN" in out and "event 1" in out


@pytest.mark.slow
def test_serve_first_start_prints_a_one_time_admin_password(tmp_path: Path) -> None:
    from tantalio.store.workspace import init_workspace

    init_workspace(tmp_path / "ws").close()
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("TANTALIO_DB", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tantalio.cli.main",
            "serve",
            "-w",
            str(tmp_path / "ws"),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        assert "one-time password" in lines[0], lines
        password = lines[1].strip()
        deadline = time.time() + 30
        while True:
            try:
                r = httpx.post(
                    f"http://127.0.0.1:{port}/api/login",
                    json={"username": "admin", "password": password},
                )
                break
            except httpx.ConnectError:
                assert time.time() < deadline, "server did not start"
                time.sleep(0.2)
        assert r.status_code == 200 and r.json()["must_change_password"] is True
    finally:
        proc.terminate()
        proc.wait(10)
