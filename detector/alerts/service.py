"""Raising alerts from clusters, through the outbox.

``evaluate_cluster`` runs in the same transaction as the change that may have crossed a level
(online assignment or reclustering): the alert row and its delivery rows commit together with the
cluster change, and a separate task delivers them. So an alert is never lost between "detected"
and "sent", and never raised twice for one crossing.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from detector.alerts.delivery import mark_for_update
from detector.alerts.models import Alert, AlertDelivery
from detector.alerts.rules import ClusterFacts, level_reached, reason
from detector.db.base import utcnow
from detector.db.dialect import insert_for
from detector.embedding.cache import from_bytes
from detector.posts.models import Author, Post
from detector.settings import Settings
from detector.similarity.clusters import NEW_ACCOUNT_AGE
from detector.similarity.models import AllowlistEntry, Cluster, ClusterMember

SAMPLES = 5


def cluster_facts(session: Session, cluster: Cluster, growth_window: timedelta, now: datetime) -> ClusterFacts:
    growth = session.scalar(select(func.count()).select_from(ClusterMember).where(
        ClusterMember.cluster_id == cluster.id, ClusterMember.added_at >= now - growth_window))
    known, new = session.execute(
        select(func.count(func.distinct(Author.id)),
               func.count(func.distinct(case((Author.account_created_at >= now - NEW_ACCOUNT_AGE, Author.id)))))
        .join(Post, Post.author_id == Author.id).join(ClusterMember, ClusterMember.post_id == Post.id)
        .where(ClusterMember.cluster_id == cluster.id, Author.account_created_at.is_not(None))).one()
    return ClusterFacts(cluster.size, cluster.distinct_authors, growth or 0, (new / known) if known else None)


def active_allowlist(session: Session, cluster: Cluster, settings: Settings, now: datetime) -> AllowlistEntry | None:
    """The entry that covers this cluster: itself, or benign content whose centroid it resembles."""
    entries = session.scalars(select(AllowlistEntry).where(
        AllowlistEntry.content_type == cluster.content_type, AllowlistEntry.revoked_at.is_(None),
        (AllowlistEntry.expires_at.is_(None)) | (AllowlistEntry.expires_at > now))).all()
    centroid = from_bytes(cluster.centroid) if cluster.centroid else None
    for entry in entries:
        if entry.cluster_id == cluster.id:
            return entry
        if centroid is not None and entry.centroid:
            other = from_bytes(entry.centroid)
            if other.shape == centroid.shape and float(np.dot(centroid, other)) >= settings.allowlist_similarity:
                return entry
    return None


def summary_of(session: Session, cluster: Cluster, facts: ClusterFacts, rule_window: int, level: int,
               why: str) -> dict:
    samples = session.execute(
        select(Post.id, Post.external_id, Author.external_id, Post.text).join(ClusterMember, ClusterMember.post_id == Post.id)
        .outerjoin(Author, Author.id == Post.author_id).where(ClusterMember.cluster_id == cluster.id)
        .order_by(Post.created_at.desc()).limit(SAMPLES)).all()
    return {"content_type": cluster.content_type, "cluster_id": cluster.id, "size": facts.size,
            "distinct_authors": facts.distinct_authors, "growth": {"window_minutes": rule_window, "added": facts.growth},
            "new_account_share": facts.new_account_share, "rule": why, "level": level,
            "samples": [{"post_id": pid, "external_id": ext, "author": author, "text": text[:300]}
                        for pid, ext, author, text in samples]}


def evaluate_cluster(session: Session, cluster_id: int, settings: Settings, now: datetime | None = None) -> Alert | None:
    """Raise (or raise the level of) this cluster's alert if its rule says so. Returns a *new* alert only."""
    now = now or utcnow()
    cluster = session.get(Cluster, cluster_id)
    if cluster is None or cluster.status != "active":
        return None
    rule = settings.alert_rule(cluster.content_type)
    if cluster.size < min(rule.size_levels, default=1) or cluster.distinct_authors < rule.min_distinct_authors:
        return None  # the common case, decided without a query
    alerts = session.scalars(select(Alert).where(Alert.cluster_id == cluster.id).order_by(Alert.id.desc())).all()
    by_size = max(lv for lv in rule.size_levels if cluster.size >= lv)
    if alerts and by_size <= max(a.summary.get("level", 0) for a in alerts):
        return None  # this level was alerted already: no need to look at growth, accounts or allowlist
    latest = alerts[0] if alerts else None
    if latest and latest.snoozed_until and latest.snoozed_until > now:
        return None
    facts = cluster_facts(session, cluster, timedelta(minutes=rule.growth_window_minutes), now)
    level = level_reached(rule, facts)
    if level is None or active_allowlist(session, cluster, settings, now):
        return None
    summary = summary_of(session, cluster, facts, rule.growth_window_minutes, level, reason(rule, facts, level))
    if latest and latest.status == "open" and latest.created_at > now - timedelta(minutes=rule.dedupe_minutes):
        latest.summary, latest.updated_at = summary, now  # a quick second crossing: one alert, edited
        mark_for_update(session, latest.id)
        return None
    key = f"similarity:cluster:{cluster.id}:level:{level}"
    inserted = session.execute(insert_for(session, Alert).on_conflict_do_nothing(index_elements=["dedupe_key"])
                               .returning(Alert.id), [{
        "dedupe_key": key, "content_type": cluster.content_type, "path": "similarity", "cluster_id": cluster.id,
        "rule": "cluster_size", "summary": summary, "status": "open", "created_at": now, "updated_at": now}]).scalars().all()
    if not inserted:
        return None
    if settings.slack_bot_token and settings.slack_channel:
        session.add(AlertDelivery(alert_id=inserted[0], channel="slack", target=settings.slack_channel, status="pending"))
    return session.get(Alert, inserted[0])


def pending_deliveries(session: Session, limit: int = 500, *, now: datetime | None = None) -> list[int]:
    """Alert ids with a delivery due now (the sweeper re-dispatches these).

    A row whose ``next_attempt_at`` lies ahead is skipped: after a failure that is its backoff, while
    sending it is the sender's lease. Re-dispatching it early would start a second retry chain per
    alert on every sweep during a long Slack outage (still delivered once, but hammering Slack).
    """
    now = now or datetime.now(timezone.utc)
    return list(session.scalars(select(AlertDelivery.alert_id).where(
        AlertDelivery.status.in_(("pending", "sending", "update_pending", "updating")),
        or_(AlertDelivery.next_attempt_at.is_(None), AlertDelivery.next_attempt_at <= now))
        .distinct().limit(limit)))
