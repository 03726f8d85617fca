"""``detector slack``: the interactive endpoint for the alert buttons, and a delivery check.

Secrets come from settings or the environment, never from the command line (where ``ps`` shows
them): ``DETECTOR_SLACK_BOT_TOKEN``, ``DETECTOR_SLACK_SIGNING_SECRET``, ``DETECTOR_SLACK_CHANNEL``
and, for Socket Mode, ``DETECTOR_SLACK_APP_TOKEN``.
"""

from __future__ import annotations

from functools import partial

import typer

from detector.settings import get_settings

app = typer.Typer(no_args_is_help=True, help="Slack: the alert buttons' endpoint and a test message.")

API_URL = typer.Option(None, "--api-url", hidden=True,
                       help="Slack Web API base URL; default DETECTOR_SLACK_API_URL (tests point it at a fake).")


def _require(value, name: str) -> str:
    secret = value.get_secret_value() if hasattr(value, "get_secret_value") else value
    if not secret:
        typer.echo(f"{name} is not set", err=True)
        raise typer.Exit(2)
    return secret


@app.command()
def serve(host: str = typer.Option("127.0.0.1", "--host"), port: int = typer.Option(3000, "--port"),
          socket_mode: bool = typer.Option(False, "--socket-mode", help="Connect out to Slack instead of "
                                           "listening (needs DETECTOR_SLACK_APP_TOKEN, no public URL)."),
          api_url: str | None = API_URL) -> None:
    """Answer the alert buttons: HTTP on --host/--port at /slack/events, or Socket Mode."""
    from detector.alerts.slack_actions import build_slack_app, serve_http, serve_socket_mode
    from detector.alerts.slack_sink import make_client
    from detector.cli.runtime import ensure_schema
    from detector.db.session import session_scope

    settings = get_settings()
    token = _require(settings.slack_bot_token, "DETECTOR_SLACK_BOT_TOKEN")
    app_token = None
    if socket_mode:
        app_token = _require(settings.slack_app_token, "DETECTOR_SLACK_APP_TOKEN")
    secret = _require(settings.slack_signing_secret, "DETECTOR_SLACK_SIGNING_SECRET")
    ensure_schema(settings)
    bolt = build_slack_app(signing_secret=secret, client=make_client(token, base_url=api_url or settings.slack_api_url),
                           session_factory=partial(session_scope, settings.effective_database_url),
                           admin_base_url=settings.admin_base_url, allowlist_days=settings.allowlist_days)
    if app_token:
        serve_socket_mode(bolt, app_token)
    else:
        serve_http(bolt, host, port)


@app.command("test-message")
def test_message(api_url: str | None = API_URL) -> None:
    """Post a test message to the configured channel (exit 3 if Slack refuses or is unreachable)."""
    from detector.alerts.slack_sink import SlackError, SlackSink, make_client

    settings = get_settings()
    token = _require(settings.slack_bot_token, "DETECTOR_SLACK_BOT_TOKEN")
    channel = _require(settings.slack_channel, "DETECTOR_SLACK_CHANNEL")
    text = "sellerwatch test message: alerts will arrive in this channel."
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f":white_check_mark: {text}"}}]
    try:
        ts = SlackSink(make_client(token, base_url=api_url or settings.slack_api_url), channel).post(None, blocks, text)
    except SlackError as err:
        typer.echo(f"Slack did not take the message: {err}", err=True)
        raise typer.Exit(3) from None
    typer.echo(f"posted to {channel} (ts {ts})")
