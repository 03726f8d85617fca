"""``detector recluster``: the periodic reclustering, by hand."""

from __future__ import annotations

import json
from datetime import timedelta

import typer

from detector.settings import get_settings


def recluster(
    namespace: str = typer.Option(None, "--namespace", "-n", help="Content type; default: every namespace."),
    window_hours: int = typer.Option(None, "--window-hours", min=1, help="Default: DETECTOR_RECLUSTER_WINDOW_HOURS."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Regroup recent posts into clusters (stable ids; merges and splits recorded; snapshots taken)."""
    from detector.cli.runtime import ensure_schema
    from detector.db.session import session_scope
    from detector.deps import get_deps
    from detector.similarity.recluster import namespaces, recluster_and_alert
    from workers.tasks import dispatch_alerts

    settings = get_settings()
    ensure_schema(settings)
    model = get_deps().embedder.name
    with session_scope() as session:
        names = [namespace] if namespace else namespaces(session)
    results = []
    for name in names:
        with session_scope() as session:
            result, alert_ids = recluster_and_alert(
                session, name, settings, model, timedelta(hours=window_hours or settings.recluster_window_hours))
        dispatch_alerts(alert_ids)
        results.append({**result.as_dict(), "alerts": len(alert_ids)})
    for r in results:
        typer.echo(json.dumps(r) if as_json else
                   f"{r['namespace']}: {r['posts']:,} posts, {r['edges']:,} edges -> {r['groups']} clusters "
                   f"(kept {r['kept']}, new {r['created']}, merged {r['merged']}, split {r['split']}, "
                   f"dissolved {r['dissolved']}) in {r['seconds']} s; {r['alerts']} new alerts")
