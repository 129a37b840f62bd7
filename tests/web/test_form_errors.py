"""Inline form errors (issue 16): every form of the web app answers a refused input with its
own page — the message next to the field it concerns, what the user typed kept (never a
password), a 4xx status — instead of a bare error page."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from tantalio.store.workspace import Workspace
from tantalio.web.app import WebSettings, create_app

from .conftest import PASSWORD, WebEnv, client_for, login

pytestmark = pytest.mark.anyio


def field(html: str, name: str) -> str:
    """The <label> holding the input or select named `name`."""
    for label in re.findall(r"<label\b.*?</label>", html, flags=re.S):
        if f'name="{name}"' in label:
            return str(label)
    raise AssertionError(f"no field {name!r} in the page")


def refused(html: str, name: str, message: str, value: str | None = None) -> None:
    """The field carries the message beside it (linked for screen readers) and the value."""
    label = field(html, name)
    assert f'id="{name}-error"' in label and message in label, label
    assert f'aria-describedby="{name}-error"' in label and 'aria-invalid="true"' in label
    if value is not None:
        assert f'value="{value}"' in label or "selected" in label, label
    assert "<h1>Error" not in html


def form(client: httpx.AsyncClient, **fields: str) -> dict[str, str]:
    return {"csrf_token": client.headers["X-CSRF-Token"], **fields}


@pytest.fixture
def app_with_evidence(workspace: Workspace, tmp_path: Path) -> WebEnv:
    (tmp_path / "evidence" / "phone").mkdir(parents=True)
    settings = WebSettings(evidence_roots=[tmp_path / "evidence"])
    return WebEnv(workspace, create_app(workspace, settings))


async def test_login_keeps_the_username_never_the_password(anon: httpx.AsyncClient) -> None:
    page = await anon.get("/login")
    token = anon.cookies.get("tantalio_login_csrf") or re.search(
        r'name="csrf_token" value="([^"]+)"', page.text
    ).group(1)  # type: ignore[union-attr]
    r = await anon.post(
        "/login",
        data={"username": "erin", "password": "not her password", "csrf_token": token},
    )
    assert r.status_code == 401, r.text
    refused(r.text, "password", "wrong username or password")
    assert 'value="erin"' in field(r.text, "username")
    assert "not her password" not in r.text


async def test_case_create_and_ingest_forms(app_with_evidence: WebEnv, tmp_path: Path) -> None:
    async with client_for(app_with_evidence) as erin:
        await login(erin, "erin")
        r = await erin.post("/cases", data=form(erin, reference="OP-1", title="first"))
        assert r.status_code == 303
        case_url = r.headers["location"]
        r = await erin.post("/cases", data=form(erin, reference="OP-1", title="again"))
        assert r.status_code == 409
        refused(r.text, "reference", "exists already", "OP-1")
        assert 'value="again"' in field(r.text, "title")
        r = await erin.post("/cases", data=form(erin, reference="   ", title="blank"))
        assert r.status_code == 422
        refused(r.text, "reference", "needs a reference")

        ingest = f"{case_url}/ingest"
        for source, status, message in (
            ("/etc", 403, "outside the evidence folders"),
            (str(tmp_path / "evidence" / "phone" / "missing"), 400, "no such file"),
        ):
            r = await erin.post(ingest, data=form(erin, source=source, exhibit="phone-1"))
            assert r.status_code == status, r.text
            refused(r.text, "source", message, source)
            assert 'value="phone-1"' in field(r.text, "exhibit")
            assert 'id="ingest-progress"' in r.text  # the case page itself, not an error page


async def test_add_user_form(admin: httpx.AsyncClient) -> None:
    r = await admin.post(
        "/admin/users", data=form(admin, username="bad name!", role="examiner", display_name="Pat")
    )
    assert r.status_code == 400
    refused(r.text, "username", "invalid username", "bad name!")
    assert 'value="Pat"' in field(r.text, "display_name")
    assert re.search(
        r"<option value=\"examiner\" selected>examiner</option>", field(r.text, "role")
    )
    r = await admin.post("/admin/users", data=form(admin, username="erin", role="auditor"))
    assert r.status_code == 400
    refused(r.text, "username", "already exists", "erin")
    r = await admin.post("/admin/users", data=form(admin, username="newbie", role="wizard"))
    assert r.status_code == 400
    refused(r.text, "role", "role")


async def test_settings_forms(examiner: httpx.AsyncClient) -> None:
    r = await examiner.post("/settings/tokens", data=form(examiner, name="   "))
    assert r.status_code == 422
    refused(r.text, "name", "name the token")
    r = await examiner.post("/settings/viewing", data=form(examiner, blur="lots"))
    assert r.status_code == 422
    refused(r.text, "blur", "whole number")
    r = await examiner.post("/settings/viewing", data=form(examiner, blur="99"))
    assert r.status_code == 422
    refused(r.text, "blur", "40")
    r = await examiner.post("/settings/language", data=form(examiner, locale="klingon"))
    assert r.status_code == 422
    refused(r.text, "locale", "language must be one of")


async def test_password_form(examiner: httpx.AsyncClient) -> None:
    url = "/settings/password"
    r = await examiner.post(
        url,
        data=form(
            examiner,
            current_password=PASSWORD,
            new_password="a new one 123",
            confirm_password="another one 123",
        ),
    )
    assert r.status_code == 400
    refused(r.text, "confirm_password", "differ")
    r = await examiner.post(
        url,
        data=form(
            examiner,
            current_password="wrong password",
            new_password="a new one 123",
            confirm_password="a new one 123",
        ),
    )
    assert r.status_code == 400
    refused(r.text, "current_password", "current password is wrong")
    assert "wrong password" not in r.text.replace("current password is wrong", "")


async def test_query_and_members_forms(
    examiner: httpx.AsyncClient, admin: httpx.AsyncClient
) -> None:
    r = await examiner.post("/query", data=form(examiner, hash="not-a-hash"))
    assert r.status_code == 422
    refused(r.text, "hash", "paste a hash as hexadecimal digits", "not-a-hash")
    r = await examiner.post("/query", data=form(examiner, hash=""))
    assert r.status_code == 422
    refused(r.text, "hash", "choose a file or paste a hash")
    r = await admin.post("/api/cases", json={"reference": "OP-M"})
    case_id = r.json()["id"]
    r = await admin.post(
        f"/cases/{case_id}/members", data=form(admin, username="otto", action="grant")
    )
    assert r.status_code == 422, r.text
    refused(r.text, "username", "auditor")


async def test_add_user_defaults_to_the_least_powerful_role(admin: httpx.AsyncClient) -> None:
    """Issue 16: the "Add a user" form preselects auditor, not admin."""
    page = await admin.get("/admin/users")
    assert re.findall(
        r"<option value=\"[\w-]+\" selected>(\w[\w-]*)</option>", field(page.text, "role")
    ) == ["auditor"]
