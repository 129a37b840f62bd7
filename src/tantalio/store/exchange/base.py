"""The exchange's own declarative base.

The central exchange (issue #11) keeps its own database, apart from case workspaces and from
the platform service: it holds hash-only records of many agencies and never a workspace's
case content. A separate `MetaData` keeps its schema and Alembic history apart.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from tantalio.store.base import NAMING_CONVENTION
from tantalio.store.platform.base import BigId, now, utc

__all__ = ["BigId", "ExchangeBase", "now", "utc"]


class ExchangeBase(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
