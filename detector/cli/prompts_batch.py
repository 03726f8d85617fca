"""``detector prompts backfill | batches | cancel-batch``: the backfill, online or through the Batch API.

Thin adapters over ``detector.llm.classify.backfill`` and ``detector.llm.batch``/``batch_ingest``;
registered on the ``detector prompts`` group by ``register``. Same exit codes as the group.
"""

from __future__ import annotations

import json

import typer

from detector.cli.runtime import ensure_schema
from detector.db.session import session_scope
from detector.llm.client import LLMError
from detector.settings import get_settings


def register(app: typer.Typer) -> None:
    app.command()(backfill)
    app.command()(batches)
    app.command("cancel-batch")(cancel_batch)


def _helpers():
    from detector.cli import prompts

    return prompts


def backfill(
    content_type: str = typer.Option(None, "--content-type", "-t", help="Only posts of this content type."),
    limit: int = typer.Option(None, "--limit", min=1, help="At most N posts per active version."),
    batch: bool = typer.Option(None, "--batch/--online", help="Batch API or online calls; default "
                               "DETECTOR_LLM_BACKFILL_MODE."),
    base_url: str = typer.Option(None, "--base-url", help="OpenAI-compatible endpoint; default DETECTOR_LLM_BASE_URL."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Classify the posts the active versions have not judged (now, or in a batch at half the price)."""
    cli, settings = _helpers(), get_settings()
    client = cli._client(base_url)
    ensure_schema(settings)
    use_batch = settings.llm_backfill_mode == "batch" if batch is None else batch
    try:
        if use_batch:
            from detector.llm.batch import submit

            subs = submit(session_scope, client, content_type=content_type, limit=limit,
                          max_requests=settings.llm_batch_max_requests)
            out = {"mode": "batch", "batches": [s.as_dict() for s in subs if s.batch_id is not None],
                   "cached": sum(s.cached for s in subs)}
        else:
            from detector.llm.classify import backfill as online

            with session_scope() as session:
                outcome = online(session, client, content_type=content_type, limit=limit or 200)
                out = {"mode": "online", "classified": len(outcome.detections),
                       "error": str(outcome.error) if outcome.error else None}
    except LLMError as err:
        raise cli._fail(f"backfill stopped: {err}", cli._exit_code(err)) from err
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
    elif use_batch:
        for s in out["batches"]:
            typer.echo(f"batch {s['batch_id']} ({s['provider_batch_id']}): {s['requests']} requests for {s['posts']} "
                       f"{s['content_type']} posts; follow it with `detector prompts batches --poll`")
        typer.echo(f"{len(out['batches'])} batch(es) submitted; {out['cached']} posts answered from the cache")
    else:
        typer.echo(f"{out['classified']} posts classified" + (f"; stopped: {out['error']}" if out["error"] else ""))
    if out.get("error"):
        raise typer.Exit(3)


def batches(
    poll: bool = typer.Option(False, "--poll", help="Ask the provider first and ingest batches that ended."),
    limit: int = typer.Option(50, "--limit", min=1, help="Show the latest N batches."),
    base_url: str = typer.Option(None, "--base-url", help="OpenAI-compatible endpoint; default DETECTOR_LLM_BASE_URL."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line."),
) -> None:
    """Batch API submissions, newest first (``--poll`` updates them first, as the beat task does)."""
    from detector.llm.batch import list_batches

    cli, settings = _helpers(), get_settings()
    ensure_schema(settings)
    if poll:
        from detector.llm.batch_ingest import poll as do_poll

        for result in do_poll(session_scope, cli._client(base_url), discount=settings.llm_batch_discount):
            if result.error and not as_json:
                typer.echo(f"batch {result.batch_id}: {result.status}: {result.error}", err=True)
    with session_scope() as session:
        rows = list_batches(session, limit=limit)
    for b in rows:
        counts = b["counts"]
        typer.echo(json.dumps(b, ensure_ascii=False) if as_json else
                   f"{b['id']:>5}  {b['status']:<11} {b['content_type']}/{b['prompt_version_id']}  {b['requests']} "
                   f"requests  {b['provider_batch_id'] or '-'}  {b['created_at'][:16]}" +
                   (f"  ok {counts.get('ok', 0)} refused {counts.get('refused', 0)} invalid {counts.get('invalid', 0)}"
                    f" failed {counts.get('failed', 0)} ${counts.get('cost_usd', 0):.4f}" if counts else "") +
                   (f"\n       {b['error']}" if b["error"] else ""))
    if not rows and not as_json:
        typer.echo("no batches yet: `detector prompts backfill --batch`")


def cancel_batch(
    batch_id: int = typer.Argument(..., help="The batch's id (first column of `detector prompts batches`)."),
    base_url: str = typer.Option(None, "--base-url", help="OpenAI-compatible endpoint; default DETECTOR_LLM_BASE_URL."),
) -> None:
    """Stop a batch; what it answered is still ingested at the next poll, the rest returns to the backfill."""
    from detector.llm.batch import cancel

    cli = _helpers()
    client = cli._client(base_url)
    ensure_schema(get_settings())
    try:
        status = cancel(session_scope, client, batch_id)
    except (LookupError, ValueError) as err:
        raise cli._fail(str(err), 2) from err
    except LLMError as err:
        raise cli._fail(f"cancel failed: {err}", cli._exit_code(err)) from err
    typer.echo(f"batch {batch_id}: {status}")
