"""Routers of the web app, each a page group plus its JSON API; `app.py` includes them all."""

from __future__ import annotations

from tantalio.web.routers import (
    audit,
    auth,
    cases,
    exports,
    home,
    media,
    members,
    network,
    notices,
    query,
    series,
    settings,
    triage,
    users,
)

ROUTERS = [
    auth.router,
    home.router,
    cases.router,
    members.router,
    notices.router,
    triage.router,
    media.router,
    series.router,
    query.router,
    exports.router,
    network.router,
    users.router,
    settings.router,
    audit.router,
]
