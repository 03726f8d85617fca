"""``detector bench``: performance benchmarks behind the defaults (index ef/dtype, ...).

Each command is its own function so siblings (e.g. ``ingest``) can be added to this sub-app.
"""

from __future__ import annotations

import json

import typer

app = typer.Typer(no_args_is_help=True, help="Performance benchmarks on synthetic data (no database needed).")


@app.callback()
def _group() -> None:
    # Keeps ``bench`` a group even with one command, so ``bench index`` works standalone too.
    pass


@app.command("index")
def index(
    n: int = typer.Option(..., "--n", min=1, help="Posts to index."),
    dim: int = typer.Option(512, "--dim", min=2, help="Embedding dimension."),
    ef: list[int] = typer.Option([128], "--ef", min=1,
                                 help="HNSW search breadth; repeat to measure several on one build."),
    dtype: str = typer.Option("f16", "--dtype", help="Stored scalar type: f32 or f16 (half the memory)."),
    queries: int = typer.Option(1000, "--queries", min=1, help="Single-vector queries per ef."),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object per ef, one a line."),
) -> None:
    """Build the embedded HNSW index on clustered posts; report latency, recall@10 and memory."""
    from detector.bench.index import sweep_index_bench

    if dtype not in ("f32", "f16"):
        raise typer.BadParameter("f32 or f16", param_hint="--dtype")
    results = sweep_index_bench(n, ef, dim=dim, dtype=dtype, queries=queries, seed=seed,
                                log=lambda msg: typer.echo(msg, err=True))
    if as_json:
        for row in results:
            typer.echo(json.dumps(row))
        return
    for row in results:
        typer.echo("\n".join(f"{key:>22}  {value}" for key, value in row.items()) + "\n")


@app.command("ingest")
def ingest(
    n: int = typer.Option(2000, "--n", min=10, help="Posts (private sellers plus campaigns, as the demo makes them)."),
    embedder: str = typer.Option(None, "--embedder", help="Default: DETECTOR_EMBEDDER."),
    batch: int = typer.Option(None, "--batch", min=1, help="Posts per task; default DETECTOR_PROCESS_BATCH_SIZE."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Bare model encode speed versus the whole per-post pipeline on the same posts, in one run."""
    from detector.bench.ingest import run_ingest_bench
    from detector.settings import get_settings

    settings = get_settings()
    result = run_ingest_bench(n, embedder=embedder or settings.embedder, batch=batch or settings.process_batch_size)
    typer.echo(json.dumps(result) if as_json else "\n".join(f"{k:>22}  {v}" for k, v in result.items()))


@app.command("cluster")
def cluster(
    n: int = typer.Option(100_000, "--n", min=100, help="Posts in the reclustered window."),
    seed: int = typer.Option(0, "--seed"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Time the periodic reclustering on a realistic window (campaigns among diverse posts)."""
    from detector.bench.cluster import run_cluster_bench

    result = run_cluster_bench(n, seed=seed)
    typer.echo(json.dumps(result) if as_json else "\n".join(f"{k:>24}  {v}" for k, v in result.items()))


@app.command("embedders")
def embedders(
    dataset: str = typer.Option(..., "--dataset", help="Labelled JSONL with callback_id (the KISA set)."),
    n: int = typer.Option(2000, "--n", min=10),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Campaign recovery and CPU cost of each embedder (how the default was chosen)."""
    from detector.bench.embedders import run_embedder_bench

    for row in run_embedder_bench(dataset, n=n):
        typer.echo(json.dumps(row))


@app.command("load")
def load(
    workers: int = typer.Option(2, "--workers", min=1, help="Worker processes (one per core is the maximum)."),
    rate: float = typer.Option(20.0, "--rate", min=0.1, help="Posts per second sent by the producer."),
    seconds: int = typer.Option(30, "--seconds", min=1),
    batch: int = typer.Option(1, "--batch", min=1, max=500, help="Posts per producer message: 1 sends "
                              "detector.ingest_post per post, more sends lists to detector.ingest_posts."),
    admin_url: str = typer.Option("postgresql+psycopg://postgres@127.0.0.1:5432/postgres", "--pg-admin-url",
                                  help="Server on which a temporary database is created and dropped."),
    broker_url: str = typer.Option("redis://127.0.0.1:6379/14", "--broker-url", help="Redis (this db is flushed)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Several real workers on Redis and PostgreSQL under a fixed rate: throughput, latency, queue depth."""
    import tempfile
    from pathlib import Path

    from detector.bench.load import run_load_bench

    with tempfile.TemporaryDirectory() as tmp:
        result = run_load_bench(workers=workers, rate=rate, seconds=seconds, admin_url=admin_url,
                                broker_url=broker_url, data_dir=Path(tmp), batch=batch)
    typer.echo(json.dumps(result) if as_json else "\n".join(f"{k:>24}  {v}" for k, v in result.items()))
