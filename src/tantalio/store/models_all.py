"""Every model module of the workspace database, imported so `Base.metadata` is complete.

Alembic's env.py and `open_workspace` import this module. A team adding tables writes a
module under `tantalio.store` whose classes derive from `tantalio.store.base.Base`, lists it in
`MODEL_MODULES`, and adds an Alembic revision (see docs/decisions/store.md). Modules listed
but not written yet are skipped, so parallel work never breaks the import.
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData

from tantalio.store.base import Base

MODEL_MODULES = (
    "tantalio.store.hashsets",
    "tantalio.store.media",
    "tantalio.store.cases",
    "tantalio.store.series",
    "tantalio.store.auth",  # web app: users, audit events
    "tantalio.store.chats",  # chats: accounts, groups, messages, artifacts
    "tantalio.store.access",  # web app: case membership, the workspace's agency
    "tantalio.store.subscriptions",  # signed list subscriptions, case notices
    "tantalio.store.scores",  # classifier scores of media
)


def load_models() -> MetaData:
    """Import every existing model module; return the one metadata they share."""
    for name in MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return Base.metadata


metadata = load_models()
