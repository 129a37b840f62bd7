"""Log in and out, sessions, CSRF, API tokens, login rate limiting, one-time passwords."""

from __future__ import annotations

import re

import httpx
import pytest

from tantalio.store import audit as store_audit
from tantalio.store import auth as store_auth

from .conftest import PASSWORD, WebEnv, client_for, login

pytestmark = pytest.mark.anyio


def _actions(env: WebEnv) -> list[str]:
    with env.session() as db:
        return [e.action for e in reversed(store_audit.list_audit_events(db, limit=1000))]


async def test_nothing_but_login_is_served_anonymously(anon: httpx.AsyncClient) -> None:
    r = await anon.get("/audit")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    for path in ("/api/me", "/api/users", "/api/audit", "/api/openapi.json", "/api/tokens"):
        assert (await anon.get(path)).status_code == 401, path
    r = await anon.get("/login")
    assert r.status_code == 200 and 'name="password"' in r.text
    assert (await anon.get("/docs")).status_code == 404


async def test_form_login_sets_a_strict_httponly_cookie_and_audits(
    web_env: WebEnv, anon: httpx.AsyncClient
) -> None:
    page = await anon.get("/login?next=/audit")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    r = await anon.post(
        "/login",
        data={"username": "Otto", "password": PASSWORD, "csrf_token": token, "next": "/audit"},
    )
    assert r.status_code == 303 and r.headers["location"] == "/audit"
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith("tantalio_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    assert (await anon.get("/audit")).status_code == 200
    assert "login" in _actions(web_env)


async def test_form_login_without_its_csrf_token_is_refused(anon: httpx.AsyncClient) -> None:
    await anon.get("/login")
    r = await anon.post(
        "/login", data={"username": "otto", "password": PASSWORD, "csrf_token": "x"}
    )
    assert r.status_code == 403


async def test_session_cookie_is_secure_under_tls(web_env: WebEnv) -> None:
    transport = httpx.ASGITransport(app=web_env.app)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        r = await client.post("/api/login", json={"username": "otto", "password": PASSWORD})
        assert "Secure" in r.headers["set-cookie"]


async def test_failed_logins_are_audited_and_rate_limited(
    web_env: WebEnv, anon: httpx.AsyncClient
) -> None:
    for _ in range(3):  # the fixture allows 3 failures per user
        r = await anon.post("/api/login", json={"username": "erin", "password": "wrong password"})
        assert r.status_code == 401
    r = await anon.post("/api/login", json={"username": "erin", "password": PASSWORD})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    actions = _actions(web_env)
    assert actions.count("login.failed") == 3 and actions[-1] == "login.blocked"
    # other users are not locked out by erin's failures
    await login(anon, "otto")


async def test_unknown_and_disabled_users_cannot_log_in(
    web_env: WebEnv, anon: httpx.AsyncClient
) -> None:
    r = await anon.post("/api/login", json={"username": "nobody", "password": PASSWORD})
    assert r.status_code == 401
    with web_env.workspace.transaction() as db:
        store_auth.set_disabled(db, store_auth.get_user(db, "vicky"), True)  # type: ignore[arg-type]
    r = await anon.post("/api/login", json={"username": "vicky", "password": PASSWORD})
    assert r.status_code == 401


async def test_unsafe_requests_need_the_csrf_token(examiner: httpx.AsyncClient) -> None:
    token = examiner.headers.pop("X-CSRF-Token")
    r = await examiner.put("/api/me/viewing", json={"blur": 5, "grayscale": False})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    r = await examiner.put(
        "/api/me/viewing", json={"blur": 5, "grayscale": False}, headers={"X-CSRF-Token": token}
    )
    assert r.status_code == 200
    me = (await examiner.get("/api/me")).json()
    assert me["blur"] == 5 and me["grayscale"] is False


async def test_logout_ends_the_session(web_env: WebEnv, examiner: httpx.AsyncClient) -> None:
    assert (await examiner.post("/api/logout")).status_code == 200
    assert (await examiner.get("/api/me")).status_code == 401
    assert "logout" in _actions(web_env)


async def test_api_token_works_without_cookie_or_csrf_and_can_be_revoked(
    web_env: WebEnv, examiner: httpx.AsyncClient
) -> None:
    r = await examiner.post("/api/tokens", json={"name": "script"})
    assert r.status_code == 201
    token, token_id = r.json()["token"], r.json()["id"]
    assert token.startswith("tnt_")
    async with client_for(web_env) as script:
        headers = {"Authorization": f"Bearer {token}"}
        me = await script.get("/api/me", headers=headers)
        assert me.status_code == 200 and me.json()["username"] == "erin"
        r = await script.put(
            "/api/me/viewing", json={"blur": 3, "grayscale": True}, headers=headers
        )
        assert r.status_code == 200
        assert (await examiner.delete(f"/api/tokens/{token_id}")).status_code == 200
        assert (await script.get("/api/me", headers=headers)).status_code == 401
        bogus = {"Authorization": "Bearer tnt_00000000_nope"}
        assert (await script.get("/api/me", headers=bogus)).status_code == 401
    assert {"token.create", "token.revoke"} <= set(_actions(web_env))


async def test_one_time_password_must_be_changed_first(web_env: WebEnv) -> None:
    with web_env.workspace.transaction() as db:
        store_auth.create_user(
            db, "newbie", "one-time-secret", "examiner", must_change_password=True
        )
    async with client_for(web_env) as client:
        await login(client, "newbie", "one-time-secret")
        r = await client.get("/api/audit")
        assert r.status_code == 403 and "one-time" in r.json()["detail"]
        assert (await client.get("/settings")).headers["location"] == "/settings/password"
        r = await client.post(
            "/api/me/password",
            json={"current_password": "one-time-secret", "new_password": "short"},
        )
        assert r.status_code == 400
        r = await client.post(
            "/api/me/password",
            json={"current_password": "one-time-secret", "new_password": "a much longer secret"},
        )
        assert r.status_code == 200
        assert (await client.get("/api/me")).json()["must_change_password"] is False
    async with client_for(web_env) as client:
        await login(client, "newbie", "a much longer secret")


async def test_openapi_document_lists_the_api(examiner: httpx.AsyncClient) -> None:
    doc = (await examiner.get("/api/openapi.json")).json()
    assert doc["openapi"].startswith("3.")
    for path in ("/api/login", "/api/me", "/api/users", "/api/audit", "/api/tokens"):
        assert path in doc["paths"], path


async def test_security_headers(examiner: httpx.AsyncClient) -> None:
    r = await examiner.get("/settings")
    assert r.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"


async def test_expired_sessions_are_refused_and_forgotten(
    web_env: WebEnv, examiner: httpx.AsyncClient
) -> None:
    from datetime import timedelta

    from sqlalchemy import func, select, update

    with web_env.workspace.transaction() as db:
        db.execute(
            update(store_auth.WebSession).values(
                expires_at=store_auth.utcnow() - timedelta(seconds=1)
            )
        )
    assert (await examiner.get("/api/me")).status_code == 401
    async with client_for(web_env) as other:
        await login(other, "otto")
    with web_env.session() as db:
        assert db.scalar(select(func.count()).select_from(store_auth.WebSession)) == 1
