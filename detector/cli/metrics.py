"""``detector metrics``: precision and recall per path from moderators' decisions."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import typer

from detector.settings import get_settings


def metrics(days: int = typer.Option(None, "--days", min=1, help="Only decisions of the last N days."),
            as_json: bool = typer.Option(False, "--json")) -> None:
    """Per path and content type: precision (confirmed / decided) and recall (of sanctioned accounts)."""
    from detector.cli.runtime import ensure_schema
    from detector.db.session import session_scope
    from detector.metrics.service import compute

    ensure_schema(get_settings())
    since = datetime.now(timezone.utc) - timedelta(days=days) if days else None
    with session_scope() as session:
        rows = compute(session, since=since)
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for r in rows:
        p, rc = r["precision"], r["recall"]
        fmt = (lambda m: "n/a" if m["value"] is None else f"{m['value']:.3f} [{m['low']:.3f}, {m['high']:.3f}] n={m['n']}")
        typer.echo(f"{r['path']:<11} {r['content_type']:<14} precision {fmt(p)}   recall {fmt(rc)}")
