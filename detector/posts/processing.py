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
from detector.posts.models import Post


def process_posts(session: Session, post_ids: list[int]) -> list[int]:
    """Normalize pending posts and mark them processed. Returns the ids handled now."""
    from detector.normalize import normalize, text_hash

    posts = session.scalars(select(Post).where(Post.id.in_(post_ids), Post.status == "pending")
                            .order_by(Post.id)).all()
    now = utcnow()
    for post in posts:
        post.attempts += 1
        post.normalized_text = normalize(f"{post.title}\n{post.text}" if post.title else post.text)
        post.normalized_sha256 = text_hash(post.normalized_text)
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
