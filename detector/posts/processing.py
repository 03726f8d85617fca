"""The per-post pipeline spine: what happens to an accepted post, in batches of ids.

Every step is idempotent (it skips posts already past it), so Celery's at-least-once delivery and
the sweeper's re-dispatch never do work twice. Later stages (embedding, neighbours, clusters,
LLM) hook in here; a post ends ``processed`` or ``failed`` with a reason, never silently pending.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial
from datetime import timedelta

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from detector.db.base import utcnow
from detector.deps import Deps
from detector.jobs.errors import is_transient
from detector.posts.models import Post
from detector.similarity.clusters import ClusterAssigner
from detector.similarity.index_sync import record_for
from detector.similarity.neighbours import edge_rows, merged, neighbours_from, store_edges, window_filter
from detector.similarity.shingle_index import shingle_neighbours

log = logging.getLogger(__name__)


@dataclass
class Processed:
    post_ids: list[int] = field(default_factory=list)  # handled now: processed or failed
    alert_ids: list[int] = field(default_factory=list)  # raised now, to be delivered after commit


def process_posts(session: Session, post_ids: list[int], deps: Deps) -> Processed:
    """Normalize, embed (cached), index, link near-duplicates and assign clusters; mark processed.

    Near-duplicates come from the vector index (cosine) and, with ``shingle_edges``, from character
    3-gram MinHash-LSH (``similarity.shingle_index``), which catches templates whose filled-in parts
    push the embedding below the threshold; each source stores its own edges (``method``).

    Returns the ids handled now (processed or failed) and the alerts their clusters raised. The
    batch is upserted into the index before its posts look for neighbours, so posts of one campaign
    arriving together find each other. A post whose own step raises a non-transient error is
    marked ``failed`` with the reason and the rest of the batch goes on; transient errors
    (database, index) propagate so the task retries. Linking runs in one savepoint per batch and
    falls back to one per post only when something failed (savepoints cost a round trip each).
    """
    posts = _claim(session, post_ids, deps.settings.process_batch_size)
    if not posts:
        return Processed()
    touched: set[int] = set()
    ok = [p for p in posts if _normalize_or_fail(p)]
    vectors = _embed(session, ok, deps)
    ok = [p for p in ok if p.normalized_sha256 in vectors]
    settings, now = deps.settings, utcnow()
    window = timedelta(days=settings.near_duplicate_window_days)
    for namespace in sorted({p.content_type for p in ok}):
        batch = [p for p in ok if p.content_type == namespace]
        deps.index.catch_up(session, namespace)
        deps.index.add(namespace, [record_for(p.id, p.author_id, p.created_at, vectors[p.normalized_sha256])
                                   for p in batch])
        found = deps.index.index.query_many(  # one batched search for the whole batch
            namespace, np.stack([vectors[p.normalized_sha256] for p in batch]), settings.neighbours_k + 1,
            [window_filter(p.created_at, window) for p in batch])
        matches_of = {p.id: m for p, m in zip(batch, found)}
        shingled = shingle_neighbours(  # band keys of the batch are written before it queries
            session, namespace, batch, threshold=settings.shingle_jaccard_threshold,
            cosine_threshold=settings.near_duplicate_threshold, window=window, k=settings.neighbours_k,
            max_candidates=settings.shingle_max_candidates) if settings.shingle_edges else {}

        def link(post, assigner: ClusterAssigner, edges: list[dict]) -> None:
            neighbours = neighbours_from(matches_of[post.id], post.id, k=settings.neighbours_k,
                                         threshold=settings.near_duplicate_threshold)
            by_shingles = shingled.get(post.id, [])
            edges.extend(edge_rows(namespace, post.id, post.author_id, neighbours))
            edges.extend(edge_rows(namespace, post.id, post.author_id, by_shingles, method="shingle"))
            assigner.assign(post.id, merged(neighbours, by_shingles))  # a pair found twice counts once

        new_assigner = partial(ClusterAssigner, session, namespace, deps.embedder.name)
        batch_vectors = {p.id: vectors[p.normalized_sha256] for p in batch}
        linked, clusters = _link_batch(session, batch, link, new_assigner, batch_vectors)
        touched |= clusters
        for post in linked:
            post.status, post.status_reason, post.processed_at = "processed", None, now
    return Processed([p.id for p in posts], _raise_alerts(session, sorted(touched), deps, now))


def _raise_alerts(session: Session, cluster_ids: list[int], deps: Deps, now) -> list[int]:
    """Within seconds of the post that crossed a level, in the same transaction (outbox)."""
    from detector.alerts.service import evaluate_cluster

    raised = []
    for cluster_id in cluster_ids:
        alert = evaluate_cluster(session, cluster_id, deps.settings, now)
        if alert is not None:
            raised.append(alert.id)
    return raised


def _normalize_or_fail(post: Post) -> bool:
    """Pure work, no savepoint needed: a failure only marks this post."""
    import detector.normalize as normalizer

    post.attempts += 1
    try:
        post.normalized_text = normalizer.normalize(f"{post.title}\n{post.text}" if post.title else post.text)
        post.normalized_sha256 = normalizer.text_hash(post.normalized_text)
        return True
    except Exception as exc:  # noqa: BLE001 - any error in a pure function is this input's fault
        _fail(post, "normalization", exc)
        return False


def _link_batch(session: Session, batch: list[Post], link, new_assigner, vectors) -> tuple[list[Post], set[int]]:
    """All posts in one savepoint; if that fails for a non-transient reason, again one by one."""
    edges: list[dict] = []
    try:
        with session.begin_nested():
            assigner = new_assigner()
            for post in batch:
                link(post, assigner, edges)
            store_edges(session, edges)  # one INSERT for the batch
            return batch, assigner.finish(vectors)
    except Exception as exc:
        if is_transient(exc):
            raise
    linked, touched = [], set()
    for post in batch:
        assigner, rows = new_assigner(), []

        def one(post=post, assigner=assigner, rows=rows) -> None:
            link(post, assigner, rows)
            store_edges(session, rows)
            touched.update(assigner.finish(vectors))

        if _guard(session, post, "near-duplicate linking", one):
            linked.append(post)
    return linked, touched


def _fail(post: Post, step: str, exc: BaseException) -> None:
    log.warning("post %s failed at %s: %s", post.id, step, exc)
    post.status, post.processed_at = "failed", utcnow()
    post.status_reason = f"{step} failed: {type(exc).__name__}: {str(exc)[:500]}"


def _embed(session: Session, posts: list[Post], deps: Deps) -> dict:
    """Vectors by normalized hash; if the batch fails, embed one by one so only bad texts fail."""
    from detector.embedding.cache import embed_cached

    texts = {p.normalized_sha256: p.normalized_text for p in posts}
    try:
        with session.begin_nested():
            return embed_cached(session, deps.embedder, texts)[0]
    except Exception as exc:
        if is_transient(exc):
            raise
        log.warning("batch embedding failed (%s); embedding posts one by one", type(exc).__name__)
    vectors = {}
    for post in posts:
        if post.normalized_sha256 not in vectors:
            _guard(session, post, "embedding", lambda post=post: vectors.update(
                embed_cached(session, deps.embedder, {post.normalized_sha256: post.normalized_text})[0]))
    return vectors


def _guard(session: Session, post: Post, step: str, action) -> bool:
    """Run one post's step in a savepoint; a non-transient error fails that post, with the reason."""
    try:
        with session.begin_nested():
            action()
        return True
    except Exception as exc:
        if is_transient(exc):
            raise
        _fail(post, step, exc)
        return False


