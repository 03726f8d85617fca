"""Benchmark of the embedded ``HnswIndex`` on synthetic, *clustered* post embeddings.

Why clustered: uniform random unit vectors have no near neighbours worth finding, so HNSW recall and
latency on them say little about real posts. Real post embeddings come in topical blobs of very
uneven size, with many near-duplicate re-posts; recall@10 falls with N at a fixed ``ef``, which is the
number this benchmark exists to find. The corpus is regenerated chunk by chunk from the seed (once to
build, once for exact ground truth) so the benchmark never holds all N vectors and ``rss_mb`` is the
index process's own footprint, not the benchmark's copy of the data.
"""

from __future__ import annotations

import math
import resource
import time
from collections.abc import Callable

import numpy as np

from detector.index.base import VectorRecord

NAMESPACE = "bench"
BATCH = 10_000  # rows per generated chunk and per upsert call
RANK = 16  # dimension of each blob's subspace
SPREAD = 0.2  # std of each subspace coefficient (centre has norm 1); with NOISE: fresh top-1 cos ~0.85
NOISE = 0.3  # norm of the isotropic noise
DUP_RATE, DUP_COS = 0.05, 0.99  # share of re-posts and their cosine to the original
NOW, DAY, AUTHORS = 1_760_000_000, 86_400, 20_000


