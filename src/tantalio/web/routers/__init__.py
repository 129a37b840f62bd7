"""Routers of the web app, each a page group plus its JSON API; `app.py` includes them all."""

from __future__ import annotations

from tantalio.web.routers import audit, auth, home, settings, users

ROUTERS = [auth.router, home.router, users.router, settings.router, audit.router]
