"""``detector bench cluster``: the periodic reclustering on a realistic window, timed.

The window is synthesized as the pipeline would leave it, without running the model on every post:
campaigns (tight blobs, several accounts each, lognormal sizes) among diverse posts (loose topic
blobs, one account each); near-duplicate edges come from a real HNSW top-10 query per post against
earlier posts, cut at the production threshold, exactly as ``process_posts`` stores them. Only
``recluster`` itself is timed. Vectors are 64-d here to keep the set-up short; reclustering reads
edges and (for centroids) stored vectors, so its cost does not depend on how they were made.
"""

from __future__ import annotations

import hashlib
import resource
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np


def synth_window(n: int, seed: int = 0, dim: int = 64, campaign_share: float = 0.3):
    rng = np.random.default_rng(seed)
    sizes = []
    while sum(sizes) < n * campaign_share:
        sizes.append(int(np.clip(rng.lognormal(3.0, 0.8), 5, 2000)))
    labels = np.full(n, -1)
    order = rng.permutation(n)
    start = 0
    for c, size in enumerate(sizes):
        labels[order[start:start + size]] = c
        start += size
    topics = rng.standard_normal((1000, dim)).astype(np.float32)
    centres = rng.standard_normal((len(sizes), dim)).astype(np.float32)
    vectors = np.where((labels >= 0)[:, None],
                       centres[np.maximum(labels, 0)] + 0.04 * rng.standard_normal((n, dim)).astype(np.float32),
                       topics[rng.integers(0, 1000, n)] + 0.8 * rng.standard_normal((n, dim)).astype(np.float32))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    authors = np.where(labels >= 0, 1_000_000 + labels * 10 + rng.integers(0, 6, n), np.arange(n))
    return vectors.astype(np.float32), labels, authors


def knn_edges(vectors: np.ndarray, k: int = 10, threshold: float = 0.85, batch: int = 5_000):
    from detector.index.hnsw import HnswIndex
    from detector.index.base import VectorRecord

    index = HnswIndex(vectors.shape[1])
    src, dst, sim = [], [], []
    for start in range(0, len(vectors), batch):
        chunk = range(start, min(len(vectors), start + batch))
        index.upsert("w", [VectorRecord(str(i), vectors[i]) for i in chunk])
        for i in chunk:
            for m in index.query("w", vectors[i], k + 1):
                j = int(m.id)
                if j < i and m.score >= threshold:  # earlier posts only, as the pipeline sees them
                    src.append(j), dst.append(i), sim.append(m.score)
    return np.array(src), np.array(dst), np.array(sim)


def run_cluster_bench(n: int, seed: int = 0) -> dict:
    from detector.db import migrate
    from detector.db.base import utcnow
    from detector.db.session import reset_engines, session_scope
    from detector.embedding.cache import to_bytes
    from detector.similarity.recluster import recluster

    import hdbscan  # noqa: F401 - a worker imports it once; keep its ~3 s import out of the timing

    vectors, labels, authors = synth_window(n, seed)
    src, dst, sim = knn_edges(vectors)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        migrate.upgrade(url)
        now = utcnow()
        shas = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(n)]
        with session_scope(url) as s:
            conn = s.connection()
            from detector.posts.models import Author, Post
            from detector.similarity.models import Embedding, NearDuplicateEdge

            uniq = sorted(set(authors.tolist()))
            conn.execute(Author.__table__.insert(), [{"id": a + 1, "external_id": str(a), "first_seen_at": now,
                                                      "status": "active"} for a in uniq])
            conn.execute(Post.__table__.insert(), [{
                "id": i + 1, "content_type": "listing", "external_id": str(i), "author_id": int(authors[i]) + 1,
                "text": "-", "content_sha256": shas[i], "normalized_sha256": shas[i], "created_at": now,
                "ingested_at": now, "image_urls": [], "metadata": {}, "source": "bench", "status": "processed",
                "attempts": 1, "processed_at": now} for i in range(n)])
            conn.execute(Embedding.__table__.insert(), [{"model": "bench", "text_sha256": shas[i], "dim": vectors.shape[1],
                                                         "vector": to_bytes(vectors[i]), "created_at": now} for i in range(n)])
            conn.execute(NearDuplicateEdge.__table__.insert(), [{
                "content_type": "listing", "src_post_id": int(a) + 1, "dst_post_id": int(b) + 1, "similarity": float(c),
                "method": "embedding", "cross_author": bool(authors[a] != authors[b]), "created_at": now}
                for a, b, c in zip(src, dst, sim)])
        started = time.perf_counter()
        with session_scope(url) as s:
            result = recluster(s, "listing", window=timedelta(days=1), model="bench")
        seconds = time.perf_counter() - started
        found = _campaign_recovery(url, labels)
        reset_engines()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"n": n, "seconds": round(seconds, 2), "peak_rss_mb": round(peak, 1), "edges": result.edges,
            "clusters": result.groups, **found}


def _campaign_recovery(url: str, labels: np.ndarray) -> dict:
    """Campaigns whose majority lands in one cluster, and diverse posts pulled into clusters."""
    from collections import Counter

    from sqlalchemy import select

    from detector.db.session import session_scope
    from detector.similarity.models import ClusterMember

    with session_scope(url) as s:
        placed = {p - 1: c for p, c in s.execute(select(ClusterMember.post_id, ClusterMember.cluster_id))}
    campaigns = int(labels.max()) + 1
    recovered = 0
    for c in range(campaigns):
        members = np.flatnonzero(labels == c)
        top = Counter(placed.get(int(i)) for i in members).most_common(1)[0]
        recovered += top[0] is not None and top[1] >= 0.9 * len(members)
    diverse_clustered = sum(1 for i in np.flatnonzero(labels < 0) if int(i) in placed)
    return {"campaigns": campaigns, "campaigns_recovered": recovered,
            "diverse_posts_clustered": diverse_clustered, "diverse_posts": int((labels < 0).sum())}
