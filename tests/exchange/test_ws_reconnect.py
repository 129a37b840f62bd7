"""A workspace connected to exchange X reconnects to exchange Y (`tantalio exchange connect`
again), with real processes on SQLite and PostgreSQL: the key and URL are replaced, the
answers, feed position and series links of X are dropped and every media is asked again,
and nothing X said is ever presented as Y's, even when X changes after the move."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from tantalio.demo.exchange import OLD_SERIES, build_media, examiner_reviews
from tantalio.store.audit import list_audit_events
from tantalio.store.exchange_ws import ExchangeMatch, ExchangeQuery, ExchangeSync
from tantalio.store.workspace import Workspace, init_workspace
from tantalio.triage.pipeline import IngestOptions, ingest

from exchange_ws_env import agency_key, cli, database, serve_exchange  # isort: skip

pytestmark = pytest.mark.xdist_group("exchange-ws")


def _env(ws: Workspace) -> dict[str, str]:
    return {} if ws.url.startswith("sqlite") else {"TANTALIO_DB": ws.url}


def _rows(ws: Workspace, case: str) -> dict[str, dict[str, Any]]:
    assert ws.dir is not None
    out = cli("triage", case, "--format", "json", "-w", str(ws.dir), **_env(ws))
    return {row["path"]: row for row in map(json.loads, out.stdout.splitlines())}


def _agencies(rows: dict[str, dict[str, Any]]) -> set[str]:
    return {a["agency"] for row in rows.values() for a in row["agencies"]}


def _count(ws: Workspace, model: Any) -> int:
    with ws.session() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param


def test_reconnect_to_another_exchange_drops_the_old_answers(backend: str, tmp_path: Path) -> None:
    evidence_a, evidence_b = build_media(tmp_path)
    opts = IngestOptions(jobs=1, progress=False, in_process=True)
    with (
        database(backend, "exx") as x_db,
        database(backend, "exy") as y_db,
        database(backend, "wsa") as db_a,
        database(backend, "wsb") as db_b,
    ):
        x_url = x_db or f"sqlite:///{tmp_path / 'x.db'}"
        y_url = y_db or f"sqlite:///{tmp_path / 'y.db'}"
        key_a_x = agency_key(x_url, "Agency A", "DE")
        key_b_x = agency_key(x_url, "Agency B", "FR")
        key_b_y = agency_key(y_url, "Agency B", "FR")
        key_c_y = agency_key(y_url, "Agency C", "NL")
        (tmp_path / "x").mkdir()
        (tmp_path / "y").mkdir()
        with serve_exchange(x_url, tmp_path / "x") as x, serve_exchange(y_url, tmp_path / "y") as y:
            ws_a = init_workspace(tmp_path / "ws-a", database=db_a)
            ws_b = init_workspace(tmp_path / "ws-b", database=db_b)
            assert ws_a.dir is not None and ws_b.dir is not None
            a_dir, b_dir = str(ws_a.dir), str(ws_b.dir)
            try:
                # On X: A pushes its reviewed media; B's triage names A; B syncs once.
                cli("exchange", "connect", x, "--key", key_a_x, "-w", a_dir, **_env(ws_a))
                ingest(ws_a, "A-1", [str(evidence_a)], options=opts)
                examiner_reviews(tmp_path / "ws-a", "A-1")
                cli("exchange", "push", "A-1", "-w", a_dir, **_env(ws_a))
                cli("exchange", "connect", x, "--key", key_b_x, "-w", b_dir, **_env(ws_b))
                ingest(ws_b, "B-7", [str(evidence_b)], options=opts)
                cli("exchange", "sync", "-w", b_dir, **_env(ws_b))
                on_x = _rows(ws_b, "B-7")
                assert _agencies(on_x) == {"Agency A"}
                assert on_x["Downloads/copy_of_1.jpg"]["verdict"] == "known"
                assert _count(ws_b, ExchangeMatch) > 0 and _count(ws_b, ExchangeSync) == 1

                # B moves to Y: key and URL replaced, X's answers and position dropped.
                moved = cli("exchange", "connect", y, "--key", key_b_y, "-w", b_dir, **_env(ws_b))
                assert "earlier answers dropped" in moved.stdout
                key_file = ws_b.dir / "exchange.key"
                assert key_file.read_text().strip() == key_b_y
                assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
                config = json.loads((ws_b.dir / "workspace.json").read_text())
                assert config["exchange"]["url"] == y and key_b_y not in json.dumps(config)
                assert _count(ws_b, ExchangeMatch) == 0 and _count(ws_b, ExchangeQuery) == 0
                assert _count(ws_b, ExchangeSync) == 0
                dropped = _rows(ws_b, "B-7")
                assert _agencies(dropped) == set()
                assert all(r["verdict"] == "new" for r in dropped.values()), dropped
                info = cli("exchange", "info", "-w", b_dir, **_env(ws_b)).stdout
                assert f"exchange: {y}" in info and "last sync: never" in info
                assert "media not asked yet: 5" in info
                with ws_b.session() as s:
                    (event,) = list_audit_events(s, action="exchange.connect", limit=1)
                assert json.loads(event.detail)["reset"] is True

                # A identifies its series on X after B left: B, asking Y, never hears of it.
                examiner_reviews(tmp_path / "ws-a", "A-1", identified=True)
                cli("exchange", "push", "A-1", "-w", a_dir, **_env(ws_a))
                first = cli("exchange", "sync", "-w", b_dir, **_env(ws_b)).stdout
                assert "asked about 5 media: 0 known at other agencies" in first
                assert _agencies(_rows(ws_b, "B-7")) == set()

                # A joins Y as agency C and pushes the same media: B learns it from Y, as C's.
                cli("exchange", "connect", y, "--key", key_c_y, "-w", a_dir, **_env(ws_a))
                cli("exchange", "push", "A-1", "-w", a_dir, **_env(ws_a))
                cli("exchange", "sync", "-w", b_dir, **_env(ws_b))
                on_y = _rows(ws_b, "B-7")
                assert _agencies(on_y) == {"Agency C"}
                (agency,) = on_y["Downloads/copy_of_1.jpg"]["agencies"]
                assert agency["country"] == "NL" and agency["series"] == OLD_SERIES

                # Connecting to the same exchange as the same agency again keeps the answers.
                same = cli("exchange", "connect", y, "--key", key_b_y, "-w", b_dir, **_env(ws_b))
                assert "earlier answers dropped" not in same.stdout
                assert _agencies(_rows(ws_b, "B-7")) == {"Agency C"}
            finally:
                ws_a.close()
                ws_b.close()