def _claim(session: Session, post_ids: list[int], batch_size: int) -> list[Post]:
    """The given pending posts plus older pending ones up to ``batch_size``: a micro-batch.

    When producers send one post per message, each task still embeds and writes a whole batch, so
    throughput stays near the model's batch speed; the later messages for the posts taken here find
    them processed and return at once. On PostgreSQL, rows are locked with SKIP LOCKED so concurrent
    workers never take the same posts.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    wanted = select(Post).where(Post.id.in_(post_ids), Post.status == "pending").order_by(Post.id)
    if postgres:
        wanted = wanted.with_for_update(skip_locked=True)
    posts = list(session.scalars(wanted))
    room = batch_size - len(posts)
    if room > 0 and posts:
        extra = (select(Post).where(Post.status == "pending", Post.id.not_in([p.id for p in posts]),
                                    Post.id < max(p.id for p in posts))
                 .order_by(Post.id).limit(room))
        if postgres:
            extra = extra.with_for_update(skip_locked=True)
        posts.extend(session.scalars(extra))
    return posts


def mark_failed(session: Session, post_ids: list[int], reason: str) -> int:
    """Dead-letter posts whose processing kept failing, with the reason moderators will see."""
    result = session.execute(update(Post).where(Post.id.in_(post_ids), Post.status == "pending")
                             .values(status="failed", status_reason=reason[:2000]))
    return result.rowcount or 0


def stalled_post_ids(session: Session, *, older_than: timedelta, limit: int = 10_000) -> list[int]:
    """Posts still pending long after ingest: their processing message was lost or is stuck."""
    cutoff = utcnow() - older_than
    return list(session.scalars(select(Post.id).where(Post.status == "pending", Post.ingested_at < cutoff)
                                .order_by(Post.id).limit(limit)))
