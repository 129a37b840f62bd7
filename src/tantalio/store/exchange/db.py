"""Open the exchange database and bring its schema up to date (Alembic, applied on open)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from tantalio.store.platform.db import make_engine

MIGRATIONS = Path(__file__).with_name("migrations")
DEFAULT_URL = "sqlite:///tantalio-exchange.db"

__all__ = ["DEFAULT_URL", "alembic_config", "make_engine", "upgrade"]


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Apply every pending migration; safe to call on every start."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
