"""Every model module of the workspace database, imported so `Base.metadata` is complete.

Alembic's env.py and `open_workspace` import this module. A team adding tables writes a
module under `tantalio.store` whose classes derive from `tantalio.store.base.Base`, lists it in
`MODEL_MODULES`, and adds an Alembic revision (see docs/decisions/store.md). A listed module
that cannot be imported raises `tantalio.listed.RegistryError`: a missing model module would
otherwise drop its tables from migrations without a word.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import MetaData

from tantalio.listed import import_listed
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
    "tantalio.store.exchange_ws",  # the central exchange's answers, sync state, series links
    "tantalio.store.uploads",  # reported uploads from law-enforcement report packages
)


def load_models(names: Iterable[str] = MODEL_MODULES) -> MetaData:
    """Import every model module; return the one metadata they share."""
    import_listed("tantalio.store.models_all.MODEL_MODULES", names)
    return Base.metadata


metadata = load_models()
