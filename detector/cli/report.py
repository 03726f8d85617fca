"""``detector report POST_ID``: a user's report of a post, queued for moderators' review.

The same domain function as the ``detector.report_post`` task: one report per (post, reporter), so
running the command twice stores one item.
"""

from __future__ import annotations

import getpass
import json

import typer

from detector.settings import get_settings


def report(post_id: str = typer.Argument(..., help="The marketplace's id of the post (as ingested)."),
           content_type: str = typer.Option(None, "--content-type", help="Namespace of the post (default: the "
                                            "configured default content type)."),
           reason: str = typer.Option("", "--reason", help="What the reporter saw."),
           reporter: str = typer.Option(None, "--reporter", help="Who reports it (default: cli:<login name>)."),
           as_json: bool = typer.Option(False, "--json")) -> None:
    """Report a post as a likely professional seller: it goes to the review queue (path "report")."""
    from detector.cli.runtime import ensure_schema
    from detector.db.session import session_scope
    from detector.review.reports import ReportError, parse_report, report_post

    settings = get_settings()
    payload = {"post_id": post_id, "content_type": content_type, "reason": reason,
               "reporter": reporter or f"cli:{getpass.getuser()}"}
    try:
        parsed = parse_report(payload, default_content_type=settings.default_content_type)
    except ReportError as err:
        typer.echo(f"report refused: {err}", err=True)
        raise typer.Exit(2) from None
    ensure_schema(settings)
    try:
        with session_scope() as session:
            detection_id, created = report_post(session, parsed)
    except ReportError as err:
        typer.echo(f"report refused: {err}", err=True)
        raise typer.Exit(1) from None
    result = {"status": "queued" if created else "duplicate", "detection_id": detection_id}
    typer.echo(json.dumps(result) if as_json else
               f"report #{detection_id} {'queued for review' if created else 'was already queued'}")
