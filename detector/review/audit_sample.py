"""The random audit sample: recent posts that no path flagged, queued for a moderator to judge.

Without it, recall could only be measured against the sellers some path (or a user) already found,
and the sellers every path misses would never enter the denominator. Each day, per content type, a
few posts are drawn at random from the processed posts of the last day that nothing flagged:

- not in a cluster that raised an alert and not the post of an alert;
- no detection of any path said "professional seller" about them;
- not already reported or audited, and not by an account that is already sanctioned.

Each becomes a ``Detection(path="audit", mode="audit", is_positive=False)``: ``is_positive`` stays
False because no path called it a seller; the moderator's decision is the verdict. A confirmed item
sanctions the author (like any confirmed detection), so it counts in recall as an account no path
caught, and the decided items give the missed rate (``detector.metrics.service``).

The draw is bounded per UTC day (``per_day`` per content type, counting what was already drawn that
day, so an hourly task, a retry or a redelivery adds nothing once the day's quota is met),
idempotent per post (``dedupe_key = "audit:<post id>"``) and reproducible: the random generator is
seeded from the day and the content type unless a seed is given.
"""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from detector.alerts.models import Alert
from detector.db.dialect import insert_for
from detector.posts.models import Author, Post
from detector.review.models import Detection
from detector.review.queue import for_review
from detector.similarity.models import ClusterMember

AUDIT_PATH = "audit"
AUDIT_REASON = "random audit sample of unflagged posts; decide whether this is a professional seller"
MAX_CANDIDATES = 200_000  # ids read per content type and day; the sample is drawn among these


def unflagged_posts(session: Session, content_type: str, start: datetime, end: datetime) -> list[int]:
    """Ids of processed posts ingested in [start, end) that nothing flagged (see the module docstring)."""
    alerted_clusters = select(Alert.cluster_id).where(Alert.cluster_id.is_not(None))
    query = (select(Post.id).outerjoin(Author, Author.id == Post.author_id)
             .where(Post.content_type == content_type, Post.status == "processed",
                    Post.ingested_at >= start, Post.ingested_at < end,
                    func.coalesce(Author.status, "active") != "sanctioned",
                    ~exists().where(ClusterMember.post_id == Post.id,
                                    ClusterMember.cluster_id.in_(alerted_clusters)),
                    ~exists().where(Alert.post_id == Post.id),
                    ~exists().where(Detection.post_id == Post.id, for_review())))
    return list(session.scalars(query.order_by(Post.id).limit(MAX_CANDIDATES)))


def draw_audit_sample(session: Session, *, per_day: int, now: datetime | None = None,
                      lookback: timedelta = timedelta(days=1), settle: timedelta = timedelta(hours=1),
                      content_types=None, seed: int | None = None) -> list[int]:
    """Queue up to ``per_day`` audit items per content type for today (UTC); return the new detection ids.

    Candidates are posts ingested between ``now - lookback - settle`` and ``now - settle``: the
    settling time lets the LLM path and the reclustering have their say before a post counts as
    unflagged. ``per_day <= 0`` disables the sample.
    """
    if per_day <= 0:
        return []
    now = now or datetime.now(timezone.utc)
    day_start = datetime.combine(now.astimezone(timezone.utc).date(), time(0), tzinfo=timezone.utc)
    end = now - settle
    if content_types is None:
        content_types = session.scalars(select(Post.content_type).distinct().where(
            Post.ingested_at >= end - lookback, Post.ingested_at < end)).all()
    created: list[int] = []
    for content_type in sorted(content_types):
        drawn_today = session.scalar(select(func.count()).select_from(Detection).where(
            Detection.path == AUDIT_PATH, Detection.content_type == content_type,
            Detection.created_at >= day_start)) or 0
        budget = per_day - drawn_today
        if budget <= 0:
            continue
        candidates = unflagged_posts(session, content_type, end - lookback, end)
        rng = random.Random(seed if seed is not None else f"{day_start:%Y-%m-%d}:{content_type}")
        chosen = rng.sample(candidates, min(budget, len(candidates)))
        for post_id in sorted(chosen):
            created += session.scalars(insert_for(session, Detection).values(
                dedupe_key=f"audit:{post_id}", content_type=content_type, path=AUDIT_PATH, mode="audit",
                post_id=post_id, is_positive=False, reason=AUDIT_REASON, created_at=now,
            ).on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(Detection.id)).all()
    session.flush()
    return sorted(created)
