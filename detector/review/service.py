"""Recording moderators' decisions: the one domain function behind the admin UI, Slack and the CLI.

A decision is appended, never edited, and carries the effects it had (authors sanctioned, allowlist
entry created) so ``revert_decision`` undoes exactly those and is itself logged. Deciding the same
thing twice (a double click, a Slack retry) returns the existing decision.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from detector.alerts.models import Alert
from detector.audit.models import AuditLog
from detector.db.base import utcnow
from detector.posts.models import Author, Post
from detector.review.models import ModeratorDecision
from detector.similarity.models import AllowlistEntry, Cluster, ClusterMember

DECISIONS = ("confirm_abuse", "benign", "escalate")
SUBJECTS = ("alert", "cluster", "post", "author", "detection")
ALERT_STATUS = {"confirm_abuse": "confirmed", "benign": "benign", "escalate": "escalated"}


class DecisionError(ValueError):
    """The decision cannot be recorded as asked (unknown subject, bad value, nothing to revert)."""


def decisions_in_force(session: Session, subject_type: str, subject_ids=None,
                       since: datetime | None = None) -> dict[int, ModeratorDecision]:
    """Per subject, the decision in force: the newest one that is not a revert and was not reverted.

    ``subject_ids`` limits the subjects (None: all of that type); ``since`` only reads decisions made
    from then on. One query however many subjects (the queue and the metrics ask for hundreds).
    """
    stmt = select(ModeratorDecision).where(ModeratorDecision.subject_type == subject_type)
    if subject_ids is not None:
        stmt = stmt.where(ModeratorDecision.subject_id.in_(list(subject_ids)))
    if since is not None:
        stmt = stmt.where(ModeratorDecision.created_at >= since)
    rows = session.scalars(stmt.order_by(ModeratorDecision.id.desc())).all()
    reverted = {r.reverts_id for r in rows if r.reverts_id}
    out: dict[int, ModeratorDecision] = {}
    for row in rows:
        if row.decision != "revert" and row.id not in reverted:
            out.setdefault(row.subject_id, row)
    return out


def latest_decision(session: Session, subject_type: str, subject_id: int) -> ModeratorDecision | None:
    """The decision in force on one subject (see ``decisions_in_force``)."""
    return decisions_in_force(session, subject_type, [subject_id]).get(subject_id)


def record_decision(session: Session, *, subject_type: str, subject_id: int, decision: str, moderator: str,
                    note: str | None = None, source: str = "admin_ui", allowlist_days: int = 30) -> ModeratorDecision:
    if subject_type not in SUBJECTS:
        raise DecisionError(f"unknown subject type {subject_type!r}")
    if decision not in DECISIONS:
        raise DecisionError(f"unknown decision {decision!r}; one of {', '.join(DECISIONS)}")
    if not moderator or len(moderator) > 128:
        raise DecisionError("a decision needs the moderator's name (at most 128 characters)")
    current = latest_decision(session, subject_type, subject_id)
    if current is not None and current.decision == decision:
        return current
    effects = _apply(session, subject_type, subject_id, decision, allowlist_days, moderator)
    row = ModeratorDecision(subject_type=subject_type, subject_id=subject_id, decision=decision,
                            moderator=moderator, note=(note or None) and note[:2000], source=source, effects=effects)
    session.add(row)
    session.flush()
    session.add(AuditLog(actor=moderator, action=f"decision.{decision}", subject_type=subject_type,
                         subject_id=subject_id, details={"decision_id": row.id, "source": source, **effects}))
    return row


def revert_decision(session: Session, decision_id: int, *, moderator: str, source: str = "admin_ui") -> ModeratorDecision:
    original = session.get(ModeratorDecision, decision_id)
    if original is None or original.decision == "revert":
        raise DecisionError(f"no decision {decision_id} to revert")
    if session.scalar(select(ModeratorDecision.id).where(ModeratorDecision.reverts_id == decision_id)):
        raise DecisionError(f"decision {decision_id} is already reverted")
    effects = original.effects or {}
    now = utcnow()
    if effects.get("sanctioned_author_ids"):
        session.execute(update(Author).where(Author.id.in_(effects["sanctioned_author_ids"]))
                        .values(status="active", sanctioned_at=None))
    if effects.get("allowlist_id"):
        session.execute(update(AllowlistEntry).where(AllowlistEntry.id == effects["allowlist_id"])
                        .values(revoked_at=now))
    for alert_id in effects.get("alert_ids", []):
        session.execute(update(Alert).where(Alert.id == alert_id).values(status="open", updated_at=now))
    row = ModeratorDecision(subject_type=original.subject_type, subject_id=original.subject_id, decision="revert",
                            moderator=moderator, reverts_id=original.id, source=source, effects={})
    session.add(row)
    session.flush()
    session.add(AuditLog(actor=moderator, action="decision.revert", subject_type=original.subject_type,
                         subject_id=original.subject_id, details={"decision_id": row.id, "reverts": original.id}))
    return row


def _apply(session: Session, subject_type: str, subject_id: int, decision: str, allowlist_days: int,
           moderator: str) -> dict:
    effects: dict = {}
    cluster_id = None
    if subject_type == "alert":
        alert = session.get(Alert, subject_id)
        if alert is None:
            raise DecisionError(f"no alert {subject_id}")
        alert.status, alert.updated_at = ALERT_STATUS[decision], utcnow()
        effects["alert_ids"] = [alert.id]
        cluster_id = alert.cluster_id
        if cluster_id is None and alert.post_id and decision == "confirm_abuse":
            effects["sanctioned_author_ids"] = _sanction(session, select(Post.author_id).where(Post.id == alert.post_id))
    elif subject_type == "cluster":
        if session.get(Cluster, subject_id) is None:
            raise DecisionError(f"no cluster {subject_id}")
        cluster_id = subject_id
    elif subject_type == "detection" and decision == "confirm_abuse":
        from detector.review.models import Detection

        detection = session.get(Detection, subject_id)
        if detection is None:
            raise DecisionError(f"no detection {subject_id}")
        if detection.post_id is not None:  # an LLM verdict confirmed: its author is a professional seller
            effects["sanctioned_author_ids"] = _sanction(session, select(Post.author_id).where(
                Post.id == detection.post_id))
    elif subject_type == "post" and decision == "confirm_abuse":
        effects["sanctioned_author_ids"] = _sanction(session, select(Post.author_id).where(Post.id == subject_id))
    elif subject_type == "author" and decision == "confirm_abuse":
        effects["sanctioned_author_ids"] = _sanction(session, select(Author.id).where(Author.id == subject_id))
    if cluster_id is not None:
        if decision == "confirm_abuse":
            effects["sanctioned_author_ids"] = _sanction(session, select(Post.author_id).join(
                ClusterMember, ClusterMember.post_id == Post.id).where(ClusterMember.cluster_id == cluster_id))
        elif decision == "benign":
            cluster = session.get(Cluster, cluster_id)
            entry = AllowlistEntry(content_type=cluster.content_type, cluster_id=cluster.id, centroid=cluster.centroid,
                                   reason="marked benign by a moderator", created_by=moderator,
                                   expires_at=utcnow() + timedelta(days=allowlist_days))
            session.add(entry)
            session.flush()
            effects["allowlist_id"] = entry.id
    return effects


def _sanction(session: Session, author_ids_query) -> list[int]:
    """Sanction the authors not yet sanctioned; return exactly those (for a precise revert)."""
    ids = [i for i in session.scalars(author_ids_query).all() if i is not None]
    fresh = list(session.scalars(select(Author.id).where(Author.id.in_(ids), Author.status != "sanctioned")))
    if fresh:
        session.execute(update(Author).where(Author.id.in_(fresh)).values(status="sanctioned", sanctioned_at=utcnow()))
    return sorted(fresh)
