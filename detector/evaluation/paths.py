"""One function per detection path: labelled records in, per-record flags and scores out.

Every path runs the production code on a fresh temporary store (a SQLite file in a temporary
directory and the embedded HNSW index), never the user's database or vector index.

* ``similarity``: records are re-serialized as JSON lines and go through ``ingest_lines``, then
  ``process_posts`` in micro-batches, then one ``recluster_and_alert`` pass over all of them. A post is
  flagged when it ends in an active cluster that meets the namespace's alert rule: size at least the
  rule's smallest size level and at least ``min_distinct_authors`` accounts (the growth and
  new-account conditions are not evaluated offline: labelled sets have no live arrival times).
* ``minhash``: the classic yardstick: character-3-gram MinHash (128 permutations) with MinHash-LSH at
  a Jaccard threshold (0.5), candidate pairs confirmed by their estimated Jaccard, union-find groups
  per content type, and the same alert rule. It is datasketch's implementation on purpose, independent
  of the pipeline's own shingle edges (``detector.similarity.shingles``), so the yardstick is not the
  thing it measures.
* ``baseline``: the embedding baseline trained on 100 seller + 100 normal records drawn with the seed.
* ``llm``: a profile generated from 100 + 100 records drawn with the seed, the rest classified.

Records without an author are treated as their own author (``self:<id>``), so the distinct-author
condition of the rule stays meaningful (one record = one account) instead of silently failing.
The score of a record is the size of its group when the group has enough distinct authors (else 0),
so the PR curve over the minimum size level 2..50 is a threshold on that score.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Callable, Sequence

WINDOW = timedelta(days=100_000)  # every record is in the neighbour and recluster window
SIZE_LEVELS = list(range(2, 51))
PROB_THRESHOLDS = [round(0.05 * i, 2) for i in range(1, 20)]


class PathUnavailable(Exception):
    """The path cannot run as configured (e.g. no LLM endpoint)."""


@dataclass
class PathResult:
    records: list[dict]               # the evaluated records, in order
    flags: list[bool]                 # flagged by the path as configured
    scores: list[float]               # the quantity the PR curve thresholds
    thresholds: list[float]           # the curve's thresholds (empty: no curve)
    threshold_name: str = ""
    info: dict = field(default_factory=dict)


def author_of(record: dict, author_field: str | None = None) -> str | None:
    value = record.get(author_field or "author_id")
    return None if value is None or value == "" else str(value)


def _own_author(record: dict, author_field: str | None) -> str:
    return author_of(record, author_field) or f"self:{record['id']}"


def _namespace(record: dict, default: str) -> str:
    return record.get("content_type") or default


def _rule_scores(sizes: Sequence[int], authors_ok: Sequence[bool]) -> list[float]:
    return [float(s) if ok else 0.0 for s, ok in zip(sizes, authors_ok)]


def _eval_settings(settings, tmp: Path, **overrides):
    """The user's settings (rules, thresholds, embedder) on a temporary store, with nothing external."""
    update = {"database_url": f"sqlite:///{tmp / 'eval.db'}", "data_dir": tmp, "vector_index": "embedded",
              "near_duplicate_window_days": WINDOW.days, "broker_url": "memory://", "slack_bot_token": None,
              "slack_channel": None, "pinecone_api_key": None, "pinecone_host": None}
    update.update({k: v for k, v in overrides.items() if v is not None})
    return settings.model_copy(update=update)


