"""Shared start-up for commands that touch the database."""

from __future__ import annotations

import typer
from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from detector.db import migrate
from detector.settings import Settings, redact_url


def ensure_schema(settings: Settings) -> None:
    """The embedded SQLite file migrates itself; a shared database must be migrated on purpose."""
    url = settings.effective_database_url
    if make_url(url).get_backend_name() == "sqlite":
        migrate.upgrade(url)
        return
    head = ScriptDirectory.from_config(migrate.alembic_config(url)).get_current_head()
    current = migrate.current_revision(url)
    if current != head:
        typer.echo(f"{redact_url(url)} is at {current or 'no revision'}, not {head}: "
                   "run `detector db upgrade` first", err=True)
        raise typer.Exit(2)
