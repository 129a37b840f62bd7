"""User management: admin only (examiner → 403), auditor reads, every change audited."""

from __future__ import annotations

import httpx
import pytest

from tantalio.store import audit as store_audit

from .conftest import WebEnv, client_for, login

pytestmark = pytest.mark.anyio


async def test_admin_creates_a_user_with_a_one_time_password(
    web_env: WebEnv, admin: httpx.AsyncClient
) -> None:
    r = await admin.post(
        "/api/users", json={"username": "Ivy", "role": "vid", "display_name": "Ivy V."}
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["user"]["username"] == "ivy" and body["user"]["role"] == "victim-id"
    assert body["user"]["must_change_password"] is True
    async with client_for(web_env) as ivy:
        await login(ivy, "ivy", body["one_time_password"])
        assert (await ivy.get("/api/me")).json()["must_change_password"] is True
    with web_env.session() as db:
        event = store_audit.list_audit_events(db, action="user.create", limit=1)[0]
        assert event.username == "admin" and '"role":"victim-id"' in event.detail


async def test_examiner_cannot_manage_users(examiner: httpx.AsyncClient) -> None:
    assert (await examiner.get("/api/users")).status_code == 403
    r = await examiner.post("/api/users", json={"username": "x", "role": "admin"})
    assert r.status_code == 403
    r = await examiner.get("/admin/users")
    assert r.status_code == 403 and "may not" in r.text


async def test_auditor_reads_users_but_cannot_change_them(auditor: httpx.AsyncClient) -> None:
    r = await auditor.get("/api/users")
    assert r.status_code == 200 and {u["username"] for u in r.json()} >= {"admin", "erin", "otto"}
    assert (await auditor.patch("/api/users/1", json={"disabled": True})).status_code == 403


async def test_disabling_a_user_ends_their_session(
    web_env: WebEnv, admin: httpx.AsyncClient, examiner: httpx.AsyncClient
) -> None:
    users = {u["username"]: u["id"] for u in (await admin.get("/api/users")).json()}
    r = await admin.patch(f"/api/users/{users['erin']}", json={"disabled": True})
    assert r.status_code == 200 and r.json()["disabled"] is True
    assert (await examiner.get("/api/me")).status_code == 401
    r = await admin.patch(
        f"/api/users/{users['erin']}", json={"role": "auditor", "disabled": False}
    )
    assert r.json()["role"] == "auditor" and r.json()["disabled"] is False
    with web_env.session() as db:
        actions = [e.action for e in store_audit.list_audit_events(db, action="user.")]
    assert "user.disable" in actions and "user.enable" in actions


async def test_the_last_admin_cannot_be_disabled(admin: httpx.AsyncClient) -> None:
    me = (await admin.get("/api/me")).json()
    r = await admin.patch(f"/api/users/{me['id']}", json={"disabled": True})
    assert r.status_code == 400 and "last active admin" in r.json()["detail"]


async def test_users_page_form_flow(admin: httpx.AsyncClient) -> None:
    page = await admin.get("/admin/users")
    assert page.status_code == 200 and 'data-username="erin"' in page.text
    token = admin.headers["X-CSRF-Token"]
    r = await admin.post(
        "/admin/users",
        data={"username": "pat", "role": "examiner", "display_name": "", "csrf_token": token},
        headers={"X-CSRF-Token": ""},
    )
    assert r.status_code == 200 and "one-time-password" in r.text
    r = await admin.post(
        "/admin/users", data={"username": "pat2", "role": "examiner"}, headers={"X-CSRF-Token": ""}
    )
    assert r.status_code == 403
