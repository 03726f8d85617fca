"""``detector metrics``: online precision, recall and caught share per path, from moderators' decisions.

``detector metrics [--span 7d] [--json]`` prints the figures now; ``--history`` prints the stored
snapshots of that window instead; ``detector metrics snapshot`` stores this hour's snapshot (what the
hourly beat task does).
"""

from __future__ import annotations

import json

import typer

from detector.settings import get_settings

app = typer.Typer(help="Online metrics per path from moderators' decisions; snapshots over time.",
                  invoke_without_command=True)
SPAN_HELP = "Window: 1d, 7d, 30d or all (flags raised and accounts sanctioned in it)."


def _check_span(span: str) -> str:
    from detector.metrics.service import SPANS

    if span not in SPANS:
        raise typer.BadParameter(f"one of {', '.join(SPANS)}", param_hint="--span")
    return span


def _fmt(m: dict) -> str:
    if m["value"] is None:
        return "n/a (n=0)"
    return f"{m['value']:.3f} [{m['low']:.3f}, {m['high']:.3f}] n={m['n']}"


def _print_rows(rows: list[dict]) -> None:
    typer.echo(f"{'path':<16} {'type':<12} each figure: share [95 % Wilson interval] n=sample size")
    for r in rows:
        name = r["path"] + (f"@{r['prompt_version']}" if r["prompt_version_id"] is not None else "")
        typer.echo(f"{name:<16} {r['content_type']:<12} precision {_fmt(r['precision']):<30} "
                   f"recall {_fmt(r['recall']):<30} caught {_fmt(r['caught'])}")
        if "sanctioned" in r:
            s = r["sanctioned"]
            typer.echo(f"{'':<29} sanctioned {s['total']}: flagged by a path {s['flagged_by_a_path']}, "
                       f"only by reports/audit {s['only_reports_or_audit']}, otherwise {s['found_otherwise']}")


@app.callback()
def metrics(ctx: typer.Context, span: str = typer.Option("all", "--span", callback=_check_span, help=SPAN_HELP),
            history: bool = typer.Option(False, "--history", help="Stored snapshots of this window, oldest "
                                         "first."),
            as_json: bool = typer.Option(False, "--json", help="Rows as JSON (one list).")) -> None:
    """Per path, content type and prompt version: precision, recall and caught share with 95 % intervals."""
    if ctx.invoked_subcommand is not None:
        return
    from detector.cli.runtime import ensure_schema
    from detector.db.session import session_scope
    from detector.metrics.service import compute
    from detector.metrics.snapshots import history as stored

    ensure_schema(get_settings())
    with session_scope() as session:
        rows = stored(session, span=span) if history else compute(session, span=span)
    if as_json:
        typer.echo(json.dumps(rows, default=str))
    elif history:
        for r in rows:
            typer.echo(f"{r['bucket']:%Y-%m-%d %H:00} {r['path']:<11} {r['content_type']:<12} "
                       f"precision {_fmt(r['precision']):<30} recall {_fmt(r['recall'])}")
    elif rows:
        _print_rows(rows)
    else:
        typer.echo("nothing flagged and no account sanctioned in this window")


@app.command("snapshot")
def snapshot(as_json: bool = typer.Option(False, "--json")) -> None:
    """Store this hour's figures for every window (a second run in the same hour stores nothing)."""
    from detector.cli.runtime import ensure_schema
    from detector.db.session import session_scope
    from detector.metrics.snapshots import take_snapshot

    ensure_schema(get_settings())
    with session_scope() as session:
        stored = take_snapshot(session)
    typer.echo(json.dumps({"stored": stored}) if as_json else f"stored {stored} snapshot rows")
