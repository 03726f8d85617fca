"""``detector bench ingest``: bare model encode speed versus the whole per-post pipeline, in one run.

``ratio`` times the pipeline task as the issue lists it (normalize, embed, index upsert, neighbour
query, edges, cluster assignment, alert rules and their DB writes: ``process_posts``);
``ratio_with_ingest`` adds the ingest edge (JSON validation and the post INSERT), which production runs
in another task on the ``ingest`` queue.

Both run on the same generated posts (private sellers plus bulk campaigns, as ``detector demo``
makes them). The pipeline run starts from an empty temporary SQLite database and an empty index and
includes ingest, normalization, embedding (with its cache: repeated campaign texts cost no model
call, which is part of the design), index upsert, neighbour queries, edges, cluster assignment and
every database write. ``ratio`` = pipeline posts/s / bare encode posts/s.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path


def sample_records(n: int, seed: int = 7) -> list[dict]:
    from detector.demo.generator import generate_stream

    campaigns = max(1, n // 150)
    stream = generate_stream(n_normal=max(1, n - campaigns * 27), n_campaigns=campaigns, seed=seed)
    return [s.record for s in stream[:n]]


def run_ingest_bench(n: int, *, embedder: str = "use-multilingual", threads: int = 1, batch: int = 128,
                     seed: int = 7) -> dict:
    """Interleaved: each batch is first encoded bare, then run through the pipeline, so both see the
    same machine load (this machine is shared; sequential phases drifted by 30 % between runs)."""
    from detector.db import migrate
    from detector.db.session import reset_engines, session_scope
    from detector.deps import build_deps
    from detector.normalize import normalize
    from detector.posts.ingest import ingest_lines
    from detector.posts.processing import process_posts
    from detector.settings import Settings

    records = sample_records(n, seed)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(url)
        settings = Settings(data_dir=Path(tmp), database_url=url, embedder=embedder, embedder_threads=threads,
                            process_batch_size=batch)
        bare, deps = build_deps(settings).embedder, build_deps(settings)
        bare.encode(["warm-up"])
        deps.embedder.encode(["warm-up"])
        encode_s = pipeline_s = ingest_s = 0.0
        for i in range(0, len(records), batch):
            chunk = records[i:i + batch]
            texts = [normalize(f"{r.get('title')}\n{r['text']}" if r.get("title") else r["text"]) for r in chunk]
            raw = [(j, json.dumps(r, ensure_ascii=False).encode("utf-8")) for j, r in enumerate(chunk)]  # as sent
            start = time.perf_counter()
            bare.encode(texts)
            encode_s += time.perf_counter() - start
            start = time.perf_counter()
            ids = ingest_lines(raw, settings=settings, session_factory=lambda: session_scope(url),
                               source="bench").new_post_ids
            ingest_s += time.perf_counter() - start
            start = time.perf_counter()
            with session_scope(url) as session:
                process_posts(session, ids, deps)
            pipeline_s += time.perf_counter() - start
        reset_engines()
    encode_rate, pipeline_rate = n / encode_s, n / pipeline_s
    with_ingest = n / (pipeline_s + ingest_s)
    return {"posts": n, "embedder": deps.embedder.name, "batch": batch, "encode_posts_per_s": round(encode_rate, 1),
            "pipeline_posts_per_s": round(pipeline_rate, 1), "ratio": round(pipeline_rate / encode_rate, 3),
            "with_ingest_posts_per_s": round(with_ingest, 1), "ratio_with_ingest": round(with_ingest / encode_rate, 3)}
