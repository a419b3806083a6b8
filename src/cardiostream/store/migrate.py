"""Alembic integration: the migration scripts ship inside the package (``store/migrations``).

Developers add a revision after changing :mod:`cardiostream.store.models` with::

    from alembic import command
    from cardiostream.store.migrate import alembic_config
    command.revision(alembic_config(url="sqlite:///dev.db"), "what changed", autogenerate=True)

(against a database already at ``head``), then review the generated file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

from .models import Base

__all__ = ["MIGRATIONS_DIR", "alembic_config", "current_revision", "head_revision", "schema_diff"]

#: Folder of ``env.py`` and ``versions/``.
MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")


def alembic_config(connection: Connection | None = None, url: str | None = None) -> Config:
    """An Alembic :class:`~alembic.config.Config` for the packaged scripts, bound to a shared
    ``connection`` (preferred) or to ``url``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(connection: Connection, revision: str = "head") -> None:
    """``alembic upgrade <revision>`` on ``connection`` (inside the caller's transaction)."""
    command.upgrade(alembic_config(connection), revision)


def downgrade(connection: Connection, revision: str) -> None:
    """``alembic downgrade <revision>`` on ``connection``."""
    command.downgrade(alembic_config(connection), revision)


def head_revision() -> str | None:
    """The newest revision of the packaged scripts."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at (None: never migrated)."""
    return MigrationContext.configure(connection).get_current_revision()


def schema_diff(connection: Connection) -> list[Any]:
    """Differences between the database and the models (Alembic autogenerate's
    ``compare_metadata``, types included); empty when the schema matches."""
    ctx = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(ctx, Base.metadata))
