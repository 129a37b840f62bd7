"""Per-case access control (issues 11 and 14): a user sees a case only as its member.

Two cases over the benign demo: DEMO-1 (members erin and vicky, with a phone's chats) and
OTHER-2 (member mallory), which holds one picture of its own and an exact copy of a DEMO-1
picture. Every route naming a case, media, series, chat account or group is walked as
mallory on DEMO-1's objects and must answer 403; a route with an id parameter nobody has
classified fails the test, so a new route cannot skip the check unnoticed.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.routing import iter_route_contexts
from sqlalchemy import select

from tantalio.demo import synth
from tantalio.store import access, review
from tantalio.store import audit as store_audit
from tantalio.store import auth as store_auth
from tantalio.store.chats import ChatAccount, ChatGroup
from tantalio.store.workspace import Workspace, init_workspace
from tantalio.web.app import WebSettings, create_app
from tantalio.web.security import CASE_SCOPED_PARAMS, require_case_access

from .conftest import PASSWORD, login, module_database
from .demo_case import DemoCase, ingest_demo

pytestmark = pytest.mark.anyio

SCENARIO = Path(__file__).resolve().parents[1] / "data" / "chats" / "scenario"
# Path parameters known to name nothing of a case. A new id parameter must be added either
# here (with a reason) or to security.CASE_SCOPED_PARAMS (with its check).
CASE_FREE_PARAMS = {
    "fmt": "an export format name",
    "username": "a user (admin pages, guarded by users.manage)",
    "user_id": "a user (admin pages, guarded by users.manage)",
    "token_id": "the caller's own API token",
    "path": "static files",
    "entry_id": "a hash-set entry: answered only for an entry its (case-scoped) media matched",
}
NOT_MEMBER = "not a member of this case"


@dataclass
class Env:
    ws: Workspace
    demo: DemoCase
    other_id: int
    own_media: int  # OTHER-2's picture of its own
    shared_media: int  # in both cases
    a_series: int  # members only in DEMO-1
    shared_series: int  # one member in each case
    empty_series: int
    account_id: int
    group_id: int
    evidence: Path

    def app(self, **settings: Any) -> Any:
        return create_app(self.ws, WebSettings(**settings))


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def env(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    from tantalio.store import repo
    from tantalio.store.media import Media
    from tantalio.triage.chat_import import import_chats
    from tantalio.triage.pipeline import IngestOptions, ingest

    root = tmp_path_factory.mktemp("access")
    with module_database(request.param) as url:
        ws = init_workspace(root / "ws", database=url)
        with ws.transaction() as db:
            for name, role in [
                ("admin", "admin"),
                ("erin", "examiner"),
                ("vicky", "victim-id"),
                ("mallory", "examiner"),
                ("otto", "auditor"),
            ]:
                store_auth.create_user(db, name, PASSWORD, role)
        demo = ingest_demo(ws, root)
        import_chats(ws, "DEMO-1", SCENARIO / "phone1", exhibit="phone1")
        other = root / "other"
        import random

        synth.write(
            other / "own.jpg",
            synth.jpeg_bytes(synth.picture(random.Random(99), 320, 240, "landscape")),
        )
        shutil.copy(demo.evidence / "dir1" / "pic01.jpg", other / "copy.jpg")
        ingest(ws, "OTHER-2", [str(other)], options=IngestOptions(in_process=True, progress=False))
        with ws.transaction() as db:
            a = repo.get_case(db, "DEMO-1")
            b = repo.get_case(db, "OTHER-2")
            users = {u.username: u for u in store_auth.list_users(db)}
            for name in ("erin", "vicky"):
                access.grant(db, a, users[name], by_name="(test)")
            access.grant(db, b, users["mallory"], by_name="(test)")
            own = db.scalar(select(Media.id).where(Media.sha256 == synth_sha(other / "own.jpg")))
            shared = demo.media["pic1"]
            a_series = review.create_series(db, "only in demo", [demo.media["pic2"]]).id
            shared_series = review.create_series(db, "in both", [demo.media["pic3"], shared]).id
            empty = review.create_series(db, "nothing yet").id
            account = db.scalar(select(ChatAccount.id).order_by(ChatAccount.id))
            group = db.scalar(select(ChatGroup.id).order_by(ChatGroup.id))
            other_id = b.id
        assert own and account and group
        yield Env(
            ws,
            demo,
            other_id,
            own,
            shared,
            a_series,
            shared_series,
            empty,
            account,
            group,
            root / "evidence",
        )
        ws.close()


def synth_sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


async def _client(app: Any, user: str | None) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        if user:
            await login(client, user)
        yield client


@pytest.fixture
def app(env: Env) -> Any:
    return env.app()


@pytest.fixture
async def mallory(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client(app, "mallory"):
        yield c


@pytest.fixture
async def erin(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client(app, "erin"):
        yield c


@pytest.fixture
async def admin(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    async for c in _client(app, "admin"):
        yield c


def _routes(app: Any) -> list[tuple[str, str, Any]]:
    out = []
    for r in iter_route_contexts(app.routes):
        for method in sorted(r.methods or ()):
            out.append((method, r.path, r))
    return out


def _scoped_routes(app: Any) -> list[tuple[str, str]]:
    return [
        (m, p)
        for m, p, _r in _routes(app)
        if set(re.findall(r"{(\w+)", p)) & CASE_SCOPED_PARAMS.keys()
    ]


def _fill(path: str, env: Env, *, own: bool = False) -> str:
    values = {
        "case_id": env.other_id if own else env.demo.case_id,
        "media_id": env.own_media if own else env.demo.media["pic2"],
        "series_id": env.a_series,
        "account_id": env.account_id,
        "group_id": env.group_id,
        "fmt": "csv",
        "username": "erin",
        "entry_id": 1,
    }
    return re.sub(r"{(\w+)(?::\w+)?}", lambda m: str(values[m.group(1)]), path)


def test_every_route_parameter_is_classified_and_every_route_checks_membership(
    app: Any,
) -> None:
    """Fails when a route is added with an id parameter nobody classified, or when a route
    is served without `require_case_access` (e.g. added on the app, not through ROUTERS)."""
    unclassified = []
    unchecked = []
    for method, path, route in _routes(app):
        params = set(re.findall(r"{(\w+)", path))
        unclassified += [
            f"{method} {path}: {{{p}}}"
            for p in params
            if p not in CASE_SCOPED_PARAMS and p not in CASE_FREE_PARAMS
        ]
        dependant = getattr(route, "dependant", None)
        if dependant is None:
            continue  # the static files mount
        calls = [d.call for d in dependant.dependencies]
        if require_case_access not in calls and path != "/api/openapi.json":
            unchecked.append(f"{method} {path}")
    assert not unclassified, f"classify these path parameters: {unclassified}"
    assert not unchecked, f"routes without require_case_access: {unchecked}"
    assert len(_scoped_routes(app)) >= 30  # the walk below really walks


async def test_a_non_member_gets_403_on_every_route_of_the_case(
    env: Env, mallory: httpx.AsyncClient, app: Any
) -> None:
    seen = []
    for method, path in _scoped_routes(app):
        url = _fill(path, env)
        kwargs: dict[str, Any] = {}
        if method in ("POST", "PUT", "PATCH"):
            kwargs["json"] = {}
        r = await mallory.request(method, url, **kwargs)
        assert r.status_code == 403, f"{method} {url}: {r.status_code} {r.text[:200]}"
        assert NOT_MEMBER in r.text, f"{method} {url}: refused for another reason: {r.text[:200]}"
        if not path.startswith("/api/") and method == "GET":
            assert r.headers["content-type"].startswith("text/html"), url
            assert "<html" in r.text and '"detail"' not in r.text, url
        seen.append(f"{method} {path}")
    # the `case` a page was opened from is checked as well
    for url in (
        f"/media/{env.own_media}?case={env.demo.case_id}",
        f"/accounts/{env.account_id}?case={env.demo.case_id}",
        f"/api/media/{env.own_media}/thumbnail?case={env.demo.case_id}",
    ):
        assert (await mallory.get(url)).status_code == 403, url
    assert len(seen) == len(set(seen)) >= 30


async def test_a_member_passes_the_check_on_every_route(
    env: Env, erin: httpx.AsyncClient, app: Any
) -> None:
    for method, path in _scoped_routes(app):
        if method != "GET":
            continue
        url = _fill(path, env)
        r = await erin.get(url)
        assert NOT_MEMBER not in r.text, f"{url}: a member was refused"
        if "/members" in path:  # managing members needs users.manage, erin lacks it
            continue
        if "{entry_id}" in path:  # 404 unless the media matched that entry: not a refusal
            assert r.status_code in (200, 404), f"{url}: {r.status_code} {r.text[:200]}"
            continue
        assert r.status_code in (200, 422), f"{url}: {r.status_code} {r.text[:200]}"


async def test_missing_ids_answer_404_and_huge_ones_never_500(
    mallory: httpx.AsyncClient,
) -> None:
    for url in ("/api/media/99999999", "/api/cases/99999999", "/api/series/99999999"):
        assert (await mallory.get(url)).status_code == 404, url
    for url in (
        "/api/media/99999999999999999999999",
        "/api/cases/99999999999999999999999",
        "/api/series/99999999999999999999999",
    ):
        assert (await mallory.get(url)).status_code == 404, url


async def test_case_lists_show_only_the_users_cases(
    env: Env, mallory: httpx.AsyncClient, erin: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    assert [c["reference"] for c in (await mallory.get("/api/cases")).json()] == ["OTHER-2"]
    assert [c["reference"] for c in (await erin.get("/api/cases")).json()] == ["DEMO-1"]
    refs = {c["reference"] for c in (await admin.get("/api/cases")).json()}
    assert {"DEMO-1", "OTHER-2"} <= refs
    page = (await mallory.get("/cases")).text
    assert "OTHER-2" in page and "DEMO-1" not in page


async def test_media_in_two_cases_is_visible_to_a_member_of_either_but_shows_only_theirs(
    env: Env, mallory: httpx.AsyncClient, erin: httpx.AsyncClient
) -> None:
    r = await mallory.get(f"/api/media/{env.shared_media}")
    assert r.status_code == 200
    assert {o["case"] for o in r.json()["occurrences"]} == {"OTHER-2"}
    assert (await mallory.get(f"/api/media/{env.shared_media}/thumbnail")).status_code == 200
    both = (await erin.get(f"/api/media/{env.shared_media}")).json()
    assert {o["case"] for o in both["occurrences"]} == {"DEMO-1"}
    page = await mallory.get(f"/media/{env.shared_media}")
    assert page.status_code == 200 and "DEMO-1" not in page.text


async def test_series_show_only_what_lies_in_the_users_cases(
    env: Env, mallory: httpx.AsyncClient, erin: httpx.AsyncClient
) -> None:
    names = {s["name"]: s for s in (await mallory.get("/api/series")).json()}
    assert "only in demo" not in names and "Blue Lake" not in names
    assert names["in both"]["members"] == 1 and names["in both"]["cases"] == 1
    assert "nothing yet" in names  # a series of nobody's case shows nothing of one
    detail = (await mallory.get(f"/api/series/{env.shared_series}")).json()
    assert [m["media_id"] for m in detail["media"]] == [env.shared_media]
    assert [c["reference"] for c in detail["case_list"]] == ["OTHER-2"]
    mine = (await erin.get(f"/api/series/{env.shared_series}")).json()
    assert len(mine["media"]) == 2
    assert (await mallory.get(f"/series/{env.a_series}")).status_code == 403


async def test_writes_naming_other_cases_media_are_refused(
    env: Env, mallory: httpx.AsyncClient
) -> None:
    theirs = env.demo.media["pic2"]
    for url, body in [
        ("/api/media/categorize", {"media_ids": [env.own_media, theirs], "category": 1}),
        ("/api/media/tags", {"media_ids": [theirs], "add": ["x"]}),
        ("/api/series", {"name": "grab", "media_ids": [theirs]}),
        (f"/api/series/{env.empty_series}/members", {"add": [theirs]}),
    ]:
        r = await mallory.post(url, json=body)
        assert r.status_code == 403 and "in no case you are a member of" in r.text, (url, r.text)
    from tantalio.store.media import Media

    with env.ws.session() as db:
        assert db.get(Media, theirs).category is None  # type: ignore[union-attr]
        assert review.member_ids(db, env.empty_series) == []


async def test_query_by_example_withholds_other_cases_media(
    env: Env, mallory: httpx.AsyncClient, erin: httpx.AsyncClient
) -> None:
    sha = synth_sha(env.evidence / "dir0" / "pic02.jpg")  # pic2: only in DEMO-1
    r = (await mallory.post("/api/query", data={"hash": sha})).json()
    assert r["media"] == [] and r["withheld"] == 1
    assert any("1 matching media" in n and "withheld" in n for n in r["notes"])
    r = (await erin.post("/api/query", data={"hash": sha})).json()
    assert [m["media_id"] for m in r["media"]] == [env.demo.media["pic2"]] and r["withheld"] == 0
    shared = synth_sha(env.evidence / "dir1" / "pic01.jpg")
    r = (await mallory.post("/api/query", data={"hash": shared})).json()
    assert [m["cases"] for m in r["media"]] == [["OTHER-2"]]
    page = await mallory.post("/query", data={"hash": sha})
    assert "withheld" in page.text
    with env.ws.session() as db:
        event = store_audit.list_audit_events(db, action="query", username="mallory", limit=5)
        assert json.loads(event[0].detail)["withheld"] == 1  # newest first


async def test_admins_grant_and_revoke_membership_audited(
    env: Env, admin: httpx.AsyncClient, erin: httpx.AsyncClient, mallory: httpx.AsyncClient
) -> None:
    url = f"/api/cases/{env.other_id}"
    assert (await erin.get(url)).status_code == 403
    r = await admin.put(f"{url}/members/erin")
    assert r.status_code == 200 and r.json() == {"member": "erin", "changed": True}
    assert (await admin.put(f"{url}/members/erin")).json()["changed"] is False
    assert (await erin.get(url)).status_code == 200
    names = [m["username"] for m in (await erin.get(f"{url}/members")).json()]
    assert names == ["erin", "mallory"]
    # only admins manage members; auditors hold no case
    assert (await mallory.put(f"{url}/members/vicky")).status_code == 403
    assert (await admin.put(f"{url}/members/otto")).status_code == 422
    assert (await admin.put(f"{url}/members/nobody")).status_code == 404
    assert (await admin.delete(f"{url}/members/erin")).json()["changed"] is True
    assert (await erin.get(url)).status_code == 403
    # the page: list, grant by form, revoke by form
    page = await admin.get(f"/cases/{env.other_id}/members")
    assert page.status_code == 200 and 'data-username="mallory"' in page.text
    token = admin.headers["X-CSRF-Token"]
    form = {"csrf_token": token, "username": "vicky", "action": "grant"}
    r = await admin.post(f"/cases/{env.other_id}/members", data=form)
    assert r.status_code == 303
    assert 'data-username="vicky"' in (await admin.get(f"/cases/{env.other_id}/members")).text
    r = await admin.post(f"/cases/{env.other_id}/members", data=form | {"action": "revoke"})
    assert r.status_code == 303
    with env.ws.session() as db:
        events = store_audit.list_audit_events(db, action="case.", limit=20)
        assert store_audit.verify_audit_chain(db).ok
    changes = [
        (e.action, json.loads(e.detail)["member"], e.username)
        for e in reversed(events)
        if e.object_id == str(env.other_id) and e.username == "admin"
    ]
    assert changes == [
        ("case.grant", "erin", "admin"),
        ("case.revoke", "erin", "admin"),
        ("case.grant", "vicky", "admin"),
        ("case.revoke", "vicky", "admin"),
    ]


async def test_the_creator_of_a_case_becomes_its_member(
    env: Env, mallory: httpx.AsyncClient, erin: httpx.AsyncClient
) -> None:
    r = await mallory.post("/api/cases", json={"reference": "MALLORY-3"})
    assert r.status_code == 201
    case_id = r.json()["id"]
    assert (await mallory.get(f"/api/cases/{case_id}")).status_code == 200
    assert (await erin.get(f"/api/cases/{case_id}")).status_code == 403
    with env.ws.session() as db:
        assert access.is_member(db, store_auth.get_user(db, "mallory").id, case_id)  # type: ignore[union-attr]


async def test_auditors_read_the_whole_audit_log_but_no_case(env: Env, app: Any) -> None:
    async for otto in _client(app, "otto"):
        assert (await otto.get("/api/audit?action=case.")).status_code == 200
        assert (await otto.get(f"/api/cases/{env.other_id}")).status_code == 403
        assert (await otto.get("/api/cases")).status_code == 403


# --- browser ingest under evidence roots (issue 14) -------------------------------------------


async def test_web_ingest_without_an_evidence_root_is_off_and_says_how_to_enable_it(
    env: Env,
) -> None:
    async for erin in _client(env.app(), "erin"):
        url = f"/api/cases/{env.demo.case_id}/ingest"
        r = await erin.post(url, json={"source": str(env.evidence)})
        assert r.status_code == 403 and "--evidence-root" in r.json()["detail"]
        page = await erin.get(f"/cases/{env.demo.case_id}")
        assert "Ingest from the browser is off" in page.text and 'name="source"' not in page.text


async def test_web_ingest_only_under_evidence_roots_symlinks_and_dots_resolved(
    env: Env, tmp_path: Path
) -> None:
    root = tmp_path / "evidence"
    (root / "phone").mkdir(parents=True)
    (root / "escape").symlink_to("/etc")
    app = env.app(evidence_roots=[root])
    async for erin in _client(app, "erin"):
        url = f"/api/cases/{env.demo.case_id}/ingest"
        for source in ("/etc", str(root / "escape"), f"{root}/phone/../../..", "~"):
            r = await erin.post(url, json={"source": source})
            assert r.status_code == 403, (source, r.text)
            assert "outside the evidence folders" in r.json()["detail"]
        # inside the root it passes the check (and then finds nothing there)
        r = await erin.post(url, json={"source": str(root / "phone" / "missing")})
        assert r.status_code == 400 and "no such file" in r.json()["detail"]
        # the form answers with a page, not JSON
        form = {"csrf_token": erin.headers["X-CSRF-Token"], "source": "/etc", "exhibit": ""}
        page = await erin.post(f"/cases/{env.demo.case_id}/ingest", data=form)
        assert page.status_code == 403 and "<html" in page.text
        assert "outside the evidence folders" in page.text
    with env.ws.session() as db:
        refused = store_audit.list_audit_events(db, action="ingest.refused", limit=20)
    sources = {json.loads(e.detail)["source"] for e in refused}
    assert {"/etc", str(root / "escape"), f"{root}/phone/../../.."} <= sources
    assert all(e.username == "erin" for e in refused)


async def test_exports_name_only_the_users_other_cases(
    env: Env, mallory: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    import csv
    import io

    def other_cases(text: str) -> dict[str, str]:
        return {r["path"]: r["cases"] for r in csv.DictReader(io.StringIO(text))}

    url = f"/api/cases/{env.other_id}/export/csv"
    theirs = other_cases((await mallory.post(url)).text)
    assert theirs["copy.jpg"] == ""  # seen elsewhere, but not in a case of hers
    assert other_cases((await admin.post(url)).text)["copy.jpg"] == "DEMO-1"
    report = (await mallory.post(f"/api/cases/{env.other_id}/export/html")).text
    assert "Seen in other cases" in report and "DEMO-1" not in report
