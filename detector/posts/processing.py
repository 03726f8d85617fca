"""The per-post pipeline spine: what happens to an accepted post, in batches of ids.

Every step is idempotent (it skips posts already past it), so Celery's at-least-once delivery and
the sweeper's re-dispatch never do work twice. Later stages (embedding, neighbours, clusters,
LLM) hook in here; a post ends ``processed`` or ``failed`` with a reason, never silently pending.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from detector.db.base import utcnow
from detector.deps import Deps
from detector.posts.models import Post
from detector.similarity.clusters import assign
from detector.similarity.index_sync import record_for
from detector.similarity.neighbours import find_neighbours, store_edges


def process_posts(session: Session, post_ids: list[int], deps: Deps) -> list[int]:
    """Normalize, embed (cached), index, link near-duplicates and assign clusters; mark processed.

    Returns the ids handled now. The batch is upserted into the index before its posts look for
    neighbours, so posts of one campaign arriving in the same batch find each other.
    """
    from detector.embedding.cache import embed_cached
    from detector.normalize import normalize, text_hash

    posts = session.scalars(select(Post).where(Post.id.in_(post_ids), Post.status == "pending")
                            .order_by(Post.id)).all()
    if not posts:
        return []
    for post in posts:
        post.attempts += 1
        post.normalized_text = normalize(f"{post.title}\n{post.text}" if post.title else post.text)
        post.normalized_sha256 = text_hash(post.normalized_text)
    vectors, _computed = embed_cached(session, deps.embedder, {p.normalized_sha256: p.normalized_text for p in posts})
    settings = deps.settings
    window = timedelta(days=settings.near_duplicate_window_days)
    for namespace in sorted({p.content_type for p in posts}):
        batch = [p for p in posts if p.content_type == namespace]
        deps.index.catch_up(session, namespace)
        deps.index.add(namespace, [record_for(p.id, p.author_id, p.created_at, vectors[p.normalized_sha256])
                                   for p in batch])
        for post in batch:
            neighbours = find_neighbours(deps.index.index, namespace, post.id, vectors[post.normalized_sha256],
                                         post.created_at, k=settings.neighbours_k,
                                         threshold=settings.near_duplicate_threshold, window=window)
            store_edges(session, namespace, post.id, post.author_id, neighbours)
            assign(session, namespace, post.id, neighbours)
    now = utcnow()
    for post in posts:
        post.status, post.status_reason, post.processed_at = "processed", None, now
    return [p.id for p in posts]


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
