"""``detector ingest``: stream a JSONL file of posts into the store."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

from detector.db.session import session_scope
from detector.posts.ingest import ingest_lines, iter_lines
from detector.settings import CONTENT_TYPE_RE, get_settings


def ingest(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True, help="JSONL, one post a line."),
    content_type: str = typer.Option(None, "--content-type", help="Namespace for posts that name none."),
    as_json: bool = typer.Option(False, "--json", help='Print {"accepted", "duplicates", "rejected"} as JSON.'),
) -> None:
    """Ingest posts; bad lines are rejected with a stored reason, the rest go on."""
    from detector.cli.runtime import ensure_schema
    from workers.tasks import dispatch_processing

    if content_type is not None and not CONTENT_TYPE_RE.match(content_type):
        raise typer.BadParameter("lowercase letters, digits, '_' or '-' (max 64)", param_hint="--content-type")
    settings = get_settings()
    ensure_schema(settings)
    source = f"file:{file.resolve()}"
    console = Console(stderr=True)
    with file.open("rb") as stream, Progress(
        TextColumn("ingest"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
        TextColumn("{task.fields[counts]}"), console=console, disable=not console.is_terminal and as_json,
    ) as progress:
        bar = progress.add_task("ingest", total=file.stat().st_size, counts="")

        def on_batch(batch, read):
            dispatch_processing(batch.new_post_ids)
            progress.update(bar, completed=read, counts=f"+{batch.accepted} new")

        counts = ingest_lines(iter_lines(stream), settings=settings, session_factory=session_scope,
                              source=source, content_type=content_type, on_batch=on_batch)
    if as_json:
        typer.echo(json.dumps(counts.as_dict()))
    else:
        typer.echo(f"accepted {counts.accepted:,}, duplicates {counts.duplicates:,}, "
                   f"rejected {counts.rejected:,}" + ("  (see `detector rejected`)" if counts.rejected else ""))
    sys.stdout.flush()
