"""The network page over the issue-5 scenario (three seized phones and a saved site, imported
as chats): the graph JSON for the interactive view, account and group pages, role checks, and
in real Chromium the drawn graph, a click on a distributor and its account page.

Set TANTALIO_SCREENSHOTS=DIR to save the page as DIR/network.png (docs/screenshots/ is made so).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tantalio.store import auth as store_auth
from tantalio.store.repo import get_case
from tantalio.store.workspace import Workspace, init_workspace
from tantalio.triage.hashset_import import import_hash_set
from tantalio.triage.pipeline import IngestOptions, ingest
from tantalio.web.app import WebSettings, create_app

from .conftest import (
    PASSWORD,
    ROLE_USERS,
    grant_all,
    login,
    module_database,
    serve_workspace,
)

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "chats" / "scenario"
EXPECTED = json.loads((SCENARIO / "expected.json").read_text())
CASE = "OP-CIRCLES"


def _load_scenario(ws: Workspace) -> int:
    with ws.transaction() as db:
        for role, name in ROLE_USERS.items():
            store_auth.create_user(db, name, PASSWORD, role, display_name=name.title())
    import_hash_set(ws, SCENARIO / "known_standins_vics.json", "vics", "standins", kind="known-bad")
    # the real pipeline: chats are detected, files kept on the phones become media with
    # thumbnails, and the messages link to them (deleted files stay known by hash alone)
    phones = [str(SCENARIO / p) for p in ("phone1", "phone2", "phone3", "saved_site")]
    ingest(ws, CASE, phones, options=IngestOptions(jobs=1, progress=False))
    grant_all(ws)
    with ws.session() as db:
        return get_case(db, CASE).id


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def net_ws(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Workspace, int]]:
    with module_database(request.param) as url:
        ws = init_workspace(tmp_path_factory.mktemp("net") / "ws", database=url)
        case_id = _load_scenario(ws)
        yield ws, case_id
        ws.close()


async def _client(ws: Workspace, role: str | None) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(ws, WebSettings())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        if role:
            await login(client, ROLE_USERS[role])
        yield client


def _by_key(nodes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in nodes}


@pytest.mark.anyio
async def test_graph_json_ranks_the_planted_distributors(net_ws: tuple[Workspace, int]) -> None:
    ws, case_id = net_ws
    async for c in _client(ws, "victim-id"):
        r = await c.get(f"/api/cases/{case_id}/network/graph")
        assert r.status_code == 200, r.text
        g = r.json()
        ranking = (await c.get(f"/api/cases/{case_id}/network?top=3")).json()["ranking"]
    assert {r["key"] for r in ranking} == set(EXPECTED["distributors"])
    nodes = _by_key(g["nodes"])
    assert g["total"]["nodes"] == 156 and not g["truncated"]
    types = {n["type"] for n in g["nodes"]}
    assert types == {"account", "group", "media", "series", "invite", "site"}
    # the planted distributors are drawn, ranked 1-3, linking to their account pages
    for place, r in enumerate(ranking, start=1):
        node = nodes[f"account:{r['id']}"]
        assert node["rank"] == place and node["score"] == pytest.approx(r["score"], abs=1e-3)
        assert node["href"] == f"/accounts/{r['id']}?case={case_id}"
    assert g["nodes"][0]["id"] == f"account:{ranking[0]['id']}"  # seeds come first
    groups = [n for n in g["nodes"] if n["type"] == "group"]
    assert len(groups) == EXPECTED["groups"]
    assert all(n["href"].startswith("/groups/") and n["members"] > 0 for n in groups)
    media = [n for n in g["nodes"] if n["type"] == "media"]
    deleted = set(EXPECTED["deleted_known_sha256"])
    gone = [n for n in media if n["sha256"] in deleted]
    assert gone and all(n["verdict"] == "known" and not n["stored"] for n in gone)
    # files kept on a phone open their media page; deleted ones are known by hash alone
    stored = [n for n in media if n["stored"]]
    assert stored and all(re.fullmatch(rf"/media/\d+\?case={case_id}", n["href"]) for n in stored)
    assert all(n["href"] is None for n in media if not n["stored"])
    assert any(n["verdict"] == "known" for n in stored)
    assert {n["verdict"] for n in media} == {"known", "new"}
    assert any(n["category"] is not None for n in media if n["verdict"] == "known")
    assert nodes[f"site:{EXPECTED['site']}"]["type"] == "site"
    # no content: hashes and verdicts only
    assert not any(k in n for n in g["nodes"] for k in ("thumbnail", "bytes", "data", "path"))
    # edges join drawn nodes, typed by relation
    relations = {e["relation"] for e in g["edges"]}
    assert {"member", "posted", "posted_in", "lists", "opens", "in_series"} <= relations
    assert all(e["source"] in nodes and e["target"] in nodes for e in g["edges"])
    member = next(e for e in g["edges"] if e["relation"] == "member")
    assert member["role"] in ("member", "admin", "creator") and "joined_how" in member


@pytest.mark.anyio
async def test_graph_cap_keeps_the_top_accounts(net_ws: tuple[Workspace, int]) -> None:
    ws, case_id = net_ws
    async for c in _client(ws, "examiner"):
        g = (await c.get(f"/api/cases/{case_id}/network/graph?top=2&max_nodes=10")).json()
        everything = (await c.get(f"/api/cases/{case_id}/network/graph?top=0")).json()
        bad = await c.get(f"/api/cases/{case_id}/network/graph?max_nodes=1")
    assert bad.status_code == 422
    assert len(g["nodes"]) == 10 and g["truncated"]
    assert [n["rank"] for n in g["nodes"][:2]] == [1, 2]
    assert all(n["type"] != "media" or n["verdict"] == "known" for n in g["nodes"])
    # every account as a seed reaches the whole scenario graph
    assert len(everything["nodes"]) == everything["total"]["nodes"]


@pytest.mark.anyio
async def test_roles_and_login(net_ws: tuple[Workspace, int]) -> None:
    ws, case_id = net_ws
    async for anon in _client(ws, None):
        assert (await anon.get(f"/api/cases/{case_id}/network/graph")).status_code == 401
        assert (await anon.get("/api/accounts/1")).status_code == 401
        page = await anon.get(f"/cases/{case_id}/network")
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        assert (await anon.get("/groups/1")).status_code == 303
    async for auditor in _client(ws, "auditor"):  # no case content for auditors (web.md)
        assert (await auditor.get(f"/api/cases/{case_id}/network/graph")).status_code == 403
        assert (await auditor.get("/api/accounts/1")).status_code == 403
        assert (await auditor.get(f"/cases/{case_id}/network")).status_code == 403
    async for vid in _client(ws, "victim-id"):
        assert (await vid.get(f"/api/cases/{case_id}/network/graph")).status_code == 200
        assert (await vid.get("/api/accounts/999999")).status_code == 404
        assert (await vid.get("/api/groups/999999")).status_code == 404
        assert (await vid.get("/api/accounts/1?case=999999")).status_code == 404


@pytest.mark.anyio
async def test_account_and_group_pages(net_ws: tuple[Workspace, int]) -> None:
    ws, case_id = net_ws
    async for c in _client(ws, "examiner"):
        top = (await c.get(f"/api/cases/{case_id}/network?top=1")).json()["ranking"][0]
        a = (await c.get(f"/api/accounts/{top['id']}?case={case_id}")).json()
        assert a["key"] == top["key"] and a["rank"] == 1
        assert a["phone"] and a["jid"] == top["key"]
        assert {s["exhibit"] for s in a["seen"]} == {f"{CASE}/phone1", f"{CASE}/phone2"}
        # the breakdown adds up to the ranking's score
        assert a["breakdown"]["score"] == pytest.approx(top["score"], rel=1e-6)
        assert a["breakdown"]["C"] == top["known_groups"] >= 2
        assert a["groups"] and all(m["role"] and m["joined_how"] for m in a["groups"])
        posted = a["messages"]
        assert len([m for m in posted if m["verdict"] == "known"]) >= top["known_posts"]
        assert {m["sha256"] for m in posted} & set(EXPECTED["deleted_known_sha256"])
        html = (await c.get(f"/accounts/{top['id']}?case={case_id}")).text
        assert top["account"] in html and 'id="breakdown"' in html and "file gone" in html
        # media appear as the user's blurred thumbnails only, through the thumbnail route
        tiles = [m["media_id"] for m in posted if m["media_id"]]
        assert tiles and f'src="/api/media/{tiles[0]}/thumbnail"' in html
        thumb = await c.get(f"/api/media/{tiles[0]}/thumbnail")
        assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
        # a group it posted in: members with how they joined, invite links, the listing site
        groups = [(await c.get(f"/api/groups/{m['group_id']}")).json() for m in a["groups"]]
        listed = [g for g in groups if g["sites"]]
        assert listed, "the saved site lists an invite of one of its groups"
        g = listed[0]
        assert g["jid"].endswith("@g.us") and g["invites"]
        assert EXPECTED["invite_codes"][g["jid"]] in g["invites"]
        assert {s["site"] for s in g["sites"]} == {EXPECTED["site"]}
        assert any(m["account_id"] == top["id"] for m in g["members"])
        assert {m["joined_how"] for m in g["members"]} - {"unknown", "listed"}
        assert any(m["sender_id"] == top["id"] for m in g["messages"])
        html = (await c.get(f"/groups/{g['id']}?case={case_id}")).text
        assert 'id="members"' in html and f"/accounts/{top['id']}?case={case_id}" in html
        page = (await c.get(f"/cases/{case_id}/network")).text
        assert "/static/vendor/cytoscape.min.js" in page and 'id="graph"' in page
        assert f'href="/accounts/{top["id"]}?case={case_id}"' in page


# --- in Chromium --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    root = tmp_path_factory.mktemp("net-e2e")
    ws = init_workspace(root / "ws")
    case_id = _load_scenario(ws)
    ws.close()
    with serve_workspace(root / "ws") as url:
        yield url, case_id


@pytest.mark.browser
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian's chromium is absent")
def test_graph_in_chromium(served: tuple[str, int]) -> None:
    from playwright.sync_api import sync_playwright

    from .conftest import CHROMIUM, CHROMIUM_ARGS

    url, case_id = served
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1366, "height": 860})
        page.set_default_timeout(20_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{url}/login")
        page.fill("#username", ROLE_USERS["victim-id"])
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        page.goto(f"{url}/cases/{case_id}/network")
        page.wait_for_selector("#graph[data-ready=yes]")
        drawn = page.evaluate(
            """() => { const cy = window.tantalioNetwork.cy;
                return {nodes: cy.nodes().length, edges: cy.edges().length,
                        canvases: document.querySelectorAll('#graph canvas').length,
                        top: cy.nodes('[type = "account"]')
                               .sort((a, b) => a.data('rank') - b.data('rank'))
                               .slice(0, 3).map(n => n.id())}; }"""
        )
        assert drawn["nodes"] > 100 and drawn["edges"] > 200 and drawn["canvases"] >= 1
        distributor = drawn["top"][0]
        # click the best-ranked distributor where the canvas draws it
        box = page.locator("#graph").bounding_box()
        assert box is not None
        pos = page.evaluate(  # zoomed in on it, so no smaller node can sit where we click
            """(id) => { const cy = window.tantalioNetwork.cy; const n = cy.getElementById(id);
                cy.zoom({level: 2, position: n.position()}); cy.center(n);
                return n.renderedPosition(); }""",
            distributor,
        )
        page.mouse.click(box["x"] + pos["x"], box["y"] + pos["y"])
        page.wait_for_selector("#node-link")
        state = page.evaluate(
            """(id) => { const cy = window.tantalioNetwork.cy; const n = cy.getElementById(id);
                return {selected: n.selected(), hood: n.closedNeighborhood().filter('.hl').length,
                        faded: cy.elements('.faded').length}; }""",
            distributor,
        )
        assert state["selected"] and state["hood"] > 5 and state["faded"] > 0
        assert page.locator(f'#ranking tr.hl[data-node="{distributor}"]').count() == 1
        label = page.evaluate(
            "(id) => window.tantalioNetwork.cy.getElementById(id).data('label')", distributor
        )
        shots = os.environ.get("TANTALIO_SCREENSHOTS")
        if shots:
            page.evaluate("() => window.tantalioNetwork.cy.fit(undefined, 20)")
            Path(shots).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(Path(shots) / "network.png"))
        page.click("#node-link")
        page.wait_for_url(f"**/accounts/{distributor.split(':')[1]}?case={case_id}")
        assert page.inner_text("#account-label") == label
        assert "rank 1" in page.inner_text("#score")
        assert page.locator("#groups tbody tr").count() >= 2
        assert errors == []
        browser.close()