class ClusteredCorpus:
    """~n/1000 blobs (lognormal sizes): unit-ish centre + rank-16 subspace + noise, normalized."""

    def __init__(self, n: int, dim: int, seed: int):
        self.n, self.dim, self.seed = n, dim, seed
        rng = np.random.default_rng([seed, 0])
        blobs, rank = max(1, n // 1000), min(RANK, dim)
        shared = _unit(rng.standard_normal(dim))  # real embeddings are anisotropic: centres share a direction
        self.centres = _unit(0.5 * shared + rng.standard_normal((blobs, dim)) / math.sqrt(dim))
        self.bases = np.stack([np.linalg.qr(rng.standard_normal((dim, rank)))[0].T for _ in range(blobs)])
        self.bases = self.bases.astype(np.float32)
        weights = rng.lognormal(0.0, 1.0, blobs)
        self.weights = weights / weights.sum()

    @property
    def chunks(self) -> int:
        return -(-self.n // BATCH)

    def fresh(self, rng: np.random.Generator, m: int) -> np.ndarray:
        """``m`` new posts from the blob distribution (no re-posts)."""
        blob = rng.choice(len(self.weights), m, p=self.weights)
        coeffs = rng.standard_normal((m, self.bases.shape[1]), dtype=np.float32) * SPREAD
        noise = rng.standard_normal((m, self.dim), dtype=np.float32) * (NOISE / math.sqrt(self.dim))
        x = self.centres[blob] + noise
        order = np.argsort(blob, kind="stable")
        cuts = np.flatnonzero(np.diff(blob[order])) + 1
        for rows in np.split(order, cuts):  # one small matmul per blob present
            x[rows] += coeffs[rows] @ self.bases[blob[rows[0]]]
        return _unit(x)

    def chunk(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Vectors and ``created_at`` of rows ``k*BATCH ...``; deterministic, so it can be regenerated."""
        rng = np.random.default_rng([self.seed, 1, k])
        m = min(BATCH, self.n - k * BATCH)
        x = self.fresh(rng, m)
        for j in np.flatnonzero(rng.random(m) < DUP_RATE):
            if j:
                x[j] = near_duplicate(rng, x[rng.integers(0, j)])
        created = NOW - rng.integers(0, 365 * DAY, m)
        return x, created


def near_duplicate(rng: np.random.Generator, v: np.ndarray) -> np.ndarray:
    """A unit vector at cosine ~DUP_COS to ``v`` (a re-post with a few words changed)."""
    eta = math.tan(math.acos(DUP_COS))
    return _unit(v + rng.standard_normal(v.shape, dtype=np.float32) * (eta / math.sqrt(v.shape[-1])))


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # peak, Linux KiB


def _merge_top(best_s, best_i, scores, offset, k):
    """Fold one chunk's scores into the running exact top-k (unsorted) per query."""
    part = np.argpartition(-scores, min(k, scores.shape[1] - 1), axis=1)[:, :k]
    cand_s = np.concatenate([best_s, np.take_along_axis(scores, part, 1)], axis=1)
    cand_i = np.concatenate([best_i, part + offset], axis=1)
    keep = np.argpartition(-cand_s, k - 1, axis=1)[:, :k]
    return np.take_along_axis(cand_s, keep, 1), np.take_along_axis(cand_i, keep, 1)


def sweep_index_bench(n: int, efs: list[int], dim: int = 512, dtype: str = "f32", queries: int = 1000,
                      seed: int = 0, connectivity: int = 16, expansion_add: int = 128,
                      log: Callable[[str], None] | None = None) -> list[dict]:
    """One build, measured at each search breadth in ``efs`` (ef does not change the graph)."""
    from detector.index.hnsw import HnswIndex

    log = log or (lambda _msg: None)
    corpus = ClusteredCorpus(n, dim, seed)
    qrng = np.random.default_rng([seed, 2])
    n_dup = round(queries * 0.3)
    dup_src = np.sort(qrng.choice(n, n_dup, replace=n_dup > n))
    q = np.zeros((queries, dim), np.float32)
    q[n_dup:] = corpus.fresh(qrng, queries - n_dup)
    index = HnswIndex(dim, dtype=dtype, connectivity=connectivity, expansion_add=expansion_add,
                      expansion_search=efs[0])

    started, upsert_s = time.perf_counter(), 0.0
    for k in range(corpus.chunks):
        x, created = corpus.chunk(k)
        base = k * BATCH
        records = [VectorRecord(str(i), x[i - base], {"post_id": i, "author_id": str(i % AUTHORS),
                                                      "created_at": int(created[i - base])})
                   for i in range(base, base + len(x))]
        t0 = time.perf_counter()
        index.upsert(NAMESPACE, records)
        upsert_s += time.perf_counter() - t0
        mine = np.flatnonzero((dup_src >= base) & (dup_src < base + len(x)))
        q[mine] = near_duplicate(qrng, x[dup_src[mine] - base])
        if k % 10 == 9:
            log(f"built {base + len(x):,}/{n:,} in {time.perf_counter() - started:.0f}s")
    build_s = time.perf_counter() - started
    rss_mb, index_mb = _rss_mb(), index.memory_bytes() / 2**20

    # Exact top-10 (and filtered top-10) by matmul over regenerated chunks: memory stays O(queries * BATCH).
    authors = np.arange(queries) % AUTHORS  # the querying author is excluded by the filter
    cutoff = NOW - 30 * DAY
    best = (np.full((queries, 10), -np.inf, np.float32), np.zeros((queries, 10), np.int64))
    fbest = (np.full((queries, 10), -np.inf, np.float32), np.zeros((queries, 10), np.int64))
    for k in range(corpus.chunks):
        x, created = corpus.chunk(k)
        ids = np.arange(k * BATCH, k * BATCH + len(x))
        scores = q @ x.T
        best = _merge_top(*best, scores, ids[0], 10)
        ok = (created >= cutoff)[None, :] & ((ids % AUTHORS)[None, :] != authors[:, None])
        fbest = _merge_top(*fbest, np.where(ok, scores, -np.inf), ids[0], 10)
    truth = [set(row.tolist()) for row in best[1]]
    ftruth = [{i for i, s in zip(row.tolist(), srow.tolist()) if s > -np.inf}
              for row, srow in zip(fbest[1], fbest[0])]

    top1 = round(float(best[0][n_dup:].max(axis=1).mean()), 4) if queries > n_dup else None
    results = []
    for ef in efs:
        index.set_expansion_search(ef)  # the graph is unchanged: one build serves every ef
        for i in range(min(queries, 20)):  # warm caches and code paths; a serving worker is warm
            index.query(NAMESPACE, q[i], 10)
        lat, hits = [], 0
        for i in range(queries):
            t0 = time.perf_counter()
            found = index.query(NAMESPACE, q[i], 10)
            lat.append(time.perf_counter() - t0)
            hits += len(truth[i] & {int(m.id) for m in found})
        flat, fhits, fwanted = [], 0, 0
        for i in range(queries):
            flt = {"author_id": {"$ne": str(authors[i])}, "created_at": {"$gte": cutoff}}
            t0 = time.perf_counter()
            found = index.query(NAMESPACE, q[i], 10, filter=flt)
            flat.append(time.perf_counter() - t0)
            fhits += len(ftruth[i] & {int(m.id) for m in found})
            fwanted += len(ftruth[i])
        lat_ms = np.array(lat) * 1000
        results.append({
            "n": n, "dim": dim, "dtype": dtype, "ef": ef,
            "p50_ms": round(float(np.percentile(lat_ms, 50)), 3),
            "p99_ms": round(float(np.percentile(lat_ms, 99)), 3),
            "recall_at_10": round(hits / (10 * queries), 4),
            "p50_filtered_ms": round(float(np.median(flat)) * 1000, 3),
            "recall_filtered_at_10": round(fhits / max(fwanted, 1), 4),
            "inserts_per_s": round(n / upsert_s, 1),
            "rss_mb": round(rss_mb, 1), "index_mb": round(index_mb, 1), "build_s": round(build_s, 1),
            "fresh_top1_cos": top1,  # realism check: mean exact top-1 cosine of the fresh queries
        })
        log(f"ef={ef}: {results[-1]}")
    return results


def run_index_bench(n: int, dim: int = 512, ef: int = 128, dtype: str = "f32", queries: int = 1000,
                    seed: int = 0, connectivity: int = 16, expansion_add: int = 128) -> dict:
    """Build an ``HnswIndex`` of ``n`` clustered posts and measure latency, recall@10 and memory.

    ``build_s`` is wall time of the build phase (generation included); ``inserts_per_s`` counts only
    time inside ``upsert``. ``rss_mb`` is the process's resident memory right after the build.
    """
    return sweep_index_bench(n, [ef], dim=dim, dtype=dtype, queries=queries, seed=seed,
                             connectivity=connectivity, expansion_add=expansion_add)[0]
