"""Operational commands: workers, beat, status, rejected inputs, configuration, demo."""

from __future__ import annotations

import json

import typer
from sqlalchemy import func, select

from detector.settings import get_settings


def worker(
    queues: str = typer.Option(",".join(("ingest", "embed", "cluster", "llm", "alerts", "maintenance")),
                               "--queues", "-Q", help="Comma-separated queues to consume."),
    concurrency: int = typer.Option(1, "--concurrency", "-c", min=1, help="Worker processes."),
    pool: str = typer.Option("prefork", "--pool", help="prefork, solo or threads."),
    loglevel: str = typer.Option("INFO", "--loglevel", "-l"),
) -> None:
    """Start a Celery worker on the configured broker."""
    settings = get_settings()
    if settings.tasks_run_inline:
        typer.echo("The embedded default (DETECTOR_BROKER_URL=memory://) runs tasks inside the command that "
                   "sends them; no worker is needed. Set DETECTOR_BROKER_URL=redis://... or amqp://... "
                   "to run separate workers.", err=True)
        raise typer.Exit(2)
    from workers.celery_app import app

    app.worker_main(["worker", "-Q", queues, "-c", str(concurrency), "-P", pool, "-l", loglevel,
                     "--without-gossip", "--without-mingle"])


def beat(loglevel: str = typer.Option("INFO", "--loglevel", "-l")) -> None:
    """Start the periodic-job scheduler. Run exactly one per deployment."""
    if get_settings().tasks_run_inline:
        typer.echo("beat needs a broker: set DETECTOR_BROKER_URL.", err=True)
        raise typer.Exit(2)
    from workers.celery_app import app

    app.start(["beat", "-l", loglevel, "-s", str(get_settings().data_dir / "celerybeat-schedule")])


def status(as_json: bool = typer.Option(False, "--json")) -> None:
    """Counts of posts by content type and pipeline state, and of rejected inputs by reason."""
    from detector.cli.runtime import ensure_schema
    from detector.db.session import session_scope
    from detector.posts.models import Post, RejectedInput

    ensure_schema(get_settings())
    with session_scope() as session:
        posts = session.execute(select(Post.content_type, Post.status, func.count())
                                .group_by(Post.content_type, Post.status)).all()
        rejected = session.execute(select(RejectedInput.reason_code, func.count())
                                   .group_by(RejectedInput.reason_code)).all()
    out = {"posts": [{"content_type": c, "status": s, "count": n} for c, s, n in posts],
           "rejected": {code: n for code, n in rejected}}
    if as_json:
        typer.echo(json.dumps(out))
        return
    for row in out["posts"]:
        typer.echo(f"{row['content_type']:<20} {row['status']:<10} {row['count']:>10,}")
    for code, n in out["rejected"].items():
        typer.echo(f"rejected {code:<20} {n:>10,}")


def rejected(limit: int = typer.Option(20, min=1, max=10_000), as_json: bool = typer.Option(False, "--json")) -> None:
    """The newest rejected inputs, with their reasons."""
    from detector.cli.runtime import ensure_schema
    from detector.db.session import session_scope
    from detector.posts.models import RejectedInput

    ensure_schema(get_settings())
    with session_scope() as session:
        rows = session.scalars(select(RejectedInput).order_by(RejectedInput.id.desc()).limit(limit)).all()
        items = [{"source": r.source, "line": r.line_no, "code": r.reason_code, "reason": r.reason,
                  "external_id": r.external_id} for r in rows]
    for item in items:
        typer.echo(json.dumps(item, ensure_ascii=False) if as_json else
                   f"{item['source']}:{item['line'] or '-'}  [{item['code']}] {item['reason']}")


def config() -> None:
    """Print the effective settings, secrets masked."""
    typer.echo(json.dumps(get_settings().redacted(), indent=2, default=str))


def demo(
    data_dir: str = typer.Option(None, help="Where the demo keeps its database (default: <data_dir>/demo)."),
    seed: int = typer.Option(7, help="Seed of the sample stream."),
) -> None:
    """Run the whole pipeline on a bundled sample stream, offline, and print what it found."""
    from detector.demo.run import run_demo

    run_demo(data_dir=data_dir, seed=seed, echo=typer.echo)
