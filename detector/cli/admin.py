"""``detector admin``: start the moderators' Streamlit UI, and make password hashes for its accounts.

The UI is a separate process (Streamlit owns its event loop), so ``run`` replaces this process with
``streamlit run admin_ui/app.py``: signals and exit codes then reach Streamlit directly.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import typer

app = typer.Typer(help="Admin UI: start it, or hash a password for DETECTOR_ADMIN_USERS.",
                  invoke_without_command=True)


def app_path() -> Path:
    """Where ``admin_ui/app.py`` is, in a checkout or an installed package."""
    spec = importlib.util.find_spec("admin_ui")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the admin_ui package is not installed")
    return Path(list(spec.submodule_search_locations)[0]) / "app.py"


def streamlit_argv(host: str, port: int) -> list[str]:
    """The command line that serves the UI (headless, no usage statistics sent anywhere)."""
    return [sys.executable, "-m", "streamlit", "run", str(app_path()), "--server.headless=true",
            f"--server.address={host}", f"--server.port={port}", "--browser.gatherUsageStats=false",
            "--client.toolbarMode=minimal"]  # no "Deploy" button in moderators' faces


@app.callback()
def _default(ctx: typer.Context) -> None:
    """Without a sub-command, ``detector admin`` runs the UI on 127.0.0.1:8501."""
    if ctx.invoked_subcommand is None:
        run(host="127.0.0.1", port=8501)


@app.command()
def run(host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
        port: int = typer.Option(8501, "--port", help="Port to listen on.")) -> None:
    """Serve the admin UI (needs the ``admin`` extra: pip install 'sellerwatch[admin]')."""
    if importlib.util.find_spec("streamlit") is None:
        typer.echo("streamlit is not installed: pip install 'sellerwatch[admin]'", err=True)
        raise typer.Exit(2)
    from detector.cli.runtime import ensure_schema
    from detector.settings import get_settings

    settings = get_settings()
    if not settings.admin_users and not settings.admin_oidc:
        typer.echo("warning: no accounts in DETECTOR_ADMIN_USERS and DETECTOR_ADMIN_OIDC is off: "
                   "nobody can log in (make a hash with `detector admin hash-password`)", err=True)
    ensure_schema(settings)
    argv = streamlit_argv(host, port)
    typer.echo(f"admin UI on http://{host}:{port}", err=True)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execvp(argv[0], argv)


@app.command("hash-password")
def hash_password_cmd() -> None:
    """Ask for a password twice (hidden) and print its scrypt hash for DETECTOR_ADMIN_USERS."""
    from detector.auth import hash_password

    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 8:
        typer.echo("use at least 8 characters", err=True)
        raise typer.Exit(2)
    typer.echo(hash_password(password))


if __name__ == "__main__":  # ``python -m detector.cli.admin`` (the browser test starts the UI this way)
    app()