def run_similarity(records: Sequence[dict], settings, *, author_field: str | None = None, embedder: str | None = None,
                   threshold: float | None = None, log: Callable[[str], None] = lambda m: None) -> PathResult:
    from sqlalchemy import select

    from detector.db import migrate
    from detector.db.session import get_engine, session_scope
    from detector.deps import build_deps
    from detector.posts.ingest import ingest_lines
    from detector.posts.models import Post
    from detector.posts.processing import process_posts
    from detector.similarity.models import Cluster, ClusterMember
    from detector.similarity.recluster import recluster_and_alert

    records = list(records)
    with tempfile.TemporaryDirectory(prefix="sellerwatch-eval-") as tmp:
        cfg = _eval_settings(settings, Path(tmp), embedder=embedder, near_duplicate_threshold=threshold)
        url = cfg.database_url
        migrate.upgrade(url)
        try:
            lines = []
            for n, r in enumerate(records, 1):
                out = {"id": r["id"], "text": r["text"], "author_id": _own_author(r, author_field)}
                for key in ("content_type", "created_at", "title"):
                    if r.get(key) is not None:
                        out[key] = r[key]
                lines.append((n, json.dumps(out, ensure_ascii=False).encode("utf-8")))
            counts = ingest_lines(lines, settings=cfg, session_factory=lambda: session_scope(url), source="eval")
            log(f"ingested {counts.accepted} posts ({counts.rejected} rejected, {counts.duplicates} duplicates)")
            deps = build_deps(cfg)
            with session_scope(url) as s:
                ids = list(s.scalars(select(Post.id).order_by(Post.id)))
            step = cfg.process_batch_size
            for start in range(0, len(ids), step):
                with session_scope(url) as s:
                    process_posts(s, ids[start:start + step], deps)
                if (start // step) % 20 == 19:
                    log(f"processed {min(start + step, len(ids))}/{len(ids)}")
            with session_scope(url) as s:
                namespaces = sorted(set(s.scalars(select(Post.content_type).distinct())))
            for ns in namespaces:
                with session_scope(url) as s:
                    result, _alerts = recluster_and_alert(s, ns, cfg, deps.embedder.name, window=WINDOW)
                log(f"reclustered {ns}: {result.groups} groups over {result.posts} posts")
            with session_scope(url) as s:
                rows = s.execute(select(Post.content_type, Post.external_id, Post.status, Cluster.size,
                                        Cluster.distinct_authors)
                                 .join(ClusterMember, ClusterMember.post_id == Post.id, isouter=True)
                                 .join(Cluster, (Cluster.id == ClusterMember.cluster_id) & (Cluster.status == "active"),
                                       isouter=True)).all()
                failed = sum(1 for row in rows if row.status == "failed")
        finally:
            get_engine(url).dispose()
    found: dict[tuple[str, str], tuple[int, int]] = {}
    for ct, ext, _status, size, distinct in rows:
        if size is not None:
            found[(ct, ext)] = max(found.get((ct, ext), (0, 0)), (size, distinct))
    sizes, ok = [], []
    for r in records:
        ns = _namespace(r, cfg.default_content_type)
        size, distinct = found.get((ns, str(r["id"])), (0, 0))
        sizes.append(size)
        ok.append(distinct >= cfg.alert_rule(ns).min_distinct_authors)
    scores = _rule_scores(sizes, ok)
    flags = [s >= min(cfg.alert_rule(_namespace(r, cfg.default_content_type)).size_levels, default=1) and s > 0
             for r, s in zip(records, scores)]
    return PathResult(records, flags, scores, [float(t) for t in SIZE_LEVELS], "minimum cluster size", {
        "embedder": deps.embedder.name, "near_duplicate_threshold": cfg.near_duplicate_threshold,
        "rejected": counts.rejected, "duplicates": counts.duplicates, "failed": failed,
        "clustered": sum(s > 0 for s in sizes)})


def _shingles(text: str, k: int = 3) -> set[str]:
    if len(text) <= k:
        return {text}
    return {text[i:i + k] for i in range(len(text) - k + 1)}


def minhash_groups(texts: Sequence[str], namespaces: Sequence[str], *, threshold: float = 0.5,
                   num_perm: int = 128) -> list[int]:
    """A group root per text: union-find over MinHash-LSH candidate pairs whose estimated Jaccard of
    character 3-grams reaches ``threshold``; texts of different namespaces are never joined."""
    from datasketch import MinHash, MinHashLSH

    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    lshs: dict[str, MinHashLSH] = {}
    hashes: list = []
    for i, (text, ns) in enumerate(zip(texts, namespaces)):
        m = MinHash(num_perm=num_perm, seed=1)
        m.update_batch([g.encode("utf-8") for g in _shingles(text)])
        hashes.append(m)
        if ns not in lshs:  # the constructor integrates for its (bands, rows): once per namespace
            lshs[ns] = MinHashLSH(threshold=threshold, num_perm=num_perm)
        lsh = lshs[ns]
        for j in lsh.query(m):
            if m.jaccard(hashes[j]) >= threshold:
                a, b = find(i), find(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
        lsh.insert(i, m)
    return [find(i) for i in range(len(texts))]


def run_minhash(records: Sequence[dict], settings, *, author_field: str | None = None, threshold: float = 0.5,
                num_perm: int = 128, log: Callable[[str], None] = lambda m: None) -> PathResult:
    from detector.normalize import normalize

    records = list(records)
    namespaces = [_namespace(r, settings.default_content_type) for r in records]
    roots = minhash_groups([normalize(r["text"]) for r in records], namespaces, threshold=threshold, num_perm=num_perm)
    size = Counter(roots)
    authors: dict[int, set[str]] = {}
    for root, r in zip(roots, records):
        authors.setdefault(root, set()).add(_own_author(r, author_field))
    sizes = [size[root] if size[root] > 1 else 0 for root in roots]
    ok = [len(authors[root]) >= settings.alert_rule(ns).min_distinct_authors for root, ns in zip(roots, namespaces)]
    scores = _rule_scores(sizes, ok)
    flags = [s > 0 and s >= min(settings.alert_rule(ns).size_levels, default=1) for s, ns in zip(scores, namespaces)]
    log(f"minhash: {sum(1 for r in size if size[r] > 1)} groups of 2+")
    return PathResult(records, flags, scores, [float(t) for t in SIZE_LEVELS], "minimum cluster size", {
        "jaccard_threshold": threshold, "num_perm": num_perm, "shingle": "char-3",
        "clustered": sum(s > 0 for s in sizes)})


def run_baseline(records: Sequence[dict], settings, *, n: int = 100, seed: int = 0, limit: int | None = None,
                 embedder: str | None = None, log: Callable[[str], None] = lambda m: None) -> PathResult:
    from detector.embedding.models import make_embedder
    from detector.llm.baseline import train_baseline
    from detector.llm.evaluate import held_out, split_by_label
    from detector.llm.prompts import sample_examples

    sellers, normals = sample_examples(*split_by_label(records), n=n, seed=seed)
    if not sellers or not normals:
        raise ValueError("the dataset needs records labelled seller and normal")
    model = train_baseline(make_embedder(embedder or settings.embedder, threads=settings.embedder_threads),
                           [r["text"] for r in sellers], [r["text"] for r in normals],
                           seller_ids=[r["id"] for r in sellers], normal_ids=[r["id"] for r in normals])
    test = held_out(records, {r["id"] for r in sellers + normals}, limit=limit, seed=seed)
    probabilities = [float(p) for p in model.probabilities([r["text"] for r in test])] if test else []
    flags = [p >= model.threshold for p in probabilities]
    thresholds = sorted(set(PROB_THRESHOLDS) | {round(float(model.threshold), 4)})
    return PathResult(test, flags, probabilities, thresholds, "probability threshold", {
        "embedder": model.embedder.name, "train": {"seller": len(sellers), "normal": len(normals)},
        "C": model.C, "threshold": round(float(model.threshold), 4), "seed": seed})


def run_llm(records: Sequence[dict], settings, *, n: int = 100, seed: int = 0, limit: int | None = None,
            base_url: str | None = None, log: Callable[[str], None] = lambda m: None) -> PathResult:
    from detector.db import migrate
    from detector.db.session import get_engine, session_scope
    from detector.extras import MissingExtra
    from detector.llm.client import LLMDisabled, make_client
    from detector.llm.evaluate import held_out, llm_classify_fn, split_by_label
    from detector.llm.profiles import example_ids, generate_profile, template_of

    try:
        client = make_client(settings, base_url=base_url)
    except (LLMDisabled, MissingExtra) as err:
        raise PathUnavailable(str(err)) from err
    sellers, normals = split_by_label(records)
    content_type = Counter(_namespace(r, settings.default_content_type) for r in records).most_common(1)
    content_type = content_type[0][0] if content_type else settings.default_content_type
    with tempfile.TemporaryDirectory(prefix="sellerwatch-eval-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'eval.db'}"
        migrate.upgrade(url)
        try:
            with session_scope(url) as s:
                version = generate_profile(s, client, content_type=content_type, seller_records=sellers,
                                           normal_records=normals, n=n, seed=seed)
                profile, template, excluded = version.text, template_of(version), example_ids(version)
                name = version.version
        finally:
            get_engine(url).dispose()
    log(f"profile {name} generated; classifying")
    test = held_out(records, excluded, limit=limit, seed=seed)
    answers = llm_classify_fn(client, template, profile)([r["text"] for r in test]) if test else []
    flags = [bool(a) for a in answers]
    return PathResult(test, flags, [1.0 if f else 0.0 for f in flags], [], "", {
        "version": name, "content_type": content_type, "classify_model": client.classify_model,
        "unclassified": sum(a is None for a in answers), "train": len(excluded), "seed": seed})
