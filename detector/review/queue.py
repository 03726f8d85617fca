"""The moderators' review queue: open work from every source, one plain dict per item.

Alerts (a cluster or a post, with their own status), and detections: positive verdicts of any path,
users' reports and random audit samples (``SOURCES``), whose status comes
from the decision in force on them. The admin UI reads it through ``admin_ui.data``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from detector.alerts.models import Alert
from detector.posts.models import Author, Post
from detector.review.models import Detection, ModeratorDecision
from detector.review.service import decisions_in_force
from detector.similarity.models import Cluster, ClusterMember

SOURCES = ("report", "audit")  # review inputs from outside the detection paths (reported, audited posts)
STATUS_OF = {"confirm_abuse": "confirmed", "benign": "benign", "escalate": "escalated"}


def for_review():
    """Detections that are review items: a path's "professional seller" verdict, a report, an audit sample."""
    return or_(Detection.is_positive.is_(True), Detection.path.in_(SOURCES))


def _dict(obj, *fields: str) -> dict:
    return {f: getattr(obj, f) for f in fields}


def fresh_authors(s: Session, cluster_ids) -> dict[int, int]:
    """Per cluster, how many of its authors a 'confirm abuse' would sanction now."""
    query = (select(ClusterMember.cluster_id, func.count(func.distinct(Post.author_id)))
             .join(Post, Post.id == ClusterMember.post_id).join(Author, Author.id == Post.author_id)
             .where(ClusterMember.cluster_id.in_(list(cluster_ids)), Author.status != "sanctioned"))
    return dict(s.execute(query.group_by(ClusterMember.cluster_id)).all())


def list_queue(s: Session, *, content_types=None, paths=None, statuses=("open",), since: datetime | None = None,
               until: datetime | None = None, sort: str = "newest", limit: int = 100) -> list[dict]:
    """Alerts; positive detections, users' reports and audit samples (status from their decisions)."""
    q = (select(Alert, Cluster.size, Cluster.distinct_authors).where(Alert.status.in_(list(statuses)))
         .outerjoin(Cluster, Cluster.id == Alert.cluster_id))
    dq = (select(Detection, Post.text).join(Post, Post.id == Detection.post_id)
          .where(for_review()))
    for a_col, d_col, wanted in ((Alert.content_type, Detection.content_type, content_types),
                                 (Alert.path, Detection.path, paths)):
        if wanted:
            q, dq = q.where(a_col.in_(list(wanted))), dq.where(d_col.in_(list(wanted)))
    if since is not None:
        q, dq = q.where(Alert.created_at >= since), dq.where(Detection.created_at >= since)
    if until is not None:
        q, dq = q.where(Alert.created_at < until), dq.where(Detection.created_at < until)
    order = func.coalesce(Cluster.size, 1).desc() if sort == "largest" else Alert.created_at.desc()
    items = _alert_items(s, s.execute(q.order_by(order, Alert.id.desc()).limit(limit)).all())
    items += _detection_items(s, dq, statuses, limit)
    key = (lambda i: (i["size"], i["created_at"])) if sort == "largest" else (lambda i: i["created_at"])
    return sorted(items, key=key, reverse=True)[:limit]


def _detection_items(s: Session, dq, statuses, limit: int) -> list[dict]:
    """Detections with a wanted status, filtered in SQL before the limit (decided ones cannot crowd out
    open work): the status is that of the newest decision that is neither a revert nor reverted."""
    d, r = aliased(ModeratorDecision), aliased(ModeratorDecision)
    live = (select(func.max(d.id)).where(d.subject_type == "detection", d.subject_id == Detection.id,
                                         d.decision != "revert", ~exists().where(r.reverts_id == d.id))
            .correlate(Detection).scalar_subquery())
    current = select(ModeratorDecision.decision).where(ModeratorDecision.id == live).scalar_subquery()
    wanted = current.in_([k for k, v in STATUS_OF.items() if v in statuses])
    dq = dq.where(or_(wanted, live.is_(None)) if "open" in statuses else wanted)
    rows = s.execute(dq.order_by(Detection.created_at.desc()).limit(limit)).all()
    decided = decisions_in_force(s, "detection", [det.id for det, _ in rows])
    unsanctioned = set(s.scalars(select(Post.id).join(Author, Author.id == Post.author_id).where(
        Post.id.in_([d.post_id for d, _ in rows if d.post_id]), Author.status != "sanctioned")))
    fields = ("id", "content_type", "path", "created_at", "cluster_id", "post_id", "score")
    return [{"kind": "detection", **_dict(det, *fields),
             "status": STATUS_OF[d.decision] if d else "open", "size": 1, "distinct_authors": 1, "growth": {},
             "new_account_share": None, "rule": det.reason, "sample": text,
             "to_sanction": int(det.post_id in unsanctioned), "decision_id": d and d.id,
             "decided_by": d and d.moderator}
            for det, text in rows for d in [decided.get(det.id)]]


def _alert_items(s: Session, rows) -> list[dict]:
    fresh = fresh_authors(s, {a.cluster_id for a, *_ in rows if a.cluster_id})
    done_posts = set(s.scalars(select(Post.id).join(Author, Author.id == Post.author_id).where(
        Post.id.in_([a.post_id for a, *_ in rows if a.post_id]), Author.status == "sanctioned")))
    decided = decisions_in_force(s, "alert", [a.id for a, *_ in rows])
    items = []
    for alert, size, authors in rows:
        summary, d = alert.summary or {}, decided.get(alert.id)
        to_sanction = (fresh.get(alert.cluster_id, 0) if alert.cluster_id
                       else int(alert.post_id is not None and alert.post_id not in done_posts))
        items.append({"kind": "alert", **_dict(alert, "id", "content_type", "path", "status", "created_at",
                                                "cluster_id", "post_id"),
                      "size": size or summary.get("size") or 1, "score": None,
                      "distinct_authors": authors or summary.get("distinct_authors") or 1,
                      "growth": summary.get("growth") or {},
                      "new_account_share": summary.get("new_account_share"),
                      "rule": summary.get("rule") or alert.rule, "to_sanction": to_sanction,
                      "sample": str(((summary.get("samples") or [{}])[0]).get("text") or ""),
                      "decision_id": d and d.id, "decided_by": d and d.moderator})
    return items
