"""``detector bench embedders``: campaign recovery and speed of each embedder on labelled data.

Used to choose the default embedder. Ground truth for "same campaign" is the sender's callback
number (KISA's ``callback_id``): posts sharing it come from one operator. For each post we take its
nearest other post (exact search, so the index does not blur the comparison) and call it a
near-duplicate when the cosine similarity reaches a threshold. Per threshold:

- precision: share of those neighbour pairs that share the callback number;
- recall: share of posts whose callback group has another member in the sample that found one.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter

import numpy as np

THRESHOLDS = (0.80, 0.85, 0.90, 0.95)


def load_sample(path: str, n: int, seed: int, group_key: str = "callback_id") -> list[dict]:
    with open(path, "rb") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    rows = [r for r in rows if r.get(group_key)]
    random.Random(seed).shuffle(rows)
    return rows[:n]


def evaluate(vectors: np.ndarray, groups: list[str]) -> dict:
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -1.0)
    nearest = sims.argmax(axis=1)
    best = sims[np.arange(len(groups)), nearest]
    sizes = Counter(groups)
    has_mate = np.array([sizes[g] > 1 for g in groups])
    same = np.array([groups[i] == groups[j] for i, j in enumerate(nearest)])
    out = {}
    for t in THRESHOLDS:
        flagged = best >= t
        precision = float(same[flagged].mean()) if flagged.any() else 0.0
        recall = float((flagged & same)[has_mate].mean()) if has_mate.any() else 0.0
        out[f"{t:.2f}"] = {"flagged": int(flagged.sum()), "precision": round(precision, 3), "recall": round(recall, 3)}
    return out


def run_embedder_bench(path: str, *, n: int = 2000, seed: int = 0, kinds=("use-multilingual", "minilm-l6", "hashing"),
                       normalize_text: bool = True) -> list[dict]:
    from detector.embedding.models import make_embedder
    from detector.normalize import normalize

    rows = load_sample(path, n, seed)
    texts = [normalize(r["text"]) if normalize_text else r["text"] for r in rows]
    groups = [r["callback_id"] for r in rows]
    results = []
    for kind in kinds:
        embedder = make_embedder(kind)
        embedder.encode(texts[:4])
        start = time.process_time()
        vectors = np.vstack([embedder.encode(texts[i:i + 64]) for i in range(0, len(texts), 64)])
        cpu_s = time.process_time() - start
        results.append({"embedder": embedder.name, "n": len(texts), "cpu_ms_per_post": round(1000 * cpu_s / len(texts), 2),
                        "by_threshold": evaluate(vectors, groups)})
    return results
