"""``detector eval``: precision and recall of one detection path on labelled JSONL, offline.

Runs the production code path on a fresh temporary store (never the configured database or index);
see :mod:`detector.evaluation.paths`. Exit codes: 0 success, 2 bad usage or input, or the LLM path
without an endpoint, 3 the LLM endpoint failed.

``--limit N``: for ``similarity`` and ``minhash`` the first N records in file order (a stream prefix:
clusters need the arrival order); for ``baseline`` and ``llm`` a seeded random N of the held-out records.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

PATHS = ("similarity", "minhash", "baseline", "llm")


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def eval_command(
    path: str = typer.Option(..., "--path", help="similarity, minhash, baseline or llm."),
    dataset: Path = typer.Option(..., "--dataset", help="Labelled JSONL (id, text, label = seller|normal)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    limit: int = typer.Option(None, "--limit", min=1, help="Evaluate on N records (see the module docs)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the training draw and of --limit sampling."),
    base_rate: float = typer.Option(None, "--base-rate", min=0.0, max=1.0,
                                    help="Also report precision re-weighted to this seller base rate."),
    author_field: str = typer.Option(None, "--author-field", help="Record field holding the author (default author_id)."),
    report: Path = typer.Option(None, "--report", help="Write a PR curve (PNG) and a Markdown report here."),
    embedder: str = typer.Option(None, "--embedder", help="similarity/baseline embedder; default DETECTOR_EMBEDDER."),
    threshold: float = typer.Option(None, "--threshold", min=0.0, max=1.0,
                                    help="similarity: near-duplicate cosine threshold (default "
                                         "DETECTOR_NEAR_DUPLICATE_THRESHOLD); minhash: Jaccard (default 0.5)."),
    base_url: str = typer.Option(None, "--base-url", help="llm: endpoint; default DETECTOR_LLM_BASE_URL."),
    n: int = typer.Option(100, "--n", min=1, help="baseline/llm: training examples per label, drawn with the seed."),
) -> None:
    """Precision, recall and F1 of one detection path on labelled posts, on a temporary store."""
    from detector.evaluation import metrics, paths
    from detector.llm.evaluate import read_labelled
    from detector.settings import get_settings

    if path not in PATHS:
        raise _fail(f"unknown path {path!r}: choose one of {', '.join(PATHS)}", 2)
    if base_rate is not None and not 0 < base_rate < 1:
        raise _fail("--base-rate must be between 0 and 1 (exclusive)", 2)
    try:
        records = read_labelled(dataset)
    except (OSError, ValueError) as err:
        raise _fail(f"cannot read {dataset}: {err}", 2) from err
    if not records:
        raise _fail(f"{dataset} has no records labelled seller or normal", 2)
    if limit is not None and path in ("similarity", "minhash"):
        records = records[:limit]
    settings = get_settings()

    def log(message: str) -> None:
        typer.echo(f"[eval {path}] {message}", err=True)

    started = time.monotonic()
    try:
        if path == "similarity":
            result = paths.run_similarity(records, settings, author_field=author_field, embedder=embedder,
                                          threshold=threshold, log=log)
        elif path == "minhash":
            result = paths.run_minhash(records, settings, author_field=author_field,
                                       threshold=0.5 if threshold is None else threshold, log=log)
        elif path == "baseline":
            result = paths.run_baseline(records, settings, n=n, seed=seed, limit=limit, embedder=embedder, log=log)
        else:
            result = paths.run_llm(records, settings, n=n, seed=seed, limit=limit, base_url=base_url, log=log)
    except paths.PathUnavailable as err:
        raise _fail(f"the llm path cannot run: {err}", 2) from err
    except ValueError as err:
        raise _fail(str(err), 2) from err
    except Exception as err:  # the LLM endpoint failing mid-run
        from detector.llm.client import LLMError
        from detector.llm.profiles import ProfileFailed

        if isinstance(err, (LLMError, ProfileFailed)):
            raise _fail(f"the LLM endpoint failed: {err}", 3) from err
        raise
    has_authors = any(paths.author_of(r, author_field) for r in result.records)
    out = metrics.summary(path, [r["label"] for r in result.records], result.flags,
                          authors=[paths.author_of(r, author_field) for r in result.records] if has_authors else None,
                          base_rate=base_rate)
    out.update({"dataset": f"{dataset.parent.name}/{dataset.name}", **result.info,
                "seconds": round(time.monotonic() - started, 1)})
    if report is not None:
        out["report"] = __import__("detector.evaluation.report", fromlist=["write_report"]).write_report(
            report, result, out, dataset=out["dataset"])
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    line = (f"{path} on {out['dataset']}: {out['n']} posts ({out['seller']} seller, {out['normal']} normal), "
            f"flagged {out['flagged']}: precision {out['precision']:.3f}, recall {out['recall']:.3f}, F1 {out['f1']:.3f}")
    if "author_precision" in out:
        line += (f"; authors: {out['authors_seller']} seller, {out['authors_flagged']} flagged, precision "
                 f"{out['author_precision']:.3f}, recall {out['author_recall']:.3f}")
    if "precision_at_base_rate" in out:
        line += f"; precision at base rate {base_rate:g}: {out['precision_at_base_rate']:.3f}"
    typer.echo(line)
    if report is not None:
        typer.echo(f"report: {out['report']['markdown']}" + (f", {out['report']['png']}" if out['report']['png'] else
                                                            f" ({out['report'].get('note', 'no curve')})"))
