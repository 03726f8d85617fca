"""``detector db``: schema migrations."""

from __future__ import annotations

import typer

from detector.db import migrate
from detector.settings import get_settings, redact_url

app = typer.Typer(no_args_is_help=True, help="Database schema migrations (Alembic).")


@app.command()
def upgrade(revision: str = typer.Argument("head")) -> None:
    """Migrate the configured database up to REVISION (default: the latest)."""
    url = get_settings().effective_database_url
    migrate.upgrade(url, revision)
    typer.echo(f"{redact_url(url)} is at {migrate.current_revision(url)}")


@app.command()
def downgrade(revision: str) -> None:
    """Migrate down to REVISION ('base' empties the database)."""
    url = get_settings().effective_database_url
    migrate.downgrade(url, revision)
    typer.echo(f"{redact_url(url)} is at {migrate.current_revision(url)}")


@app.command()
def check() -> None:
    """Fail if the models and the migrated schema differ."""
    migrate.check(get_settings().effective_database_url)
    typer.echo("schema matches the models")


@app.command()
def current() -> None:
    """Print the database's revision."""
    typer.echo(migrate.current_revision(get_settings().effective_database_url) or "(empty)")
